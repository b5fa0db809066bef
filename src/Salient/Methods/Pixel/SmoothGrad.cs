using Salient.Imaging;

namespace Salient.Methods;

/// <summary>
/// SmoothGrad (Smilkov et al. 2017) as a noise wrapper, like captum's NoiseTunnel: any pixel-gradient
/// method (<c>base</c>: saliency by default, guidedbackprop, inputxgradient, integrated-gradients…)
/// runs on <c>samples</c> copies of each input with Gaussian noise of σ = sigma × (max − min of the
/// input tensor), and its maps (and image-valued results) are averaged. Seeded: item i's noise comes
/// from <c>Random(seed + 7919·i)</c>, drawn in C×H×W order (the same for NCHW and NHWC exports). Every parameter of the base method applies too.
/// </summary>
internal sealed class SmoothGrad : PixelGradientMethod
{
    public static readonly IntParameter Samples = new("samples", 25, "noisy copies per image", 1, 1 << 16);
    public static readonly NumberParameter Sigma = new("sigma", 0.15, "noise standard deviation as a fraction of the input's value range", 0, 10);
    public static readonly ChoiceParameter Base = new("base", "saliency", "the pixel-gradient method whose maps are smoothed", () => Bases.Select(b => b.Name).ToList());

    private static IReadOnlyList<IExplanationMethod> Bases =>
        MethodRegistry.All.Where(m => m is PixelGradientMethod && m is not SmoothGrad && m.Composes.Count == 0).ToList();

    public override string Name => "smoothgrad";
    public override string Summary => "SmoothGrad: any pixel-gradient method (base, default saliency) averaged over noisy copies (Smilkov et al. 2017); samples, sigma, seed";

    public override IReadOnlyList<Parameter> Parameters =>
        [Samples, Sigma, CommonParameters.Seed, Base, .. Bases.SelectMany(b => b.Parameters).GroupBy(p => p.Name).Select(g => g.First())];

    public override IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        int n = ctx.Get(Samples)!.Value;
        float sigmaFrac = (float)ctx.Get(Sigma);
        int seed = ctx.Get(CommonParameters.Seed)!.Value;
        var baseMethod = MethodRegistry.Get(ctx.Get(Base));
        var noisy = new List<PreparedInput>(ctx.Items.Count * n);
        var classes = new List<int[]>(ctx.Items.Count * n);
        for (int i = 0; i < ctx.Items.Count; i++)
        {
            var item = ctx.Items[i];
            var x = item.Tensor;
            float sigma = sigmaFrac * (x.Max() - x.Min());
            var rng = new Random(seed + 7919 * i);
            for (int s = 0; s < n; s++)
            {
                // Noise drawn in C×H×W order whatever the layout, so NCHW and NHWC exports of one
                // network get the same noise on the same pixel.
                var noise = new float[x.Length];
                for (int j = 0; j < noise.Length; j++) noise[j] = sigma * Noise.Gaussian(rng);
                noise = Layouts.FromChw(noise, item.Layout, item.Channels, item.Height, item.Width);
                var t = new float[x.Length];
                for (int j = 0; j < x.Length; j++) t[j] = x[j] + noise[j];
                noisy.Add(new PreparedInput(t, item.Width, item.Height, item.Channels, item.Layout, item.Geometry, item.ModelView));
                classes.Add(ctx.Classes[i]);
            }
        }
        var maps = baseMethod.Compute(new MethodContext(ctx.Model, ctx.Structure, null, noisy, classes, ctx.Parameters, new()) { Target = ctx.Target });
        // Average over the copies of each (item, class), in the order of the context's pairs.
        var byPair = maps.GroupBy(m => (Item: m.Item / n, m.ClassIndex)).ToDictionary(g => g.Key, g => g.OrderBy(m => m.Item).ToList());
        var result = new List<RawMap>();
        foreach (var (item, cls) in GradientRuns.ItemClassPairs(ctx))
        {
            var copies = byPair[(item, cls)];
            var first = copies[0];
            var map = new float[first.Map.Length];
            var mean = first.Channels is null ? null : new float[first.Channels.Length];
            foreach (var m in copies)
            {
                for (int p = 0; p < map.Length; p++) map[p] += m.Map[p] / n;
                if (mean is not null) for (int j = 0; j < mean.Length; j++) mean[j] += m.Channels![j] / n;
            }
            result.Add(new RawMap(item, cls, map, first.Height, first.Width, mean, first.ChannelCount));
        }
        return result;
    }
}
