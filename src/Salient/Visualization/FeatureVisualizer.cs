using System.Diagnostics;
using System.Runtime.CompilerServices;
using Salient.Autodiff;
using Salient.Imaging;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Visualization;

/// <summary>Options of one <see cref="FeatureVisualizer.Run"/>.</summary>
public sealed record VisualizationOptions
{
    public VisualizationPreset Preset { get; init; } = VisualizationPresets.Default;
    /// <summary>Optimization steps (default: the preset's).</summary>
    public int? Steps { get; init; }
    /// <summary>
    /// Size of the synthesized image (default: the model's input size). A model with a dynamic
    /// spatial input runs at this size; a fixed-size model sees the image resampled to its input.
    /// </summary>
    public (int Width, int Height)? Size { get; init; }
    /// <summary>Seed of the start noise and of the random transforms (same seed, same images).</summary>
    public int Seed { get; init; }
    /// <summary>Start from this image (fitted to the size like the predict path) instead of noise.</summary>
    public RgbImage? Start { get; init; }
    /// <summary>Weight of the diversity term between the images of a batch (0: off).</summary>
    public float Diversity { get; init; }
    /// <summary>Layer whose Gram matrices the diversity term compares (default: the units' layer, else a middle layer).</summary>
    public string? DiversityLayer { get; init; }
    /// <summary>Images optimized together (one engine call per step for all of them).</summary>
    public int BatchSize { get; init; } = 16;
}

/// <summary>
/// One synthesized image: <c>Value</c> is the objective of the returned image (a plain forward pass,
/// no random transform); <c>Trace</c> the objective at every step (under that step's transform, if any).
/// </summary>
public sealed record VisualizationResult(Objective Objective, RgbImage Image, float Value, IReadOnlyList<float> Trace);

/// <summary>
/// Progress after one step of one batch: <c>Values</c> holds the objective per image of the batch
/// (units FirstUnit … FirstUnit + Values.Count − 1 of TotalUnits); <c>Diversity</c> the diversity term.
/// </summary>
public sealed record VisualizationProgress(int Step, int Steps, int FirstUnit, int TotalUnits, IReadOnlyList<float> Values, double Diversity);

/// <summary>
/// Activation maximization: synthesizes images that maximize objectives (<see cref="Objective"/>) of
/// a model, in pixel space through the model's own preprocessing (pixels stay in [0, 255]), with the
/// DeepVis regularizers (Yosinski et al. 2015) or the lucid recipe (Olah et al. 2017); see
/// docs/deepvis.md. Several objectives are optimized as one batch: each step is one call of the
/// gradient engine per distinct score tensor (one call when every objective reads the same tensor).
/// </summary>
public sealed class FeatureVisualizer
{
    private readonly SalientModel _model;

