using Salient.Autodiff;
using Salient.Imaging;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Visualization;

/// <summary>
/// One batch of objectives optimized together: what both optimizers share — the start image, the
/// model pass with its gradient (through <see cref="InputMapping"/>), the random transforms, the
/// trace and progress, and the final evaluation.
/// </summary>
internal sealed class BatchRun
{
    private readonly SalientModel _model;
    private readonly VisualizationOptions _options;
    private readonly int[] _units;
    private readonly IReadOnlyList<Objective> _objectives;
    private readonly IProgress<VisualizationProgress>? _progress;
    private readonly IReadOnlyList<ResolvedTerm>[] _terms;
    private readonly string[] _tensors;
    private readonly Random _rng;
    private readonly List<float>[] _trace;
    private readonly InputMapping _mapping;

    public BatchRun(SalientModel model, VisualizationPlan plan, VisualizationOptions options, int[] units, IReadOnlyList<Objective> objectives,
        IProgress<VisualizationProgress>? progress, CancellationToken cancel)
    {
        _model = model;
        Plan = plan;
        _options = options;
        _units = units;
        _objectives = objectives;
        _progress = progress;
        Cancellation = cancel;
        Real = units.Length;
        Count = plan.PadBatch ? plan.BatchSize : Real;
        _terms = Enumerable.Range(0, Count).Select(i => plan.Terms[units[Math.Min(i, Real - 1)]]).ToArray();
        var tensors = _terms.SelectMany(t => t).Select(t => t.Tensor).ToList();
        if (plan.DiversityLayer is { } d && Real > 1) tensors.Add(d.Tensor);
        _tensors = tensors.Distinct().ToArray();
        _rng = new Random(SeedMix.Of(options.Seed, units[0], 0x5a17));
        _trace = Enumerable.Range(0, Real).Select(_ => new List<float>()).ToArray();
        _mapping = new InputMapping(model, plan.Width, plan.Height, plan.ModelWidth, plan.ModelHeight);
    }

    public VisualizationPlan Plan { get; }
    public CancellationToken Cancellation { get; }
    /// <summary>Items fed to the model (padded for fixed-batch models).</summary>
    public int Count { get; }
    /// <summary>Real items.</summary>
    public int Real { get; }
    public int Width => Plan.Width;
    public int Height => Plan.Height;
    public int PixelPlane => Width * Height;

    public IReadOnlyList<VisualizationResult> Execute()
    {
        var preset = _options.Preset;
        float[][] pixels = preset.DeepVis is { } dv ? DeepVisOptimizer.Run(this, dv) : LucidOptimizer.Run(this, preset.Lucid!);
        // The final objective, without random transforms.
        var values = Evaluate(pixels, Enumerable.Range(0, Count).Select(_ => Warp([])).ToArray());
        var results = new List<VisualizationResult>(Real);
        for (int i = 0; i < Real; i++)
            results.Add(new VisualizationResult(_objectives[_units[i]], ToImage(pixels[i]), values[i], _trace[i]));
        return results;
    }

    /// <summary>The seed of item <paramref name="item"/>'s start noise.</summary>
    public int ItemSeed(int item) => SeedMix.Of(_options.Seed, _units[Math.Min(item, Real - 1)]);

    /// <summary>The start image of the options fitted to the image size, planar, or null.</summary>
    public float[]? StartPixels()
    {
        if (_options.Start is not { } start) return null;
        var fitted = Preprocessor.Fit(start, Width, Height, _model.Resize, out _);
        var px = new float[3 * PixelPlane];
        var d = fitted.Data;
        for (int k = 0; k < PixelPlane; k++)
            for (int c = 0; c < 3; c++) px[c * PixelPlane + k] = Math.Clamp(d[3 * k + c], 0f, 255f);
        return px;
    }

    /// <summary>One step's view of the image: the transforms drawn from the batch's random stream, composed with the resize to the model input.</summary>
    public Warp Warp(IReadOnlyList<ITransform> transforms) =>
        View.Sample(transforms, _rng).ToWarp(Width, Height, Plan.ModelWidth, Plan.ModelHeight);

    public void Record(int step, float[] values, double diversity)
    {
        for (int i = 0; i < Real; i++) _trace[i].Add(values[i]);
        _progress?.Report(new VisualizationProgress(step + 1, Plan.Steps, _units[0], Plan.Terms.Length, values.Take(Real).ToArray(), diversity));
    }

    /// <summary>Per-item objective values, ∂(objective + diversity)/∂pixels, and the diversity term.</summary>
    public (float[] Values, float[][] Gradients, double Diversity) Gradient(float[][] pixels, Warp[] warps)
    {
        var input = _mapping.Forward(pixels, warps);
        var values = new float[Count];
        var inputGrad = new float[input.Data.Length];
        double diversity = 0;
        var d = Plan.DiversityLayer;
        foreach (var tensor in _tensors)
        {
            var request = new GradientRequest { ScoreTensor = tensor, Wrt = [_model.Input.Name] };
            var result = _model.Gradients.Run(input, request, score =>
            {
                var seed = new float[score.Length];
                for (int i = 0; i < Count; i++)
                    foreach (var t in _terms[i])
                    {
                        if (t.Tensor != tensor) continue;
                        CheckShape(score, t);
                        values[i] += t.Value(score.Data, i);
                        if (i < Real) t.AddSeed(seed, i);
                    }
                if (d is not null && d.Tensor == tensor && Real > 1)
                {
                    CheckShape(score, d);
                    // Only the real items take part (padding copies of fixed-batch models do not).
                    int per = d.PerItem;
                    var div = new float[Real * per];
                    diversity = Diversity.Compute(score.Data.AsSpan(0, Real * per), Real, d.Channels, d.Height, d.Width, d.Layout, _options.Diversity, div);
                    for (int k = 0; k < div.Length; k++) seed[k] += div[k];
                }
                return seed;
            });
            var g = result.Gradients[_model.Input.Name].Data;
            for (int k = 0; k < g.Length; k++) inputGrad[k] += g[k];
        }
        return (values, _mapping.Backward(inputGrad, warps), diversity);
    }

    private void CheckShape(TensorValue score, ResolvedTerm t)
    {
        if (score.Length != (long)t.PerItem * Count)
            throw new SalientException($"tensor '{t.Tensor}' has {score.Length} values for a batch of {Count}, expected {t.PerItem} per image; the model's layer shapes may depend on the batch");
    }

    /// <summary>Objective values of the items (forward pass only).</summary>
    private float[] Evaluate(float[][] pixels, Warp[] warps)
    {
        var input = _mapping.Forward(pixels, warps);
        var tensors = _terms.SelectMany(t => t).Select(t => t.Tensor).Distinct().ToList();
        var outputs = _model.Session(tensors).Run([input], tensors);
        var values = new float[Count];
        for (int i = 0; i < Count; i++)
            foreach (var t in _terms[i]) values[i] += t.Value(outputs[t.Tensor].Data, i);
        return values;
    }

    private RgbImage ToImage(float[] chw)
    {
        var data = new float[3 * PixelPlane];
        for (int k = 0; k < PixelPlane; k++)
            for (int c = 0; c < 3; c++) data[3 * k + c] = Math.Clamp(chw[c * PixelPlane + k], 0f, 255f);
        return new RgbImage(Width, Height, data);
    }
}
