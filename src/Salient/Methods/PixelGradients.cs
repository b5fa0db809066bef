using System.Globalization;
using Salient.Autodiff;
using Salient.Explain;
using Salient.Imaging;
using Salient.Rendering;

namespace Salient.Methods;

/// <summary>
/// Base of the pixel-space gradient methods: the gradient of the class logit with respect to the
/// model input, per (item, class), for one or many perturbed copies of the input.
/// </summary>
public abstract class PixelGradientMethod : IExplanationMethod
{
    public abstract string Name { get; }
    public abstract string Summary { get; }
    public bool UsesLayer => false;
    public virtual MapNormalization Normalization => MapNormalization.Percentile99;
    public virtual bool ImageValued => false;
    public IEnumerable<string> ForwardTensors(MethodContext ctx) => [];

    public abstract IReadOnlyList<RawMap> Compute(MethodContext ctx);

    protected static int H(MethodContext ctx) => ctx.Model.InputSize.Height;
    protected static int W(MethodContext ctx) => ctx.Model.InputSize.Width;
    protected static int C(MethodContext ctx) => ctx.Model.Input.Channels;

    /// <summary>Input gradients of each row, as C×H×W.</summary>
    protected static List<float[]> InputGradients(MethodContext ctx, IReadOnlyList<GradientRow> rows, ReluMode relu)
    {
        var name = ctx.Model.Input.Name;
        var res = GradientRuns.Run(ctx, rows, [name], relu);
        return res.Select(r => ToChw(ctx, r.Gradients[name])).ToList();
    }

    /// <summary>The ReLU rule when the method's gradients are of the unmodified inputs (they can share the pipeline's forward pass); null for methods that perturb the inputs.</summary>
    protected virtual ReluMode? DirectRelu(MethodContext ctx) => null;

    public virtual GradientRequest? SharedForwardRequest(MethodContext ctx) =>
        DirectRelu(ctx) is { } relu ? InputGradientRequest(ctx, relu) : null;

    private static GradientRequest InputGradientRequest(MethodContext ctx, ReluMode relu) =>
        new() { ScoreTensor = ctx.Structure.LogitsName, Wrt = [ctx.Model.Input.Name], Relu = relu, SeedIndices = true };

    /// <summary>
    /// Input gradients of every (item, class) of the context, as C×H×W: from the pipeline's forward
    /// pass when it is this request's (one backward per class slot, no forward), else via the engine.
    /// </summary>
    protected static List<float[]> DirectInputGradients(MethodContext ctx, ReluMode relu)
    {
        var request = InputGradientRequest(ctx, relu);
        if (ctx.Pass is not { } pass || !pass.Program.Request.SameGradients(request))
            return InputGradients(ctx, Rows(ctx), relu);
        string input = ctx.Model.Input.Name;
        int n = ctx.Items.Count;
        return GradientRuns.PerClassSlot(ctx, pass.Backward, (grads, i, _) =>
        {
            var g = grads[input].Data;
            int per = g.Length / n;
            return ToChw(ctx, g.AsSpan(i * per, per).ToArray());
        });
    }

    /// <summary>A tensor in the model's input layout as C×H×W.</summary>
    protected static float[] ToChw(MethodContext ctx, float[] t)
    {
        if (ctx.Model.Input.Layout == TensorLayout.Nchw) return t;
        int c = C(ctx), h = H(ctx), w = W(ctx);
        var r = new float[t.Length];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int k = 0; k < c; k++) r[(k * h + y) * w + x] = t[(y * w + x) * c + k];
        return r;
    }

    /// <summary>A C×H×W array in the model's input layout.</summary>
    protected static float[] FromChw(MethodContext ctx, float[] chw)
    {
        if (ctx.Model.Input.Layout == TensorLayout.Nchw) return chw;
        int c = C(ctx), h = H(ctx), w = W(ctx);
        var r = new float[chw.Length];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int k = 0; k < c; k++) r[(y * w + x) * c + k] = chw[(k * h + y) * w + x];
        return r;
    }

    /// <summary>max_c |g_c| per pixel (the saliency map of Simonyan et al.).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float[] MaxAbsOverChannels(float[] chw, int c, int plane)
    {
        var m = new float[plane];
        for (int k = 0; k < c; k++) for (int p = 0; p < plane; p++) m[p] = Math.Max(m[p], Math.Abs(chw[k * plane + p]));
        return m;
    }

    /// <summary>Σ_c |v_c| per pixel.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float[] SumAbsOverChannels(float[] chw, int c, int plane)
    {
        var m = new float[plane];
        for (int k = 0; k < c; k++) for (int p = 0; p < plane; p++) m[p] += Math.Abs(chw[k * plane + p]);
        return m;
    }

    protected static int IntParam(MethodContext ctx, string name, int dflt, int min = 1)
    {
        var s = ctx.Parameter(name);
        if (s is null) return dflt;
        if (!int.TryParse(s, out int v) || v < min) throw new SalientException($"parameter {name}={s} must be an integer ≥ {min}");
        return v;
    }

    protected static float FloatParam(MethodContext ctx, string name, float dflt)
    {
        var s = ctx.Parameter(name);
        if (s is null) return dflt;
        if (!float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || float.IsNaN(v)) throw new SalientException($"parameter {name}={s} must be a number");
        return v;
    }

    protected static List<GradientRow> Rows(MethodContext ctx) =>
        GradientRuns.ItemClassPairs(ctx).Select(p => new GradientRow(ctx.Items[p.Item].Tensor, p.Class)).ToList();
}