    public FeatureVisualizer(SalientModel model)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
    }

    /// <summary>Synthesizes one image per objective.</summary>
    public IReadOnlyList<VisualizationResult> Run(IReadOnlyList<Objective> objectives, VisualizationOptions? options = null,
        IProgress<VisualizationProgress>? progress = null, CancellationToken cancellation = default)
    {
        options ??= new VisualizationOptions();
        if (objectives.Count == 0) throw new SalientException("nothing to visualize");
        var plan = Plan.Create(_model, objectives, options);
        var results = new List<VisualizationResult>(objectives.Count);
        int batch = plan.BatchSize;
        for (int first = 0; first < objectives.Count; first += batch)
        {
            int count = Math.Min(batch, objectives.Count - first);
            var units = Enumerable.Range(first, count).ToArray();
            var run = new BatchRun(_model, plan, options, units, objectives, progress, cancellation);
            results.AddRange(run.Execute());
        }
        return results;
    }

    /// <summary>Everything that does not change between batches.</summary>
    internal sealed class Plan
    {
        public required int Steps { get; init; }
        public required int Width { get; init; }
        public required int Height { get; init; }
        public required int ModelWidth { get; init; }
        public required int ModelHeight { get; init; }
        public required ModelStructure Structure { get; init; }
        public required IReadOnlyList<ResolvedTerm>[] Terms { get; init; }
        public required float[] Neutral { get; init; }
        public required int BatchSize { get; init; }
        public required bool PadBatch { get; init; }
        public ResolvedTerm? DiversityLayer { get; init; }

        public static Plan Create(SalientModel model, IReadOnlyList<Objective> objectives, VisualizationOptions options)
        {
            var preset = options.Preset ?? throw new SalientException("no preset");
            if (preset.DeepVis is null == preset.Lucid is null) throw new SalientException($"preset '{preset.Name}' must have exactly one of DeepVis or lucid settings");
            int steps = options.Steps ?? preset.Steps;
            if (steps < 1) throw new SalientException($"--steps must be at least 1 (got {steps})");
            if (model.Input.Channels is not (1 or 3)) throw new SalientException($"the model input has {model.Input.Channels} channels; visualization needs 1 or 3");
            var (w, h) = options.Size ?? model.InputSize;
            if (w < 8 || h < 8 || w > 4096 || h > 4096) throw new SalientException($"--size {w}x{h} must be between 8 and 4096 pixels per side");
            int mw = model.InputSize.Width, mh = model.InputSize.Height;
            ModelStructure structure;
            if (model.Input.DynamicSpatial && options.Size is not null)
            {
                (mw, mh) = (w, h);
                structure = model.Structure(h, w);
            }
            else structure = model.Structure();
            var terms = objectives.Select(o => ResolvedTerm.Resolve(o, structure)).ToArray();
            ResolvedTerm? diversity = null;
            if (options.Diversity != 0 && objectives.Count > 1)
            {
                string? name = options.DiversityLayer
                    ?? terms.SelectMany(t => t).FirstOrDefault(t => t.Height * t.Width > 1)?.Tensor
                    ?? MiddleLayer(structure);
                if (name is null) throw new SalientException("no spatial layer for the diversity term; name one with --diversity-layer");
                var (layer, channels, lh, lw) = ResolvedTerm.Layer(structure, name);
                diversity = new ResolvedTerm(layer.Name, layer.Layout, channels, lh, lw, 0, 0, 0, true, 1f);
            }
            int batch = Math.Max(1, options.BatchSize);
            bool pad = false;
            if (!model.Input.DynamicBatch)
            {
                batch = model.Input.FixedBatch;
                pad = true;
            }
            return new Plan
            {
                Steps = steps, Width = w, Height = h, ModelWidth = mw, ModelHeight = mh, Structure = structure, Terms = terms,
                Neutral = NeutralColor(model.Preprocessing, model.Input.Channels), BatchSize = batch, PadBatch = pad, DiversityLayer = diversity,
            };
        }

        /// <summary>The spatial layer halfway along the list of spatial layers feeding the logits.</summary>
        private static string? MiddleLayer(ModelStructure s)
        {
            var spatial = s.Layers.Where(l => l.IsCandidate).ToList();
            return spatial.Count == 0 ? null : spatial[spatial.Count / 2].Name;
        }
    }

    /// <summary>
    /// The RGB pixel values that the preprocessing maps to zero (the "mean image" of DeepVis): the
    /// decay and clipping regularizers pull pixels towards it. Falls back to mid-gray (127.5) when
    /// that value lies outside (0, 255), e.g. for "raw" preprocessing whose zero is black.
    /// </summary>
    public static float[] NeutralColor(Preprocessing pp, int channels)
    {
        var rgb = new float[3];
        for (int k = 0; k < 3; k++)
        {
            int c = channels == 1 ? 0 : pp.Bgr ? 2 - k : k;
            float v = pp.MeanOf(c) / pp.Scale;
            rgb[k] = v > 0 && v < 255 ? v : 127.5f;
        }
        return rgb;
    }

    /// <summary>One batch of objectives optimized together.</summary>
    private sealed class BatchRun
    {
        private readonly SalientModel _model;
        private readonly Plan _plan;
        private readonly VisualizationOptions _options;
        private readonly int[] _units;
        private readonly IReadOnlyList<Objective> _objectives;
        private readonly IProgress<VisualizationProgress>? _progress;
        private readonly CancellationToken _cancel;
        private readonly int _b;          // batch size fed to the model (padded for fixed-batch models)
        private readonly int _real;       // real items
        private readonly IReadOnlyList<ResolvedTerm>[] _terms;
        private readonly string[] _tensors;
        private readonly Random _rng;
        private readonly List<float>[] _trace;

        public BatchRun(SalientModel model, Plan plan, VisualizationOptions options, int[] units, IReadOnlyList<Objective> objectives,
            IProgress<VisualizationProgress>? progress, CancellationToken cancel)
        {
            _model = model;
            _plan = plan;
            _options = options;
            _units = units;
            _objectives = objectives;
            _progress = progress;
            _cancel = cancel;
            _real = units.Length;
            _b = plan.PadBatch ? plan.BatchSize : _real;
            _terms = Enumerable.Range(0, _b).Select(i => plan.Terms[units[Math.Min(i, _real - 1)]]).ToArray();
            var tensors = _terms.SelectMany(t => t).Select(t => t.Tensor).ToList();
            if (plan.DiversityLayer is { } d && _real > 1) tensors.Add(d.Tensor);
            _tensors = tensors.Distinct().ToArray();
            _rng = new Random(SeedMix.Of(options.Seed, units[0], 0x5a17));
            _trace = Enumerable.Range(0, _real).Select(_ => new List<float>()).ToArray();
        }

        private int W => _plan.Width;
        private int H => _plan.Height;
        private int Plane => W * H;

        public IReadOnlyList<VisualizationResult> Execute()
        {
            var preset = _options.Preset;
            float[][] pixels = preset.DeepVis is { } dv ? RunDeepVis(dv) : RunLucid(preset.Lucid!);
            // The final objective, without random transforms.
            var warps = Enumerable.Range(0, _b).Select(_ => BaseWarp()).ToArray();
            var values = Evaluate(pixels, warps);
            var results = new List<VisualizationResult>(_real);
            for (int i = 0; i < _real; i++)
                results.Add(new VisualizationResult(_objectives[_units[i]], ToImage(pixels[i]), values[i], _trace[i]));
            return results;
        }

        private Warp BaseWarp() => Warp.Resize(W, H, _plan.ModelWidth, _plan.ModelHeight);

        // ---------------------------------------------------------------- DeepVis (pixel space)

        private float[][] RunDeepVis(DeepVisSettings s)
        {
            var neutral = _plan.Neutral;
            var x = new float[_b][];
            for (int i = 0; i < _b; i++) x[i] = StartDeepVis(i, s);
            var pixels = new float[_b][];
            for (int i = 0; i < _b; i++) pixels[i] = new float[3 * Plane];
            int steps = _plan.Steps;
            for (int step = 0; step < steps; step++)
            {
                _cancel.ThrowIfCancellationRequested();
                for (int i = 0; i < _b; i++) ToPixels(x[i], pixels[i]);
                var warps = new Warp[_b];
                for (int i = 0; i < _b; i++) warps[i] = s.Jitter > 0 ? JitterWarp(s.Jitter) : BaseWarp();
                var (values, grads, div) = Gradient(pixels, warps);
                Record(step, values, div);
                int current = step;
                Parallel.For(0, _b, i => UpdateDeepVis(x[i], grads[i], s, current));
            }
            for (int i = 0; i < _b; i++) ToPixels(x[i], pixels[i]);
            return pixels;
        }

        /// <summary>x ← r_θ(x + η·∇): the step, then decay, blur (every θ_b_every steps), the two clippings, and the valid pixel range.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void UpdateDeepVis(float[] xi, float[] g, DeepVisSettings s, int step)
        {
            var neutral = _plan.Neutral;
            float lr = s.LearningRate;
            if (s.Policy != LearningRatePolicy.Constant)
            {
                double n2 = 0;
                foreach (var v in g) n2 += (double)v * v;
                lr = n2 <= 0 ? 0f : s.Policy == LearningRatePolicy.Progress
                    ? (float)Math.Min(s.LearningRate, s.DesiredProgress / n2)
                    : (float)(s.LearningRate / Math.Sqrt(n2 / g.Length));
            }
            for (int k = 0; k < xi.Length; k++) xi[k] += lr * g[k];
            Regularizers.Decay(xi, s.Decay);
            if (s.BlurEvery > 0 && s.BlurWidth > 0 && (step + 1) % s.BlurEvery == 0) Blur.Gaussian(xi, H, W, s.BlurWidth);
            Regularizers.ClipSmallNorm(xi, 3, H, W, s.NormPercentile);
            Regularizers.ClipSmallContribution(xi, g, 3, H, W, s.ContributionPercentile);
            for (int c = 0; c < 3; c++)
            {
                float lo = -neutral[c], hi = 255f - neutral[c];
                var p = xi.AsSpan(c * Plane, Plane);
                for (int k = 0; k < p.Length; k++) p[k] = Math.Clamp(p[k], lo, hi);
            }
        }

        private float[] StartDeepVis(int item, DeepVisSettings s)
        {
            var neutral = _plan.Neutral;
            var x = new float[3 * Plane];
            if (_options.Start is { } start)
            {
                var px = StartPixels(start);
                for (int c = 0; c < 3; c++)
                    for (int k = 0; k < Plane; k++) x[c * Plane + k] = px[c * Plane + k] - neutral[c];
                return x;
            }
            var rng = new Random(SeedMix.Of(_options.Seed, _units[Math.Min(item, _real - 1)]));
            for (int c = 0; c < 3; c++)
                for (int k = 0; k < Plane; k++)
                    x[c * Plane + k] = Math.Clamp(s.StartNoise * Noise.Gaussian(rng), -neutral[c], 255f - neutral[c]);
            return x;
        }

        private void ToPixels(float[] x, float[] pixels)
        {
            var neutral = _plan.Neutral;
            for (int c = 0; c < 3; c++)
            {
                float n = neutral[c];
                for (int k = 0; k < Plane; k++) pixels[c * Plane + k] = Math.Clamp(x[c * Plane + k] + n, 0f, 255f);
            }
        }

        private float[] StartPixels(RgbImage start)
        {
            var fitted = Preprocessor.Fit(start, W, H, _model.Resize, out _);
            var px = new float[3 * Plane];
            var d = fitted.Data;
            for (int k = 0; k < Plane; k++)
                for (int c = 0; c < 3; c++) px[c * Plane + k] = Math.Clamp(d[3 * k + c], 0f, 255f);
            return px;
        }

        private Warp JitterWarp(int jitter)
        {
            int dx = _rng.Next(-jitter, jitter + 1), dy = _rng.Next(-jitter, jitter + 1);
            return new Warp(W, H, _plan.ModelWidth, _plan.ModelHeight, W, H, 0, dx, dy);
        }

        // ---------------------------------------------------------------- lucid (Fourier, Adam, transforms)

        private float[][] RunLucid(LucidSettings s)
        {
            var fourier = new FourierImage(_b, W, H, s.FourierDecay, s.Amplitude, s.Decorrelate);
            for (int i = 0; i < _b; i++) fourier.InitializeRandom(i, SeedMix.Of(_options.Seed, _units[Math.Min(i, _real - 1)]), s.StartNoise);
            if (_options.Start is { } start)
            {
                var px = StartPixels(start);
                for (int i = 0; i < _b; i++) fourier.SetImage(i, px);
            }
            var adam = new Adam(fourier.Coefficients, s.LearningRate);
            int steps = _plan.Steps;
            for (int step = 0; step < steps; step++)
            {
                _cancel.ThrowIfCancellationRequested();
                var pixels = fourier.Render();
                var warps = new Warp[_b];
                for (int i = 0; i < _b; i++) warps[i] = LucidWarp(s);
                var (values, grads, div) = Gradient(pixels, warps);
                Record(step, values, div);
                if (s.TvWeight != 0 || s.LpWeight != 0)
                    Parallel.For(0, 3 * _b, q => AddPenaltyGradient(pixels[q / 3], grads[q / 3], q % 3, s));
                var cg = fourier.Backward(grads, pixels);
                adam.Ascend(cg);
            }
            return fourier.Render();
        }

        /// <summary>
        /// Penalties on the [0, 1] image: objective − w·P(p/255) ⇒ the pixel gradient gets −(w/255)·P′,
        /// for one colour channel of one image.
        /// </summary>
        private void AddPenaltyGradient(float[] pixels, float[] grad, int c, LucidSettings s) =>
            Regularizers.SubtractPenaltyGradient(pixels.AsSpan(c * Plane, Plane), grad.AsSpan(c * Plane, Plane), H, W,
                s.TvWeight, s.TvBeta, s.LpWeight, s.LpPower);

        private Warp LucidWarp(LucidSettings s)
        {
            float scale = s.Scales.Count == 0 ? 1f : s.Scales[_rng.Next(s.Scales.Count)];
            int angle = s.MaxRotation > 0 ? _rng.Next(-s.MaxRotation, s.MaxRotation + 1) : 0;
            double Shift(int j) => j > 0 ? _rng.Next(0, j + 1) - j / 2.0 : 0;
            double dx = Shift(s.Jitter) + Shift(s.FinalJitter), dy = Shift(s.Jitter) + Shift(s.FinalJitter);
            double extra = 2.0 * s.Pad - s.Jitter - s.FinalJitter;
            double vw = (W + extra) / scale, vh = (H + extra) / scale;
            return new Warp(W, H, _plan.ModelWidth, _plan.ModelHeight, vw, vh, angle, dx, dy);
        }

        // ---------------------------------------------------------------- shared: model input, engine, gradients

        private void Record(int step, float[] values, double diversity)
        {
            for (int i = 0; i < _real; i++) _trace[i].Add(values[i]);
            _progress?.Report(new VisualizationProgress(step + 1, _plan.Steps, _units[0], _plan.Terms.Length, values.Take(_real).ToArray(), diversity));
        }

        /// <summary>The model input for every item's pixels seen through its warp.</summary>
        private InputValue BuildInput(float[][] pixels, Warp[] warps)
        {
            int mw = _plan.ModelWidth, mh = _plan.ModelHeight, mp = mw * mh;
            var spec = _model.Input;
            int ch = spec.Channels;
            var pp = _model.Preprocessing;
            var data = new float[_b * ch * mp];
            Parallel.For(0, _b, i => WriteInput(pixels[i], warps[i], data.AsSpan(i * ch * mp, ch * mp)));
            return new InputValue(spec.Name, spec.ShapeFor(_b, mh, mw), data);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void WriteInput(float[] pixels, Warp warp, Span<float> dst)
        {
            int mp = _plan.ModelWidth * _plan.ModelHeight;
            var spec = _model.Input;
            int ch = spec.Channels;
            var pp = _model.Preprocessing;
            var view = new float[3 * mp];
            warp.Apply(pixels, view, 3, 127.5f);
            for (int c = 0; c < ch; c++)
            {
                float mean = pp.MeanOf(c), std = pp.StdOf(c), scale = pp.Scale;
                int src = pp.Bgr ? 2 - c : c;
                for (int k = 0; k < mp; k++)
                {
                    float p = ch == 1 ? 0.299f * view[k] + 0.587f * view[mp + k] + 0.114f * view[2 * mp + k] : view[src * mp + k];
                    float v = (p * scale - mean) / std;
                    if (spec.Layout == TensorLayout.Nchw) dst[c * mp + k] = v; else dst[k * ch + c] = v;
                }
            }
        }

        /// <summary>Per-item objective values, ∂(objective + diversity)/∂pixels, and the diversity term.</summary>
        private (float[] Values, float[][] Gradients, double Diversity) Gradient(float[][] pixels, Warp[] warps)
        {
            var input = BuildInput(pixels, warps);
            var values = new float[_b];
            var inputGrad = new float[input.Data.Length];
            double diversity = 0;
            var d = _plan.DiversityLayer;
            foreach (var tensor in _tensors)
            {
                var request = new GradientRequest { ScoreTensor = tensor, Wrt = [_model.Input.Name] };
                var result = _model.Gradients.Run(input, request, score =>
                {
                    var seed = new float[score.Length];
                    for (int i = 0; i < _b; i++)
                        foreach (var t in _terms[i])
                        {
                            if (t.Tensor != tensor) continue;
                            CheckShape(score, t);
                            values[i] += t.Value(score.Data, i);
                            if (i < _real) t.AddSeed(seed, i);
                        }
                    if (d is not null && d.Tensor == tensor && _real > 1)
                    {
                        CheckShape(score, d);
                        // Only the real items take part (padding copies of fixed-batch models do not).
                        int per = d.PerItem;
                        var div = new float[_real * per];
                        diversity = Diversity.Compute(score.Data.AsSpan(0, _real * per), _real, d.Channels, d.Height, d.Width, d.Layout, _options.Diversity, div);
                        for (int k = 0; k < div.Length; k++) seed[k] += div[k];
                    }
                    return seed;
                });
                var g = result.Gradients[_model.Input.Name].Data;
                for (int k = 0; k < g.Length; k++) inputGrad[k] += g[k];
            }
            return (values, PixelGradients(inputGrad, warps), diversity);
        }

        private void CheckShape(TensorValue score, ResolvedTerm t)
        {
            if (score.Length != (long)t.PerItem * _b)
                throw new SalientException($"tensor '{t.Tensor}' has {score.Length} values for a batch of {_b}, expected {t.PerItem} per image; the model's layer shapes may depend on the batch");
        }

        /// <summary>Input-tensor gradient → RGB pixel gradient (preprocessing chain rule, then the warp's adjoint).</summary>
        private float[][] PixelGradients(float[] inputGrad, Warp[] warps)
        {
            int mw = _plan.ModelWidth, mh = _plan.ModelHeight, mp = mw * mh;
            var spec = _model.Input;
            int ch = spec.Channels;
            var pp = _model.Preprocessing;
            var result = new float[_b][];
            Parallel.For(0, _b, i => result[i] = PixelGradient(inputGrad.AsSpan(i * ch * mp, ch * mp), warps[i]));
            return result;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private float[] PixelGradient(ReadOnlySpan<float> src, Warp warp)
        {
            int mp = _plan.ModelWidth * _plan.ModelHeight;
            var spec = _model.Input;
            int ch = spec.Channels;
            var pp = _model.Preprocessing;
            var view = new float[3 * mp];
            for (int c = 0; c < ch; c++)
            {
                float f = pp.Scale / pp.StdOf(c);
                int dstChannel = pp.Bgr ? 2 - c : c;
                for (int k = 0; k < mp; k++)
                {
                    float g = (spec.Layout == TensorLayout.Nchw ? src[c * mp + k] : src[k * ch + c]) * f;
                    if (ch == 1)
                    {
                        view[k] += 0.299f * g;
                        view[mp + k] += 0.587f * g;
                        view[2 * mp + k] += 0.114f * g;
                    }
                    else view[dstChannel * mp + k] += g;
                }
            }
            var pg = new float[3 * Plane];
            warp.AddAdjoint(view, pg, 3);
            return pg;
        }

        /// <summary>Objective values of the items (forward pass only).</summary>
        private float[] Evaluate(float[][] pixels, Warp[] warps)
        {
            var input = BuildInput(pixels, warps);
            var tensors = _terms.SelectMany(t => t).Select(t => t.Tensor).Distinct().ToList();
            var outputs = _model.Session(tensors).Run([input], tensors);
            var values = new float[_b];
            for (int i = 0; i < _b; i++)
                foreach (var t in _terms[i]) values[i] += t.Value(outputs[t.Tensor].Data, i);
            return values;
        }

        private RgbImage ToImage(float[] chw)
        {
            var data = new float[3 * Plane];
            for (int k = 0; k < Plane; k++)
                for (int c = 0; c < 3; c++) data[3 * k + c] = Math.Clamp(chw[c * Plane + k], 0f, 255f);
            return new RgbImage(W, H, data);
        }
    }
}

/// <summary>A deterministic seed from several integers (HashCode is randomized per process).</summary>
internal static class SeedMix
{
    public static int Of(params int[] parts)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (var p in parts)
        {
            h ^= (uint)p;
            h += 0x9E3779B97F4A7C15UL;
            h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
            h = (h ^ (h >> 27)) * 0x94D049BB133111EBUL;
            h ^= h >> 31;
        }
        return (int)(h & 0x7FFFFFFF);
    }
}

