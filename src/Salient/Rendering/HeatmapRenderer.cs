using System.Globalization;
using System.Runtime.InteropServices;
using Salient.Imaging;
using SkiaSharp;

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
    /// One picture: the title on a dark bar, then original | colorized heatmap | overlay side by side.
    /// Tiles are at most <see cref="MaxTileSize"/> px on the long side (tiny images are enlarged by
    /// pixel replication). When <paramref name="crop"/> is given and is not the whole image, its
    /// rectangle (the region the model saw) is outlined on each tile.
    /// </summary>
    public static RgbImage Panel(RgbImage original, float[] map01AtOriginal, Colormap cm, float alpha, string title, CropGeometry? crop) =>
        PanelCore(original, map01AtOriginal, cm, alpha, title, crop, forceBitmapFont: false);

    /// <summary>
    /// A panel "original | <paramref name="middle"/> | overlay" — for image-valued results such as a
    /// guided-backprop gradient, shown in place of the colorized heatmap. <paramref name="middle"/>
    /// has the original's size.
    /// </summary>
    public static RgbImage Panel(RgbImage original, float[] map01AtOriginal, Colormap cm, float alpha, string title, CropGeometry? crop, RgbImage middle) =>
        PanelCore(original, map01AtOriginal, cm, alpha, title, crop, forceBitmapFont: false, middle);

    internal static RgbImage PanelCore(RgbImage original, float[] map01AtOriginal, Colormap cm, float alpha, string? title,
        CropGeometry? crop, bool forceBitmapFont, RgbImage? middle = null)
    {
        if (middle is not null && (middle.Width != original.Width || middle.Height != original.Height))
            throw new ArgumentException("the middle tile must have the original image's size", nameof(middle));
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(map01AtOriginal);
        CheckAlpha(alpha);
        if (map01AtOriginal.LongLength != original.PixelCount)
            throw new ArgumentException(
                $"map has {map01AtOriginal.Length} values but the image is {original.Width}x{original.Height}", nameof(map01AtOriginal));

        // tile size
        int w = original.Width, h = original.Height;
        int longSide = Math.Max(w, h);
        double shrink = Math.Min(1.0, (double)MaxTileSize / longSide);
        int sw = Math.Max(1, (int)Math.Round(w * shrink)), sh = Math.Max(1, (int)Math.Round(h * shrink));
        var small = original;
        var map = map01AtOriginal;
        var mid = middle;
        if (sw != w || sh != h)
        {
            small = Resampler.Resize(original, sw, sh);
            map = Resampler.Resize(map01AtOriginal, w, h, 1, sw, sh);
            if (mid is not null) mid = Resampler.Resize(mid, sw, sh);
        }
        int rep = longSide < MinTileSize ? (MinTileSize + longSide - 1) / longSide : 1;
        int tw = sw * rep, th = sh * rep;
        var tiles = new[] { small, mid ?? Colorize(map, sh, sw, cm), Overlay(small, map, cm, alpha) };

        bool hasTitle = !string.IsNullOrWhiteSpace(title);
        int top = hasTitle ? TitleHeight : 0;
        int width = Gap + 3 * (tw + Gap);
        int height = top + Gap + th + Gap;
        var rgba = new byte[checked(width * height * 4)];
        Fill(rgba, Background);

        for (int t = 0; t < 3; t++)
        {
            int ox = Gap + t * (tw + Gap), oy = top + Gap;
            Blit(rgba, width, tiles[t], rep, ox, oy);
            if (crop is not null && !crop.IsWholeImage)
            {
                double fx = (double)tw / crop.SourceWidth, fy = (double)th / crop.SourceHeight;
                int x0 = ox + (int)Math.Round(crop.X * fx), y0 = oy + (int)Math.Round(crop.Y * fy);
                int x1 = ox + (int)Math.Round((crop.X + crop.Width) * fx) - 1, y1 = oy + (int)Math.Round((crop.Y + crop.Height) * fy) - 1;
                x0 = Math.Clamp(x0, ox, ox + tw - 1); x1 = Math.Clamp(x1, ox, ox + tw - 1);
                y0 = Math.Clamp(y0, oy, oy + th - 1); y1 = Math.Clamp(y1, oy, oy + th - 1);
                // a white line with a dark line inside, visible on any background
                Rectangle(rgba, width, x0, y0, x1, y1, (255, 255, 255));
                if (x1 - x0 > 2 && y1 - y0 > 2) Rectangle(rgba, width, x0 + 1, y0 + 1, x1 - 1, y1 - 1, (0, 0, 0));
            }
        }

        if (hasTitle) DrawTitle(rgba, width, height, title!, forceBitmapFont);
        return ImageWriter.FromRgba(rgba, width, height);
    }

    private static void CheckAlpha(float alpha)
    {
        if (!(alpha >= 0f && alpha <= 1f))
            throw new SalientException(
                $"overlay alpha must be between 0 and 1, got {alpha.ToString(CultureInfo.InvariantCulture)}");
    }

    private static void Fill(byte[] rgba, (byte R, byte G, byte B) c)
    {
        for (int i = 0; i < rgba.Length; i += 4)
        {
            rgba[i] = c.R;
            rgba[i + 1] = c.G;
            rgba[i + 2] = c.B;
            rgba[i + 3] = 255;
        }
    }

    private static void Blit(byte[] rgba, int width, RgbImage tile, int rep, int ox, int oy)
    {
        var d = tile.Data;
        for (int y = 0; y < tile.Height * rep; y++)
        {
            int sy = y / rep;
            for (int x = 0; x < tile.Width * rep; x++)
            {
                int s = 3 * (sy * tile.Width + x / rep);
                int o = 4 * ((oy + y) * width + ox + x);
                rgba[o] = RgbImage.ToByte(d[s]);
                rgba[o + 1] = RgbImage.ToByte(d[s + 1]);
                rgba[o + 2] = RgbImage.ToByte(d[s + 2]);
            }
        }
    }

    private static void Rectangle(byte[] rgba, int width, int x0, int y0, int x1, int y1, (byte R, byte G, byte B) c)
    {
        void Put(int x, int y)
        {
            int o = 4 * (y * width + x);
            rgba[o] = c.R;
            rgba[o + 1] = c.G;
            rgba[o + 2] = c.B;
        }
        for (int x = x0; x <= x1; x++) { Put(x, y0); Put(x, y1); }
        for (int y = y0; y <= y1; y++) { Put(x0, y); Put(x1, y); }
    }

    private static void DrawTitle(byte[] rgba, int width, int height, string title, bool forceBitmapFont)
    {
        title = title.ReplaceLineEndings(" ").Trim();
        int maxWidth = width - 2 * Gap;
        var typeface = forceBitmapFont ? null : Fonts.Regular;
        if (typeface is not null && TryDrawTrueType(rgba, width, height, title, typeface, maxWidth))
            return;

        const int scale = 2;
        string text = Fit(title, s => BitmapFont.MeasureWidth(s, scale), maxWidth, "...");
        int y = (TitleHeight - BitmapFont.GlyphHeight * scale) / 2 + 2;
        BitmapFont.Draw(rgba, width, height, text, Gap, y, scale, TextColor);
    }

    private static bool TryDrawTrueType(byte[] rgba, int width, int height, string title, SKTypeface typeface, int maxWidth)
    {
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
            using var surface = SKSurface.Create(info, handle.AddrOfPinnedObject(), width * 4);
            if (surface is null) return false;
            using var font = new SKFont(typeface, 16f) { Edging = SKFontEdging.Antialias, Subpixel = true };
            using var paint = new SKPaint { Color = new SKColor(TextColor.R, TextColor.G, TextColor.B), IsAntialias = true };
            string text = Fit(title, s => font.MeasureText(s, paint), maxWidth, "…");
            font.GetFontMetrics(out var metrics);
            float baseline = (TitleHeight - (metrics.Descent - metrics.Ascent)) / 2f - metrics.Ascent + 2f;
            surface.Canvas.DrawText(text, Gap, baseline, SKTextAlign.Left, font, paint);
            surface.Canvas.Flush();
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>The longest prefix of text (plus ellipsis when cut) whose measured width fits.</summary>
    private static string Fit(string text, Func<string, float> measure, int maxWidth, string ellipsis)
    {
        if (measure(text) <= maxWidth) return text;
        int lo = 0, hi = text.Length;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (measure(text[..mid] + ellipsis) <= maxWidth) lo = mid;
            else hi = mid - 1;
        }
        return lo == 0 ? "" : text[..lo].TrimEnd() + ellipsis;
    }

    /// <summary>Finds a TrueType font in common locations once; null when none is usable.</summary>
    private static class Fonts
    {
        private static readonly Lazy<SKTypeface?> Lazy = new(Find);

        public static SKTypeface? Regular => Lazy.Value;

        private static readonly string[] Candidates =
        [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
            "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
            "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
            "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
            "/usr/share/fonts/noto/NotoSans-Regular.ttf",
            "/usr/share/fonts/google-noto/NotoSans-Regular.ttf",
            "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
            "/usr/share/fonts/gnu-free/FreeSans.ttf",
            "/usr/share/fonts/truetype/ubuntu/Ubuntu-R.ttf",
            "/Library/Fonts/Arial.ttf",
            "/System/Library/Fonts/Supplemental/Arial.ttf",
            @"C:\Windows\Fonts\arial.ttf",
            @"C:\Windows\Fonts\segoeui.ttf",
        ];

        private static SKTypeface? Find()
        {
            foreach (var path in Candidates)
            {
                try
                {
                    if (!File.Exists(path)) continue;
                    var tf = SKTypeface.FromFile(path);
                    if (tf is not null && tf.GlyphCount > 0) return tf;
                    tf?.Dispose();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // try the next one
                }
            }
            return null;
        }
    }
}
