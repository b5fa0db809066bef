using System.Runtime.InteropServices;
using Salient.Imaging;
using SkiaSharp;

namespace Salient.Rendering;

/// <summary>
/// The one typeface of every picture: DejaVu Sans, embedded in the library (licence in
/// Rendering/Fonts/LICENSE-DejaVu.txt), so titles and captions look the same on every OS and no
/// system font is looked up.
/// </summary>
internal static class Fonts
{
    public const string ResourceName = "Salient.Rendering.Fonts.DejaVuSans.ttf";

    private static readonly Lazy<SKTypeface> Lazy = new(Load);

    public static SKTypeface Regular => Lazy.Value;

    private static SKTypeface Load()
    {
        using var stream = typeof(Fonts).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded font {ResourceName} is missing");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        var data = SKData.CreateCopy(bytes);
        return SKTypeface.FromData(data) ?? throw new InvalidOperationException("the embedded font could not be read");
    }
}

/// <summary>
/// An opaque RGBA byte canvas: pictures are blitted into it directly as bytes, text is drawn by Skia
/// with the embedded font. <see cref="ToImage"/> turns it back into an <see cref="RgbImage"/>.
/// </summary>
internal sealed class Canvas : IDisposable
{
    private readonly GCHandle _handle;
    private SKSurface? _surface;

