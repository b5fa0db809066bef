using System.Globalization;
using Salient.Imaging;

namespace Salient.Rendering;

/// <summary>Turns [0, 1] saliency maps into pictures: colorized maps, overlays and titled panels.</summary>
public static class HeatmapRenderer
{
    /// <summary>Largest tile side in <c>Panel</c>; larger originals are scaled down (aspect kept).</summary>
    public const int MaxTileSize = 512;

    /// <summary>Tiles whose long side is below this are enlarged by whole-pixel replication in <c>Panel</c>.</summary>
    public const int MinTileSize = 128;

    private const int Gap = 8;
    private const int TitleHeight = 30;
    private static readonly (byte R, byte G, byte B) Background = (30, 30, 30);
    private static readonly (byte R, byte G, byte B) TextColor = (235, 235, 235);

    /// <summary>The colormap colors of an h × w map with values in [0, 1] (clamped; NaN → 0).</summary>
    public static RgbImage Colorize(float[] map01, int h, int w, Colormap cm)
    {
        ArgumentNullException.ThrowIfNull(map01);
        if (h <= 0 || w <= 0) throw new ArgumentOutOfRangeException(nameof(h), "map size must be positive");
        if ((long)h * w != map01.LongLength)
            throw new ArgumentException($"map has {map01.Length} values, expected {h}x{w}", nameof(map01));
        var lut = Colormaps.Table(cm);
        var data = new float[map01.LongLength * 3];
        for (long i = 0; i < map01.LongLength; i++)
        {
            int k = 3 * Colormaps.Index(map01[i]);
            data[3 * i] = lut[k];
            data[3 * i + 1] = lut[k + 1];
            data[3 * i + 2] = lut[k + 2];
        }
        return new RgbImage(w, h, data);
    }

