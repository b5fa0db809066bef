using Salient.Imaging;

namespace Salient.Methods;

/// <summary>
/// Integrated gradients (Sundararajan et al. 2017): (x − x') ⊙ the mean of ∂y^c/∂x at the midpoints
/// x' + (k − ½)/m · (x − x'), k = 1..m (midpoint Riemann sum). Baseline x': black (a black image
/// through the model's preprocessing; default), blurred (Gaussian blur of the input, σ = size/20),
/// or a custom image file (baseline=PATH). Map: Σ_c |IG_c|; the signed IG is kept as channels
/// (Σ IG ≈ y(x) − y(x'), the completeness axiom).
/// </summary>
internal sealed class IntegratedGradients : PixelGradientMethod
{
    public override string Name => "integrated-gradients";
    public override string Summary => "integrated gradients from a baseline (black/blurred/FILE), midpoint Riemann sum (Sundararajan et al. 2017); steps, baseline";

    public static readonly IntParameter Steps = new("steps", 32, "Riemann-sum steps from the baseline to the input", 1);
    public static readonly TextParameter BaselineParameter = new("baseline", "black", "the reference input: a black image, the blurred input, or an image file",
        "black | blurred | an image file", v => v.ToLowerInvariant() is "black" or "blurred" or "blur" || File.Exists(v) ? null : "black, blurred or an existing image file");

    public override IReadOnlyList<Parameter> Parameters => [Steps, BaselineParameter, CommonParameters.Relu, CommonParameters.BatchSize];

    public override IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        int steps = ctx.Get(Steps)!.Value;
        var pairs = GradientRuns.ItemClassPairs(ctx);
        int h = H(ctx), w = W(ctx), c = C(ctx);
        var rows = new List<GradientRow>();
        var baselines = new List<float[]>();
        for (int i = 0; i < pairs.Count; i++)
        {
            var x = ctx.Items[pairs[i].Item].Tensor;
            var b = Baseline(ctx, x, ctx.Get(BaselineParameter));
            baselines.Add(b);
            for (int k = 1; k <= steps; k++)
            {
                float t = (k - 0.5f) / steps;
                var xi = new float[x.Length];
                for (int j = 0; j < x.Length; j++) xi[j] = b[j] + t * (x[j] - b[j]);
                rows.Add(new GradientRow(xi, pairs[i].Class));
            }
        }
        var grads = InputGradients(ctx, rows, GradientRuns.Relu(ctx.Get(CommonParameters.Relu)));
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