/// <summary>Saliency (Simonyan et al. 2014): max over channels of |∂y^c/∂x|.</summary>
public sealed class Saliency : PixelGradientMethod
{
    public override string Name => "saliency";
    public override string Summary => "vanilla gradient saliency: max_c |∂y^c/∂x| (Simonyan et al. 2014)";
    protected override ReluMode? DirectRelu(MethodContext ctx) => GradientRuns.ParseRelu(ctx.Parameter("relu"), ReluMode.Standard);

    public override IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        var pairs = GradientRuns.ItemClassPairs(ctx);
        var grads = DirectInputGradients(ctx, DirectRelu(ctx)!);
        int h = H(ctx), w = W(ctx), c = C(ctx);
        return pairs.Select((p, i) => new RawMap(p.Item, p.Class, MaxAbsOverChannels(grads[i], c, h * w), h, w, grads[i], c)).ToList();
    }
}

/// <summary>Guided backpropagation (Springenberg et al. 2015): the input gradient with the guided ReLU rule.</summary>
public sealed class GuidedBackprop : PixelGradientMethod
{
    public override string Name => "guidedbackprop";
    public override string Summary => "guided backpropagation: input gradient passing only positive signals through ReLUs (Springenberg et al. 2015)";
    protected override ReluMode? DirectRelu(MethodContext ctx) => GradientRuns.ParseRelu(ctx.Parameter("relu"), ReluMode.Guided);
    public override bool ImageValued => true;

    public override IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        var pairs = GradientRuns.ItemClassPairs(ctx);
        var grads = DirectInputGradients(ctx, DirectRelu(ctx)!);
        int h = H(ctx), w = W(ctx), c = C(ctx);
        return pairs.Select((p, i) => new RawMap(p.Item, p.Class, MaxAbsOverChannels(grads[i], c, h * w), h, w, grads[i], c)).ToList();
    }
}

/// <summary>
/// Guided Grad-CAM (Selvaraju et al.): the guided-backprop gradient multiplied pointwise by the
/// Grad-CAM map (normalized to [0,1], bilinearly upsampled to the input).
/// </summary>
public sealed class GuidedGradCam : PixelGradientMethod
{
    public override string Name => "guided-gradcam";
    public override string Summary => "guided Grad-CAM: guided backprop ⊙ upsampled Grad-CAM (class-discriminative, high resolution)";
    protected override ReluMode? DirectRelu(MethodContext ctx) => ReluMode.Guided;

    /// <summary>The guided input gradient, with the Grad-CAM layers fetched by the same forward pass.</summary>
    public override GradientRequest? SharedForwardRequest(MethodContext ctx) =>
        base.SharedForwardRequest(ctx) is { } r ? r with { AlsoFetch = [.. r.AlsoFetch, .. Layers(ctx).Select(l => l.Name)] } : null;

    private static List<Models.LayerInfo> Layers(MethodContext ctx) =>
        Explainer.ResolveLayers(ctx.Structure, ctx.RequestedLayers.Select(l => l == "auto" ? ctx.Model.DefaultLayerName : l).ToList());
    public override bool ImageValued => true;

