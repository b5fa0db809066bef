using Salient.Imaging;
using Salient.Models;
using Salient.Explain;

namespace Salient.Rendering;

/// <summary>Turns an <see cref="Explanation"/> into pictures: the panel, and for image-valued methods the gradient image.</summary>
public static class ExplanationRendering
{
    public static string Title(Explanation e) =>
        $"{e.Method} · {e.Layer} · {e.ClassIndex} {e.Label} · logit {e.Logit:0.00} · p {e.Probability:0.000}";

    /// <summary>"original | heatmap | overlay"; for image-valued methods the middle tile is the deprocessed gradient image.</summary>
    public static RgbImage Panel(SalientModel model, Explanation e, RgbImage original, Colormap cm, float alpha, float[]? mapAtOriginal = null)
    {
        mapAtOriginal ??= e.NormalizedAtOriginal();
        var gradientImage = GradientImageOf(model, e);
        return gradientImage is null
            ? HeatmapRenderer.Panel(original, mapAtOriginal, cm, alpha, Title(e), e.Geometry)
            : HeatmapRenderer.Panel(original, mapAtOriginal, cm, alpha, Title(e), e.Geometry, gradientImage);
    }

    /// <summary>The deprocessed gradient image on the original's pixel grid, or null for map-valued methods.</summary>
    public static RgbImage? GradientImageOf(SalientModel model, Explanation e) =>
        e.ImageValued && e.RawChannels is { } ch && e.ChannelCount is 1 or 3
            ? GradientImage.ToOriginal(GradientImage.Deprocess(ch), e.ChannelCount, e.Height, e.Width, e.Geometry, model.Preprocessing.Bgr)
            : null;
}