/// <summary>Adam (Kingma &amp; Ba 2015) for maximization, on a set of parameter arrays.</summary>
public sealed class Adam
{
    private readonly float[][] _params;
    private readonly float[][] _m;
    private readonly float[][] _v;
    private int _t;

    public Adam(float[][] parameters, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    {
        _params = parameters;
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        _m = parameters.Select(p => new float[p.Length]).ToArray();
        _v = parameters.Select(p => new float[p.Length]).ToArray();
    }

    public float LearningRate { get; }
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }

    /// <summary>One step up the gradient (parameters += lr·m̂/(√v̂ + ε)).</summary>
    public void Ascend(float[][] gradients)
    {
        _t++;
        float c1 = 1f - MathF.Pow(Beta1, _t), c2 = 1f - MathF.Pow(Beta2, _t);
        Parallel.For(0, _params.Length, j => Update(j, gradients[j], c1, c2));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Update(int j, float[] g, float c1, float c2)
    {
        var p = _params[j];
        var m = _m[j];
        var v = _v[j];
        float b1 = Beta1, b2 = Beta2, lr = LearningRate, eps = Epsilon;
        float s1 = lr / c1, s2 = 1f / c2;
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int width = System.Numerics.Vector<float>.Count;
            var vb1 = new System.Numerics.Vector<float>(b1);
            var vb2 = new System.Numerics.Vector<float>(b2);
            var va1 = new System.Numerics.Vector<float>(1 - b1);
            var va2 = new System.Numerics.Vector<float>(1 - b2);
            var vs1 = new System.Numerics.Vector<float>(s1);
            var vs2 = new System.Numerics.Vector<float>(s2);
            var veps = new System.Numerics.Vector<float>(eps);
            for (; i <= p.Length - width; i += width)
            {
                var gv = new System.Numerics.Vector<float>(g, i);
                var mv = vb1 * new System.Numerics.Vector<float>(m, i) + va1 * gv;
                var vv = vb2 * new System.Numerics.Vector<float>(v, i) + va2 * gv * gv;
                mv.CopyTo(m, i);
                vv.CopyTo(v, i);
                var pv = new System.Numerics.Vector<float>(p, i) + vs1 * mv / (System.Numerics.Vector.SquareRoot(vv * vs2) + veps);
                pv.CopyTo(p, i);
            }
        }
        for (; i < p.Length; i++)
        {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            p[i] += s1 * m[i] / (MathF.Sqrt(v[i] * s2) + eps);
        }
    }
}