    /// <summary>
    /// (1 − alpha) · image + alpha · color(map) per pixel and channel (floats, not rounded).
    /// <paramref name="map01"/> must have the image's size; alpha must be in [0, 1].
    /// </summary>
    public static RgbImage Overlay(RgbImage image, float[] map01, Colormap cm, float alpha)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(map01);
        CheckAlpha(alpha);
        if (map01.LongLength != image.PixelCount)
            throw new ArgumentException(
                $"map has {map01.Length} values but the image is {image.Width}x{image.Height}", nameof(map01));
        var lut = Colormaps.Table(cm);
        var src = image.Data;
        var data = new float[src.LongLength];
        float keep = 1f - alpha;
        for (long i = 0; i < map01.LongLength; i++)
        {
            int k = 3 * Colormaps.Index(map01[i]);
            data[3 * i] = keep * src[3 * i] + alpha * lut[k];
            data[3 * i + 1] = keep * src[3 * i + 1] + alpha * lut[k + 1];
            data[3 * i + 2] = keep * src[3 * i + 2] + alpha * lut[k + 2];
        }
        return new RgbImage(image.Width, image.Height, data);
    }

    /// <summary>
    /// One picture: the title on a dark bar, then original | colorized heatmap | overlay side by side
    /// with a caption under each, and a colorbar (0 … 1) at the right. Tiles are at most
    /// <see cref="MaxTileSize"/> px on the long side (tiny images are enlarged by pixel replication).
    /// When <paramref name="crop"/> is given and is not the whole image, its rectangle (the region the
    /// model saw) is outlined on each tile and the pixels outside it are drawn as "not seen" (hatched
    /// gray on the heatmap, dimmed and hatched on the overlay) rather than as the coldest color.
    /// </summary>
    public static RgbImage Panel(RgbImage original, float[] map01AtOriginal, Colormap cm, float alpha, string title, CropGeometry? crop) =>
        Panel(original, map01AtOriginal, cm, alpha, title, crop, null!);

    /// <summary>
    /// A panel "original | <paramref name="middle"/> | overlay" — for image-valued results such as a
    /// guided-backprop gradient, shown in place of the colorized heatmap. <paramref name="middle"/>
    /// has the original's size.
    /// </summary>
    public static RgbImage Panel(RgbImage original, float[] map01AtOriginal, Colormap cm, float alpha, string title, CropGeometry? crop, RgbImage middle)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(map01AtOriginal);
        if (middle is not null && (middle.Width != original.Width || middle.Height != original.Height))
            throw new ArgumentException("the middle tile must have the original image's size", nameof(middle));
        if (map01AtOriginal.LongLength != original.PixelCount)
            throw new ArgumentException(
                $"map has {map01AtOriginal.Length} values but the image is {original.Width}x{original.Height}", nameof(map01AtOriginal));
        return Render(new PanelSpec
        {
            Original = original,
            Map = map01AtOriginal,
            MapHeight = original.Height,
            MapWidth = original.Width,
            MapGeometry = CropGeometry.Whole(original.Width, original.Height),
            Seen = crop,
            Colormap = cm,
            Alpha = alpha,
            Title = title,
            Middle = middle is null ? null : g => g.SourceWidth == middle.Width && g.SourceHeight == middle.Height ? middle : Resampler.Resize(middle, g.SourceWidth, g.SourceHeight),
        });
    }

    private const int BarWidth = 14;
    private const float TitleSize = 16f, CaptionSize = 13f, TickSize = 12f;
    private static readonly (byte R, byte G, byte B) NotSeen = (48, 48, 48);
    private static readonly (byte R, byte G, byte B) NotSeenHatch = (96, 96, 96);
    private static readonly (byte R, byte G, byte B) CaptionColor = (200, 200, 200);

    /// <summary>True where a tile pixel (x, y) of the hatch pattern is a hatch line (diagonal, every 8 px, 2 px wide).</summary>
    internal static bool IsHatch(int x, int y) => (x + y) % 8 < 2;

    /// <summary>
    /// The general panel. The map (display values in [0,1], see <see cref="PanelSpec.Scale"/> for what
    /// they mean) lies on <see cref="PanelSpec.MapGeometry"/> and is resampled straight to the tile
    /// grid, so a big photo costs only the tile's pixels.
    /// </summary>
    internal static RgbImage Render(PanelSpec spec)
    {
        var original = spec.Original;
        CheckAlpha(spec.Alpha);
        if ((long)spec.MapHeight * spec.MapWidth != spec.Map.LongLength)
            throw new ArgumentException($"map has {spec.Map.Length} values, expected {spec.MapHeight}x{spec.MapWidth}");

        // tile size
        int w = original.Width, h = original.Height;
        int longSide = Math.Max(w, h);
        double shrink = Math.Min(1.0, (double)spec.MaxTile / longSide);
        int sw = Math.Max(1, (int)Math.Round(w * shrink)), sh = Math.Max(1, (int)Math.Round(h * shrink));
        var small = sw != w || sh != h ? Resampler.Resize(original, sw, sh) : original;
        var mapTile = MapMath.ToOriginalGeometry(spec.Map, spec.MapHeight, spec.MapWidth, Scale(spec.MapGeometry, w, h, sw, sh));
        var seen = spec.Seen is { IsWholeImage: false } c ? Scale(c, w, h, sw, sh) : null;
        var middle = spec.Middle?.Invoke(spec.Seen is null ? CropGeometry.Whole(sw, sh) : Scale(spec.Seen, w, h, sw, sh));
        var (heat, overlay) = HeatAndOverlay(small, mapTile, spec.Colormap, spec.Alpha, seen);
        if (middle is not null && seen is not null) middle = MarkNotSeen(middle, seen);
        int rep = longSide < MinTileSize ? (MinTileSize + longSide - 1) / longSide : 1;
        int tw = sw * rep, th = sh * rep;

        // layout: title | tiles with captions | colorbar with its tick labels
        var lo = spec.Scale.Low; var hi = spec.Scale.High;
        string[] ticks = [FormatTick(hi), FormatTick((lo + hi) / 2), FormatTick(lo)];
        int tickWidth = (int)Math.Ceiling(ticks.Max(t => Canvas.Measure(t, TickSize)));
        int barBlock = BarWidth + 4 + Math.Max(tickWidth, (int)Math.Ceiling(Canvas.Measure(spec.Scale.Name, CaptionSize)) - BarWidth - 4);
        bool hasTitle = !string.IsNullOrWhiteSpace(spec.Title);
        int top = hasTitle ? TitleHeight : 0;
        int captionH = Canvas.LineHeight(CaptionSize) + 6;
        int width = Gap + 3 * (tw + Gap) + barBlock + Gap;
        int height = top + Gap + th + captionH + Gap;
        using var canvas = new Canvas(width, height, Background);
        var tiles = new[] { small, middle ?? heat, overlay };
        string[] captions = ["original", spec.MiddleCaption ?? (middle is null ? "heatmap" : "gradient"), "overlay"];
        for (int t = 0; t < 3; t++)
        {
            int ox = Gap + t * (tw + Gap), oy = top + Gap;
            canvas.Blit(tiles[t], ox, oy, rep);
            if (seen is not null) Outline(canvas, seen, ox, oy, tw, th, rep);
            canvas.Text(Canvas.Fit(captions[t], CaptionSize, tw), ox + tw / 2f, oy + th + 3, CaptionSize, CaptionColor, SkiaSharp.SKTextAlign.Center);
        }

        // colorbar: row r from the top shows the colormap at 1 − (r + 0.5) / th
        int bx = Gap + 3 * (tw + Gap), by = top + Gap;
        var lut = Colormaps.Table(spec.Colormap);
        for (int r = 0; r < th; r++)
        {
            int k = 3 * Colormaps.Index(1f - (r + 0.5f) / th);
            canvas.Fill(bx, by + r, BarWidth, 1, (lut[k], lut[k + 1], lut[k + 2]));
        }
        int tickH = Canvas.LineHeight(TickSize);
        float[] tickY = [by, by + th / 2f - tickH / 2f, by + th - tickH];
        // (no tick marks: beside the labels they read as minus signs)
        for (int i = 0; i < 3; i++)
            canvas.Text(ticks[i], bx + BarWidth + 4, tickY[i], TickSize, TextColor);
        canvas.Text(spec.Scale.Name, bx, by + th + 3, CaptionSize, CaptionColor);

        if (hasTitle)
        {
            var title = spec.Title!.ReplaceLineEndings(" ").Trim();
            canvas.Text(Canvas.Fit(title, TitleSize, width - 2 * Gap), Gap, (TitleHeight - Canvas.LineHeight(TitleSize)) / 2f + 2, TitleSize, TextColor);
        }
        return canvas.ToImage();
    }

    /// <summary>A tick label: up to 3 significant digits, invariant culture ("0", "0.5", "1", "-0.0123", "1.2e+03").</summary>
    internal static string FormatTick(double v)
    {
        if (v == 0 || !double.IsFinite(v)) return v == 0 ? "0" : v.ToString(CultureInfo.InvariantCulture);
        double a = Math.Abs(v);
        return a >= 1e4 || a < 1e-3 ? v.ToString("0.##e+0", CultureInfo.InvariantCulture) : v.ToString("G3", CultureInfo.InvariantCulture);
    }

    /// <summary>A crop rectangle of a w × h image expressed on the tw × th grid of the same image.</summary>
    private static CropGeometry Scale(CropGeometry g, int w, int h, int tw, int th)
    {
        double fx = (double)tw / w, fy = (double)th / h;
        return new CropGeometry(g.X * fx, g.Y * fy, g.Width * fx, g.Height * fy, tw, th);
    }

    /// <summary>The colorized map and the overlay on one tile; pixels outside <paramref name="seen"/> (null: all seen) drawn as "not seen".</summary>
    private static (RgbImage Heat, RgbImage Overlay) HeatAndOverlay(RgbImage image, float[] map01, Colormap cm, float alpha, CropGeometry? seen)
    {
        int w = image.Width, h = image.Height;
        var lut = Colormaps.Table(cm);
        var src = image.Data;
        var heat = new float[src.Length];
        var over = new float[src.Length];
        float keep = 1f - alpha;
        Parallel.For(0, h, y =>
        {
            double cy = y + 0.5;
            bool rowIn = seen is null || (cy >= seen.Y && cy < seen.Y + seen.Height);
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x, o = 3 * i;
                double cx = x + 0.5;
                bool inside = rowIn && (seen is null || (cx >= seen.X && cx < seen.X + seen.Width));
                if (inside)
                {
                    int k = 3 * Colormaps.Index(map01[i]);
                    for (int c = 0; c < 3; c++)
                    {
                        heat[o + c] = lut[k + c];
                        over[o + c] = keep * src[o + c] + alpha * lut[k + c];
                    }
                }
                else
                {
                    var n = IsHatch(x, y) ? NotSeenHatch : NotSeen;
                    heat[o] = n.R; heat[o + 1] = n.G; heat[o + 2] = n.B;
                    // the photo dimmed to 35 % over the not-seen pattern
                    over[o] = 0.35f * src[o] + 0.65f * n.R;
                    over[o + 1] = 0.35f * src[o + 1] + 0.65f * n.G;
                    over[o + 2] = 0.35f * src[o + 2] + 0.65f * n.B;
                }
            }
        });
        return (new RgbImage(w, h, heat), new RgbImage(w, h, over));
    }

    /// <summary>A copy of a tile with the pixels outside <paramref name="seen"/> drawn as the not-seen pattern.</summary>
    private static RgbImage MarkNotSeen(RgbImage tile, CropGeometry seen)
    {
        var d = (float[])tile.Data.Clone();
        for (int y = 0; y < tile.Height; y++)
        {
            double cy = y + 0.5;
            bool rowIn = cy >= seen.Y && cy < seen.Y + seen.Height;
            for (int x = 0; x < tile.Width; x++)
            {
                double cx = x + 0.5;
                if (rowIn && cx >= seen.X && cx < seen.X + seen.Width) continue;
                var n = IsHatch(x, y) ? NotSeenHatch : NotSeen;
                int o = 3 * (y * tile.Width + x);
                d[o] = n.R; d[o + 1] = n.G; d[o + 2] = n.B;
            }
        }
        return new RgbImage(tile.Width, tile.Height, d);
    }

    /// <summary>A white line with a dark line inside around the seen rectangle of a tile, visible on any background.</summary>
    private static void Outline(Canvas canvas, CropGeometry seen, int ox, int oy, int tw, int th, int rep)
    {
        int x0 = ox + (int)Math.Round(seen.X * rep), y0 = oy + (int)Math.Round(seen.Y * rep);
        int x1 = ox + (int)Math.Round((seen.X + seen.Width) * rep) - 1, y1 = oy + (int)Math.Round((seen.Y + seen.Height) * rep) - 1;
        x0 = Math.Clamp(x0, ox, ox + tw - 1); x1 = Math.Clamp(x1, ox, ox + tw - 1);
        y0 = Math.Clamp(y0, oy, oy + th - 1); y1 = Math.Clamp(y1, oy, oy + th - 1);
        canvas.Rectangle(x0, y0, x1, y1, (255, 255, 255));
        if (x1 - x0 > 2 && y1 - y0 > 2) canvas.Rectangle(x0 + 1, y0 + 1, x1 - 1, y1 - 1, (0, 0, 0));
    }

    private static void CheckAlpha(float alpha)
    {
        if (!(alpha >= 0f && alpha <= 1f))
            throw new SalientException(
                $"overlay alpha must be between 0 and 1, got {alpha.ToString(CultureInfo.InvariantCulture)}");
    }
}

