using Salient.Imaging;

namespace Salient.Rendering;

/// <summary>
/// Image-valued attributions (guided backprop, guided Grad-CAM…) in the usual deprocessed form:
/// standardize over all values, × 0.1, + 0.5, clip to [0,1] — gray means "no gradient".
/// </summary>
internal static class GradientImage
{
    /// <summary>(x − mean) / (std + 1e-5) · 0.1 + 0.5, clipped to [0,1], element-wise on any layout.</summary>
    public static float[] Deprocess(float[] values)
    {
        var (mean, std) = MeanStd(values);
        var r = new float[values.Length];
        for (int i = 0; i < r.Length; i++)
            r[i] = (float)Math.Clamp((values[i] - mean) / (std + 1e-5) * 0.1 + 0.5, 0, 1);
        return r;
    }

    /// <summary>The quantile of |z| that <see cref="ForDisplay"/> maps to the ends of [0,1].</summary>
    public const double DisplayQuantile = 0.98;

    /// <summary>
    /// The shown view (panel tile and _gradient.png): the same standardization z = (x − mean) / (std + 1e-5),
    /// but scaled so that the <see cref="DisplayQuantile"/> of |z| reaches the ends of [0,1] (never less
    /// contrast than the recipe's × 0.1). Guided-backprop gradients are sparse: the recipe's fixed × 0.1
    /// leaves almost every pixel within a few levels of mid-gray; this stretch uses the full range while
    /// the 2 % most extreme values saturate.
    /// </summary>
    public static float[] ForDisplay(float[] values)
    {
        var (mean, std) = MeanStd(values);
        var z = new float[values.Length];
        for (int i = 0; i < z.Length; i++) z[i] = (float)Math.Abs((values[i] - mean) / (std + 1e-5));
        float p99 = z.Length == 0 ? 0 : Statistics.Select(z, Math.Clamp((int)Math.Ceiling(DisplayQuantile * z.Length) - 1, 0, z.Length - 1));
        double k = p99 > 0 ? Math.Max(0.1, 0.5 / p99) : 0.1;
        var r = new float[values.Length];
        for (int i = 0; i < r.Length; i++)
            r[i] = (float)Math.Clamp((values[i] - mean) / (std + 1e-5) * k + 0.5, 0, 1);
        return r;
    }

    /// <summary>
    /// A deprocessed C×H×W result (C = 1 or 3, <paramref name="bgr"/> = channels in BGR order) as an
    /// RGB image of the original's size: resampled onto the crop region, mid-gray outside it.
    /// </summary>
    public static RgbImage ToOriginal(float[] deprocessedChw, int channels, int h, int w, CropGeometry g, bool bgr)
    {
        if (channels is not (1 or 3)) throw new SalientException($"cannot show a {channels}-channel gradient as an image");
        int sw = g.SourceWidth, sh = g.SourceHeight;
        var data = new float[sw * sh * 3];
        for (int c = 0; c < 3; c++)
        {
            int src = channels == 1 ? 0 : bgr ? 2 - c : c;
            var plane = new float[h * w];
            for (int i = 0; i < plane.Length; i++) plane[i] = deprocessedChw[src * h * w + i] - 0.5f;
            var up = MapMath.ToOriginalGeometry(plane, h, w, g);
            for (int i = 0; i < up.Length; i++) data[i * 3 + c] = Math.Clamp(up[i] + 0.5f, 0, 1) * 255f;
        }
        return new RgbImage(sw, sh, data);
    }

    /// <summary>Mean and (population) standard deviation, in double precision.</summary>
    private static (double Mean, double Std) MeanStd(float[] values)
    {
        double mean = 0;
        foreach (var v in values) mean += v;
        mean /= Math.Max(1, values.Length);
        double var = 0;
        foreach (var v in values) var += (v - mean) * (v - mean);
        return (mean, Math.Sqrt(var / Math.Max(1, values.Length)));
    }
}