    public override IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        var structure = ctx.Structure;
        var layers = Layers(ctx);
        var gradcam = new GradCam();
        int h = H(ctx), w = W(ctx), c = C(ctx);
        // Grad-CAM per (item, class), averaged over layers after normalization, on the input grid.
        var pairs = GradientRuns.ItemClassPairs(ctx);
        var cams = pairs.Select(_ => new float[h * w]).ToList();
        foreach (var layer in layers)
        {
            // The pipeline's forward pass (when it ran guided backprop's program) already holds the logits and the layer.
            var forward = new Dictionary<string, Runtime.TensorValue>(StringComparer.Ordinal);
            if (ctx.Pass is { } pass)
                foreach (var t in new[] { structure.LogitsName, layer.Name })
                    if (pass.Program.ForwardOutputs.Contains(t)) forward[t] = pass.Value(t);
            var lctx = new MethodContext(ctx.Model, structure, layer, ctx.Items, ctx.Classes, ctx.Parameters, forward);
            var maps = gradcam.Compute(lctx);
            for (int i = 0; i < maps.Count; i++)
            {
                var up = MapMath.ResizeBilinear(MapMath.NormalizeByMax(maps[i].Map), maps[i].Height, maps[i].Width, h, w);
                for (int p = 0; p < up.Length; p++) cams[i][p] += up[p] / layers.Count;
            }
        }
        var guided = DirectInputGradients(ctx, ReluMode.Guided);
        var result = new List<RawMap>();
        for (int i = 0; i < pairs.Count; i++)
        {
            var prod = new float[c * h * w];
            for (int k = 0; k < c; k++) for (int p = 0; p < h * w; p++) prod[k * h * w + p] = guided[i][k * h * w + p] * cams[i][p];
            result.Add(new RawMap(pairs[i].Item, pairs[i].Class, MaxAbsOverChannels(prod, c, h * w), h, w, prod, c));
        }
        return result;
    }
}

/// <summary>
/// SmoothGrad (Smilkov et al. 2017): the saliency map max_c |∂y^c/∂x| averaged over n copies of the
/// input with Gaussian noise of σ = sigma × (max − min of the input tensor). Seeded.
/// Parameters: samples (default 25), sigma (default 0.15), seed (default 0).
/// </summary>
public sealed class SmoothGrad : PixelGradientMethod
{
    public override string Name => "smoothgrad";
    public override string Summary => "SmoothGrad: saliency averaged over noisy copies (Smilkov et al. 2017); samples, sigma, seed";

    public override IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        int n = IntParam(ctx, "samples", 25);
        float sigmaFrac = FloatParam(ctx, "sigma", 0.15f);
        int seed = IntParam(ctx, "seed", 0, 0);
        var pairs = GradientRuns.ItemClassPairs(ctx);
        int h = H(ctx), w = W(ctx), c = C(ctx);
        var rows = new List<GradientRow>();
        for (int i = 0; i < pairs.Count; i++)
        {
            var x = ctx.Items[pairs[i].Item].Tensor;
            float sigma = sigmaFrac * (x.Max() - x.Min());
            var rng = new Random(seed + 7919 * i);
            for (int s = 0; s < n; s++)
            {
                var noisy = new float[x.Length];
                for (int j = 0; j < x.Length; j++) noisy[j] = x[j] + sigma * Noise.Gaussian(rng);
                rows.Add(new GradientRow(noisy, pairs[i].Class));
            }
        }
        var grads = InputGradients(ctx, rows, GradientRuns.ParseRelu(ctx.Parameter("relu"), ReluMode.Standard));
        var result = new List<RawMap>();
        for (int i = 0; i < pairs.Count; i++)
        {
            var map = new float[h * w];
            var mean = new float[c * h * w];
            for (int s = 0; s < n; s++)
            {
                var g = grads[i * n + s];
                var m = MaxAbsOverChannels(g, c, h * w);
                for (int p = 0; p < map.Length; p++) map[p] += m[p] / n;
                for (int j = 0; j < mean.Length; j++) mean[j] += g[j] / n;
            }
            result.Add(new RawMap(pairs[i].Item, pairs[i].Class, map, h, w, mean, c));
        }
        return result;
    }

}

/// <summary>
/// Integrated gradients (Sundararajan et al. 2017): (x − x') ⊙ the mean of ∂y^c/∂x at the midpoints
/// x' + (k − ½)/m · (x − x'), k = 1..m (midpoint Riemann sum). Baseline x': black (a black image
/// through the model's preprocessing; default), blurred (Gaussian blur of the input, σ = size/20),
/// or a custom image file (baseline=PATH). Map: Σ_c |IG_c|; the signed IG is kept as channels
/// (Σ IG ≈ y(x) − y(x'), the completeness axiom).
/// </summary>
public sealed class IntegratedGradients : PixelGradientMethod
{
    public override string Name => "integrated-gradients";
    public override string Summary => "integrated gradients from a baseline (black/blurred/FILE), midpoint Riemann sum (Sundararajan et al. 2017); steps, baseline";