/// <summary>What a panel's colorbar says: the values at the bottom and top of the colormap and a short name ("norm", "raw", "global").</summary>
internal sealed record ColorScale(double Low, double High, string Name)
{
    public static ColorScale Normalized { get; } = new(0, 1, "norm");
}

/// <summary>Everything one panel shows.</summary>
internal sealed record PanelSpec
{
    public required RgbImage Original { get; init; }
    /// <summary>Display values in [0,1] (clamped; what they mean is <see cref="Scale"/>), MapHeight × MapWidth.</summary>
    public required float[] Map { get; init; }
    public required int MapHeight { get; init; }
    public required int MapWidth { get; init; }
    /// <summary>Where the map grid lies on the original (the crop for model-grid maps, the whole image for maps at the original's resolution).</summary>
    public required CropGeometry MapGeometry { get; init; }
    /// <summary>The region the model saw (null: all of it); the rest is drawn as "not seen".</summary>
    public CropGeometry? Seen { get; init; }
    public Colormap Colormap { get; init; } = Colormap.Jet;
    public float Alpha { get; init; } = 0.5f;
    public string? Title { get; init; }
    /// <summary>An image shown in place of the colorized map, made for the tile grid of the given (scaled) seen geometry.</summary>
    public Func<CropGeometry, RgbImage>? Middle { get; init; }
    public string? MiddleCaption { get; init; }
    public ColorScale Scale { get; init; } = ColorScale.Normalized;
    /// <summary>Longest tile side (the original is scaled down to it; int.MaxValue: full resolution).</summary>
    public int MaxTile { get; init; } = HeatmapRenderer.MaxTileSize;
}
