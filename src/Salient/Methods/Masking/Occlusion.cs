using Salient.Imaging;

namespace Salient.Methods;

/// <summary>
/// Occlusion (Zeiler &amp; Fergus 2014): a square patch slides over the (preprocessed) input; every
/// position is filled with a constant and the drop of the target logit, y_c(x) − y_c(x occluded), is
/// recorded. The map, at input resolution, gives each pixel the mean drop of the patches that cover it.
/// <list type="bullet">
/// <item><c>patch</c>: side in input pixels (default ⌈min(H, W)/7⌉, 32 for 224×224).</item>
/// <item><c>stride</c>: step (default patch/2). Positions are 0, stride, 2·stride… plus one flush with
/// the far edge, so every pixel is covered.</item>
/// <item><c>fill</c>: <c>mean</c> (default; each channel's mean over the image), <c>zero</c> (0 in model-input
/// units: the dataset-mean colour for mean/std preprocessing) or a number in model-input units.</item>
/// </list>
/// The raw map is signed (a patch whose removal raises the score gives a negative value); it is
/// min–max normalized for display.
/// </summary>
internal sealed class Occlusion : IExplanationMethod
{
    public static readonly IntParameter Patch = new("patch", null, "patch side in input pixels", 1, automatic: "input size / 7 (32 at 224)");
    public static readonly IntParameter Stride = new("stride", null, "step between patches in input pixels", 1, automatic: "patch / 2");
    public static readonly TextParameter Fill = new("fill", "mean", "what a patch is filled with: each channel's mean, zero, or a number in model-input units (after preprocessing)",
        "mean | zero | a number", v => v.ToLowerInvariant() is "mean" or "zero" || float.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float f) && float.IsFinite(f)
            ? null : "mean, zero or a number (in model-input units, after preprocessing)");

    public IReadOnlyList<Parameter> Parameters => [Patch, Stride, Fill, CommonParameters.BatchSize];
    public bool ManyForwardPasses => true;

    public string Name => "occlusion";
    public string Summary => "occlusion: logit drop when a sliding patch is covered (Zeiler & Fergus 2014); patch, stride, fill";
    public bool UsesLayer => false;
    public MapNormalization Normalization => MapNormalization.MinMax;

    public IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        var fillText = ctx.Get(Fill).ToLowerInvariant();
        bool useMean = fillText == "mean";
        float fillValue = fillText is "mean" or "zero" ? 0f : float.Parse(fillText, System.Globalization.CultureInfo.InvariantCulture);
        var maps = new List<RawMap>();
        for (int item = 0; item < ctx.Items.Count; item++)
        {
            var x = ctx.Items[item];
            int h = x.Height, w = x.Width, c = x.Channels, plane = h * w;
            int patch = ctx.Get(Patch) ?? DefaultPatch(h, w);
            int stride = ctx.Get(Stride) ?? Math.Max(1, patch / 2);
            int ph = Math.Min(patch, h), pw = Math.Min(patch, w);
            var ys = Positions(h, ph, stride);
            var xs = Positions(w, pw, stride);
            var fill = new float[c];
            for (int ch = 0; ch < c; ch++) fill[ch] = useMean ? ChannelMean(x, ch) : fillValue;

            int rowLength = x.Tensor.Length;
            void Fill(int start, int count, Span<float> dst)
            {
                for (int r = 0; r < count; r++)
                {
                    int i = start + r;
                    int y0 = ys[i / xs.Length], x0 = xs[i % xs.Length];
                    var d = dst.Slice(r * rowLength, rowLength);
                    x.Tensor.CopyTo(d);
                    for (int y = y0; y < y0 + ph; y++)
                    {
                        if (x.Layout == TensorLayout.Nchw)
                            for (int ch = 0; ch < c; ch++) d.Slice(ch * plane + y * w + x0, pw).Fill(fill[ch]);
                        else
                            for (int xx = x0; xx < x0 + pw; xx++)
                                for (int ch = 0; ch < c; ch++) d[(y * w + xx) * c + ch] = fill[ch];
                    }
                }
            }

            int count = ys.Length * xs.Length;
            var logits = ctx.RunRows(x, count, Fill, out int per);
            foreach (int cls in ctx.Classes[item])
            {
                float baseline = ctx.Logit(item, cls);
                var sum = new double[plane];
                var covered = new int[plane];
                for (int i = 0; i < count; i++)
                {
                    double drop = baseline - logits[i * per + cls];
                    int y0 = ys[i / xs.Length], x0 = xs[i % xs.Length];
                    for (int y = y0; y < y0 + ph; y++)
                        for (int xx = x0; xx < x0 + pw; xx++)
                        {
                            sum[y * w + xx] += drop;
                            covered[y * w + xx]++;
                        }
                }
                var map = new float[plane];
                for (int i = 0; i < plane; i++) map[i] = covered[i] > 0 ? (float)(sum[i] / covered[i]) : 0f;
                maps.Add(new RawMap(item, cls, map, h, w));
            }
        }
        return maps;
    }

    internal static int DefaultPatch(int h, int w) => Math.Max(1, (Math.Min(h, w) + 6) / 7);

    /// <summary>Patch origins along one axis: 0, s, 2s, … and n − p if the last one falls short of the edge.</summary>
    internal static int[] Positions(int n, int p, int stride)
    {
        var list = new List<int>();
        for (int o = 0; o + p <= n; o += stride) list.Add(o);
        if (list.Count == 0 || list[^1] + p < n) list.Add(n - p);
        return list.ToArray();
    }

    private static float ChannelMean(PreparedInput x, int ch)
    {
        int plane = x.Height * x.Width, c = x.Channels;
        double s = 0;
        if (x.Layout == TensorLayout.Nchw) foreach (var v in x.Tensor.AsSpan(ch * plane, plane)) s += v;
        else for (int i = 0; i < plane; i++) s += x.Tensor[i * c + ch];
        return (float)(s / plane);
    }
}