    public Canvas(int width, int height, (byte R, byte G, byte B) background)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "canvas size must be positive");
        Width = width;
        Height = height;
        Pixels = new byte[checked(width * height * 4)];
        uint bg = (uint)(background.R | background.G << 8 | background.B << 16 | 255 << 24);
        MemoryMarshal.Cast<byte, uint>(Pixels.AsSpan()).Fill(bg);
        _handle = GCHandle.Alloc(Pixels, GCHandleType.Pinned);
    }

    public int Width { get; }
    public int Height { get; }
    /// <summary>RGBA bytes, row-major.</summary>
    public byte[] Pixels { get; }

    private SKSurface Surface => _surface ??= SKSurface.Create(
        new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul), _handle.AddrOfPinnedObject(), Width * 4)
        ?? throw new InvalidOperationException("could not create a drawing surface");

    /// <summary>Copies an image with its top-left at (x, y), each pixel replicated <paramref name="rep"/> times; clipped to the canvas.</summary>
    public void Blit(RgbImage image, int x, int y, int rep = 1)
    {
        var d = image.Data;
        int w = image.Width * rep, h = image.Height * rep;
        for (int ty = 0; ty < h; ty++)
        {
            int py = y + ty;
            if ((uint)py >= (uint)Height) continue;
            int srow = ty / rep * image.Width;
            int o = 4 * (py * Width + x);
            for (int tx = 0; tx < w; tx++, o += 4)
            {
                if ((uint)(x + tx) >= (uint)Width) continue;
                int s = 3 * (srow + tx / rep);
                Pixels[o] = RgbImage.ToByte(d[s]);
                Pixels[o + 1] = RgbImage.ToByte(d[s + 1]);
                Pixels[o + 2] = RgbImage.ToByte(d[s + 2]);
            }
        }
    }

    /// <summary>Sets one pixel (ignored outside the canvas).</summary>
    public void Put(int x, int y, (byte R, byte G, byte B) c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        int o = 4 * (y * Width + x);
        Pixels[o] = c.R;
        Pixels[o + 1] = c.G;
        Pixels[o + 2] = c.B;
    }

    public (byte R, byte G, byte B) Get(int x, int y)
    {
        int o = 4 * (y * Width + x);
        return (Pixels[o], Pixels[o + 1], Pixels[o + 2]);
    }

    public void Fill(int x, int y, int w, int h, (byte R, byte G, byte B) c)
    {
        for (int py = Math.Max(0, y); py < Math.Min(Height, y + h); py++)
            for (int px = Math.Max(0, x); px < Math.Min(Width, x + w); px++)
                Put(px, py, c);
    }

    /// <summary>A one-pixel rectangle outline from (x0, y0) to (x1, y1) inclusive.</summary>
    public void Rectangle(int x0, int y0, int x1, int y1, (byte R, byte G, byte B) c)
    {
        for (int x = x0; x <= x1; x++) { Put(x, y0, c); Put(x, y1, c); }
        for (int y = y0; y <= y1; y++) { Put(x0, y, c); Put(x1, y, c); }
    }

    /// <summary>An antialiased line of the given width from (x0, y0) to (x1, y1).</summary>
    public void Line(float x0, float y0, float x1, float y1, (byte R, byte G, byte B) c, float width = 1)
    {
        using var paint = new SKPaint { Color = new SKColor(c.R, c.G, c.B), IsAntialias = true, StrokeWidth = width, StrokeCap = SKStrokeCap.Round, Style = SKPaintStyle.Stroke };
        Surface.Canvas.DrawLine(x0, y0, x1, y1, paint);
        Surface.Canvas.Flush();
    }

    /// <summary>Width in pixels of <paramref name="text"/> at the given size.</summary>
    public static float Measure(string text, float size)
    {
        using var font = NewFont(size);
        return font.MeasureText(text);
    }

    /// <summary>The height of a line of text at the given size (ascent + descent), rounded up.</summary>
    public static int LineHeight(float size)
    {
        using var font = NewFont(size);
        font.GetFontMetrics(out var m);
        return (int)Math.Ceiling(m.Descent - m.Ascent);
    }

    /// <summary>Draws one line of text with its top at <paramref name="top"/>; <paramref name="align"/> refers to <paramref name="x"/>.</summary>
    public void Text(string text, float x, float top, float size, (byte R, byte G, byte B) c, SKTextAlign align = SKTextAlign.Left)
    {
        if (string.IsNullOrEmpty(text)) return;
        using var font = NewFont(size);
        using var paint = new SKPaint { Color = new SKColor(c.R, c.G, c.B), IsAntialias = true };
        font.GetFontMetrics(out var m);
        Surface.Canvas.DrawText(text, x, top - m.Ascent, align, font, paint);
        Surface.Canvas.Flush();
    }

    /// <summary>The longest prefix of <paramref name="text"/> (plus "…" when cut) that fits <paramref name="maxWidth"/> at the given size.</summary>
    public static string Fit(string text, float size, float maxWidth)
    {
        using var font = NewFont(size);
        if (font.MeasureText(text) <= maxWidth) return text;
        int lo = 0, hi = text.Length;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (font.MeasureText(text[..mid] + "…") <= maxWidth) lo = mid;
            else hi = mid - 1;
        }
        return lo == 0 ? "" : text[..lo].TrimEnd() + "…";
    }

    /// <summary>Words of <paramref name="text"/> in lines that fit <paramref name="maxWidth"/> (a too-long word is cut with "…").</summary>
    public static List<string> Wrap(string text, float size, float maxWidth)
    {
        var lines = new List<string>();
        var line = "";
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = line.Length == 0 ? word : line + " " + word;
            if (Measure(candidate, size) <= maxWidth) { line = candidate; continue; }
            if (line.Length > 0) lines.Add(line);
            line = Fit(word, size, maxWidth);
        }
        if (line.Length > 0) lines.Add(line);
        return lines;
    }

    private static SKFont NewFont(float size) =>
        new(Fonts.Regular, size) { Edging = SKFontEdging.Antialias, Subpixel = true };

    /// <summary>The canvas as an RGB image.</summary>
    public RgbImage ToImage()
    {
        _surface?.Canvas.Flush();
        return ImageWriter.FromRgba(Pixels, Width, Height);
    }

    public void Dispose()
    {
        _surface?.Dispose();
        _surface = null;
        if (_handle.IsAllocated) _handle.Free();
    }
}
