using System.Globalization;
using Salient.Imaging;
using Salient.Models;
using Salient.Explain;

namespace Salient.Rendering;

/// <summary>How an <see cref="Explanation"/>'s panel is drawn.</summary>
public sealed record PanelOptions
{
    public Colormap Colormap { get; init; } = Colormap.Jet;
    /// <summary>Heatmap opacity in the overlay, 0–1.</summary>
    public float Alpha { get; init; } = 0.5f;
    /// <summary>
    /// False (default): the colorbar is the normalized map's [0,1]. True: the raw map's values (its min … max;
    /// with a diverging colormap ±max|raw|, centred at 0).
    /// </summary>
    public bool RawScale { get; init; }
    /// <summary>False (default): tiles at most <see cref="HeatmapRenderer.MaxTileSize"/> px on the long side; true: at the original's resolution.</summary>
    public bool FullResolution { get; init; }
}

/// <summary>Turns an <see cref="Explanation"/> into pictures: the panel, and for image-valued methods the gradient image.</summary>
public static class ExplanationRendering
{
    /// <summary>Below this probability the title says the model rejects the class.</summary>
    public const float RejectedProbability = 0.01f;

    /// <summary>
    /// "method · layer · class label · logit · p", plus "(model rejects this class)" when p &lt; 1 %;
    /// class-agnostic methods (Eigen-CAM) name no class; targets other than classes (segmentation,
    /// similarity…) show "method · layer · label · target score".
    /// </summary>
    public static string Title(Explanation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.ClassAgnostic) return $"{e.Method} · {e.Layer} · class-agnostic (same map for every {(float.IsNaN(e.Logit) ? "target" : "class")})";
        if (float.IsNaN(e.Probability))
            return $"{e.Method} · {e.Layer} · {(e.ClassIndex >= 0 ? $"{e.ClassIndex} " : "")}{e.Label} · {e.Target.Split(':')[0]} {e.Score.ToString("0.000", CultureInfo.InvariantCulture)}";
        string p = e.Probability >= 0.001f ? e.Probability.ToString("0.000", CultureInfo.InvariantCulture) : e.Probability.ToString("0.0e+0", CultureInfo.InvariantCulture);
        string title = $"{e.Method} · {e.Layer} · {e.ClassIndex} {e.Label} · logit {e.Logit.ToString("0.00", CultureInfo.InvariantCulture)} · p {p}";
        // A class target other than the logit (prob, sigmoid): say what the map explains.
        string kind = e.Target.Split(':')[0];
        if (kind != "logit") title += $" · map of {kind}";
        return e.Probability < RejectedProbability ? title + " (model rejects this class)" : title;
    }

    /// <summary>
    /// "original | heatmap | overlay" with a colorbar; for image-valued methods the middle tile is the gradient image.
    /// <paramref name="mapAtOriginal"/> is ignored (kept for source compatibility): panels are drawn from the map grid at tile size.
    /// </summary>
    public static RgbImage Panel(SalientModel model, Explanation e, RgbImage original, Colormap cm, float alpha, float[]? mapAtOriginal = null) =>
        Panel(model, e, original, new PanelOptions { Colormap = cm, Alpha = alpha });

    /// <summary>
    /// "original | heatmap | overlay" with captions and a colorbar, the pixels the model did not see
    /// marked as such; for image-valued methods the middle tile is the gradient image at a readable contrast.
    /// </summary>
    public static RgbImage Panel(SalientModel model, Explanation e, RgbImage original, PanelOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(options);
        var (map, scale) = Display(e, options);
        bool gradient = e.ImageValued && e.RawChannels is not null && e.ChannelCount is 1 or 3;
        Func<CropGeometry, RgbImage>? middle = gradient
            ? g => GradientImage.ToOriginal(GradientImage.ForDisplay(e.RawChannels!), e.ChannelCount, e.Height, e.Width, g, model.Preprocessing.Bgr)
            : null;
        return HeatmapRenderer.Render(new PanelSpec
        {
            Original = original,
            Map = map,
            MapHeight = e.Height,
            MapWidth = e.Width,
            MapGeometry = e.Geometry,
            Seen = e.Geometry,
            Colormap = options.Colormap,
            Alpha = options.Alpha,
            Title = Title(e),
            Middle = middle,
            Scale = scale,
            MaxTile = options.FullResolution ? int.MaxValue : HeatmapRenderer.MaxTileSize,
        });
    }

    /// <summary>
    /// The values a panel colors (in [0,1]) and what its colorbar says. Sequential colormaps: the
    /// normalized map (0 … 1), or the raw map min–max scaled (raw min … max). Diverging colormaps
    /// (coolwarm): raw / max|raw| so 0 sits at the middle color (−1 … 1, or ±max|raw| raw).
    /// </summary>
    internal static (float[] Map, ColorScale Scale) Display(Explanation e, PanelOptions options)
    {
        string name = e.NormalizedAcrossClasses ? "global" : "norm";
        if (Colormaps.IsDiverging(options.Colormap))
        {
            float m = 0;
            foreach (var v in e.RawMap) if (float.IsFinite(v)) m = Math.Max(m, Math.Abs(v));
            var signed = new float[e.RawMap.Length];
            for (int i = 0; i < signed.Length; i++) signed[i] = m > 0 ? 0.5f + 0.5f * e.RawMap[i] / m : 0.5f;
            // (per map, also with --normalize global: the signed view scales each map by its own max|raw|)
            return (signed, options.RawScale ? new ColorScale(-m, m, "raw") : new ColorScale(-1, 1, "norm"));
        }
        if (!options.RawScale) return (e.Normalized, e.NormalizedAcrossClasses ? new ColorScale(0, 1, name) : ColorScale.Normalized);
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (var v in e.RawMap) if (float.IsFinite(v)) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
        if (!(hi > lo)) { lo = float.IsFinite(lo) ? lo : 0; hi = lo; }
        var scaled = new float[e.RawMap.Length];
        if (hi > lo) for (int i = 0; i < scaled.Length; i++) scaled[i] = (e.RawMap[i] - lo) / (hi - lo);
        return (scaled, new ColorScale(lo, hi, "raw"));
    }

    /// <summary>
    /// The gradient image on the original's pixel grid at a readable contrast (pytorch-grad-cam's
    /// deprocessing, with the stretch of <see cref="GradientImage.ForDisplay"/>), or null for map-valued methods.
    /// </summary>
    public static RgbImage? GradientImageOf(SalientModel model, Explanation e) =>
        e.ImageValued && e.RawChannels is { } ch && e.ChannelCount is 1 or 3
            ? GradientImage.ToOriginal(GradientImage.ForDisplay(ch), e.ChannelCount, e.Height, e.Width, e.Geometry, model.Preprocessing.Bgr)
            : null;
}
