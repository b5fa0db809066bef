using Salient.Imaging;

namespace Salient.Rendering;

/// <summary>
/// A per-image contrast stretch for display, as the DeepVis paper's figures are shown: the values
/// between the <see cref="LowQuantile"/> and <see cref="HighQuantile"/> of all the image's samples
/// (all channels together, so hues are kept) are mapped linearly onto 0 … 255; the few beyond clip.
/// The optimized values themselves are written unchanged to .npy.
/// </summary>
internal static class ContrastStretch
{
    public const double LowQuantile = 0.005, HighQuantile = 0.995;

    public static RgbImage Apply(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var d = image.Data;
        if (d.Length == 0) return image.Clone();
        var sorted = (float[])d.Clone();
        float lo = Statistics.Select(sorted, (int)Math.Floor(LowQuantile * (d.Length - 1)));
        float hi = Statistics.Select(sorted, (int)Math.Ceiling(HighQuantile * (d.Length - 1)));
        var r = new float[d.Length];
        if (!(hi > lo)) { Array.Fill(r, 127.5f); return new RgbImage(image.Width, image.Height, r); }
        float k = 255f / (hi - lo);
        for (int i = 0; i < r.Length; i++) r[i] = Math.Clamp((d[i] - lo) * k, 0f, 255f);
        return new RgbImage(image.Width, image.Height, r);
    }
}