    public override IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        int steps = IntParam(ctx, "steps", 32);
        var pairs = GradientRuns.ItemClassPairs(ctx);
        int h = H(ctx), w = W(ctx), c = C(ctx);
        var rows = new List<GradientRow>();
        var baselines = new List<float[]>();
        for (int i = 0; i < pairs.Count; i++)
        {
            var x = ctx.Items[pairs[i].Item].Tensor;
            var b = Baseline(ctx, x, ctx.Parameter("baseline") ?? "black");
            baselines.Add(b);
            for (int k = 1; k <= steps; k++)
            {
                float t = (k - 0.5f) / steps;
                var xi = new float[x.Length];
                for (int j = 0; j < x.Length; j++) xi[j] = b[j] + t * (x[j] - b[j]);
                rows.Add(new GradientRow(xi, pairs[i].Class));
            }
        }
        var grads = InputGradients(ctx, rows, GradientRuns.ParseRelu(ctx.Parameter("relu"), ReluMode.Standard));
        var result = new List<RawMap>();
        for (int i = 0; i < pairs.Count; i++)
        {
            var x = ToChw(ctx, ctx.Items[pairs[i].Item].Tensor);
            var b = ToChw(ctx, baselines[i]);
            var ig = new float[c * h * w];
            for (int s = 0; s < steps; s++)
            {
                var g = grads[i * steps + s];
                for (int j = 0; j < ig.Length; j++) ig[j] += g[j];
            }
            for (int j = 0; j < ig.Length; j++) ig[j] = ig[j] / steps * (x[j] - b[j]);
            result.Add(new RawMap(pairs[i].Item, pairs[i].Class, SumAbsOverChannels(ig, c, h * w), h, w, ig, c));
        }
        return result;
    }

    private static float[] Baseline(MethodContext ctx, float[] x, string kind)
    {
        var model = ctx.Model;
        switch (kind.ToLowerInvariant())
        {
            case "black":
                {
                    var black = new RgbImage(model.InputSize.Width, model.InputSize.Height, new float[model.InputSize.Width * model.InputSize.Height * 3]);
                    return model.Prepare(black).Tensor;
                }
            case "blurred":
            case "blur":
                {
                    var chw = ToChw(ctx, x);
                    int h = H(ctx), w = W(ctx);
                    float sigma = Math.Max(h, w) / 20f;
                    var blurred = (float[])chw.Clone();
                    Blur.Gaussian(blurred, h, w, sigma, BorderMode.Clamp);
                    return FromChw(ctx, blurred);
                }
            default:
                if (!File.Exists(kind)) throw new SalientException($"baseline '{kind}' is neither black, blurred nor an image file");
                return model.Prepare(model.LoadImage(kind)).Tensor;
        }
    }
}

/// <summary>Input × gradient (Shrikumar et al. 2016): x ⊙ ∂y^c/∂x; map Σ_c |x_c g_c|.</summary>
public sealed class InputXGradient : PixelGradientMethod
{
    public override string Name => "inputxgradient";
    public override string Summary => "input × gradient: x ⊙ ∂y^c/∂x (Shrikumar et al. 2016)";
    protected override ReluMode? DirectRelu(MethodContext ctx) => GradientRuns.ParseRelu(ctx.Parameter("relu"), ReluMode.Standard);

    public override IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        var pairs = GradientRuns.ItemClassPairs(ctx);
        var grads = DirectInputGradients(ctx, DirectRelu(ctx)!);
        int h = H(ctx), w = W(ctx), c = C(ctx);
        var result = new List<RawMap>();
        for (int i = 0; i < pairs.Count; i++)
        {
            var x = ToChw(ctx, ctx.Items[pairs[i].Item].Tensor);
            var prod = new float[x.Length];
            for (int j = 0; j < x.Length; j++) prod[j] = x[j] * grads[i][j];
            result.Add(new RawMap(pairs[i].Item, pairs[i].Class, SumAbsOverChannels(prod, c, h * w), h, w, prod, c));
        }
        return result;
    }
}

