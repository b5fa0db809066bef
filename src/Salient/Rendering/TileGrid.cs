using Salient.Imaging;

namespace Salient.Rendering;

/// <summary>One tile of a <see cref="TileGrid"/>: an image, an optional caption and an optional highlight frame.</summary>
internal sealed record Tile(RgbImage Image, string? Caption = null, bool Highlight = false, string? Badge = null);

/// <summary>
/// Lays out equally sized tiles in rows on a dark background, with a caption line under each tile
/// (the built-in 5×7 ASCII font; '\n' starts a new caption line), an orange frame around highlighted tiles and an optional badge (e.g. a
/// rank) in a tile's top-left corner; an optional title on top, wrapped at spaces.
/// </summary>
internal static class TileGrid
{
    private static readonly float[] Background = [24, 24, 24];
    private static readonly float[] TextColor = [230, 230, 230];
    private static readonly float[] HighlightColor = [255, 140, 0];

    /// <param name="tiles">Tiles, all the same size.</param>
    /// <param name="columns">Tiles per row (default: ⌈√n⌉).</param>
    /// <param name="gap">Pixels between tiles.</param>
    /// <param name="title">Optional title drawn above the grid.</param>
    public static RgbImage Compose(IReadOnlyList<Tile> tiles, int? columns = null, int gap = 4, string? title = null)
    {
        if (tiles.Count == 0) throw new ArgumentException("no tiles", nameof(tiles));
        int tw = tiles[0].Image.Width, th = tiles[0].Image.Height;
        if (tiles.Any(t => t.Image.Width != tw || t.Image.Height != th)) throw new ArgumentException("tiles must have the same size", nameof(tiles));
        int cols = Math.Max(1, Math.Min(tiles.Count, columns ?? (int)Math.Ceiling(Math.Sqrt(tiles.Count))));
        int rows = (tiles.Count + cols - 1) / cols;
        int captionLines = tiles.Max(t => string.IsNullOrEmpty(t.Caption) ? 0 : t.Caption.Split('\n').Length);
        // Captions at double size when the tiles are large enough for every caption line to fit, else at 1×.
        int longest = tiles.Where(t => !string.IsNullOrEmpty(t.Caption)).SelectMany(t => t.Caption!.Split('\n')).Select(l => l.Length).DefaultIfEmpty(0).Max();
        int textScale = tw >= 96 && BitmapFont.MeasureWidth(new string('x', longest), 2) <= tw ? 2 : 1;
        int lineH = (BitmapFont.GlyphHeight + 2) * textScale;
        int captionH = captionLines > 0 ? captionLines * lineH + 2 : 0;
        int width = cols * tw + (cols + 1) * gap;
        int titleScale = width >= 320 ? 2 : 1;
        var titleLines = string.IsNullOrEmpty(title) ? [] : Wrap(title, width - 2 * gap, titleScale);
        int titleH = titleLines.Count == 0 ? 0 : titleLines.Count * (BitmapFont.GlyphHeight + 3) * titleScale + 8;
        int height = titleH + rows * (th + captionH) + (rows + 1) * gap;
        var data = new float[width * height * 3];
        for (int i = 0; i < width * height; i++) { data[3 * i] = Background[0]; data[3 * i + 1] = Background[1]; data[3 * i + 2] = Background[2]; }
        var canvas = new RgbImage(width, height, data);
        for (int l = 0; l < titleLines.Count; l++)
            DrawText(canvas, titleLines[l], gap, 5 + l * (BitmapFont.GlyphHeight + 3) * titleScale, titleScale, TextColor);
        for (int i = 0; i < tiles.Count; i++)
        {
            int r = i / cols, c = i % cols;
            int x0 = gap + c * (tw + gap);
            int y0 = titleH + gap + r * (th + captionH + gap);
            Blit(canvas, tiles[i].Image, x0, y0);
            if (tiles[i].Highlight) Frame(canvas, x0, y0, tw, th, Math.Max(1, tw / 24), HighlightColor);
            if (!string.IsNullOrEmpty(tiles[i].Badge))
            {
                int bs = textScale;
                string badge = tiles[i].Badge!;
                int bw = BitmapFont.MeasureWidth(badge, bs) + 2 * bs, bh = BitmapFont.GlyphHeight * bs + 2 * bs;
                Fill(canvas, x0, y0, Math.Min(bw, tw), Math.Min(bh, th), HighlightColor);
                DrawText(canvas, badge, x0 + bs, y0 + bs, bs, [0, 0, 0]);
            }
            if (!string.IsNullOrEmpty(tiles[i].Caption))
            {
                var lines = tiles[i].Caption!.Split('\n');
                for (int l = 0; l < lines.Length; l++)
                    DrawText(canvas, Fit(lines[l], tw, textScale), x0, y0 + th + 2 + l * lineH, textScale, tiles[i].Highlight ? HighlightColor : TextColor);
            }
        }
        return canvas;
    }

    /// <summary>Enlarges an image by whole-pixel replication (nearest neighbour) by an integer factor.</summary>
    public static RgbImage Enlarge(RgbImage image, int factor)
    {
        if (factor <= 1) return image;
        int w = image.Width * factor, h = image.Height * factor;
        var d = new float[w * h * 3];
        var s = image.Data;
        for (int y = 0; y < h; y++)
        {
            int sy = y / factor;
            for (int x = 0; x < w; x++)
            {
                int si = 3 * (sy * image.Width + x / factor), di = 3 * (y * w + x);
                d[di] = s[si]; d[di + 1] = s[si + 1]; d[di + 2] = s[si + 2];
            }
        }
        return new RgbImage(w, h, d);
    }

    private static List<string> Wrap(string text, int width, int scale)
    {
        int max = Math.Max(1, (width + scale) / (BitmapFont.Advance * scale));
        var lines = new List<string>();
        var line = "";
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = line.Length == 0 ? word : line + " " + word;
            if (candidate.Length <= max) { line = candidate; continue; }
            if (line.Length > 0) lines.Add(line);
            line = word.Length <= max ? word : Fit(word, width, scale);
        }
        if (line.Length > 0) lines.Add(line);
        return lines;
    }

    private static string Fit(string text, int width, int scale)
    {
        int max = Math.Max(1, (width + scale) / (BitmapFont.Advance * scale));
        return text.Length <= max ? text : text[..Math.Max(1, max - 1)] + "~";
    }

    private static void Blit(RgbImage dst, RgbImage src, int x0, int y0)
    {
        for (int y = 0; y < src.Height; y++)
        {
            int dy = y0 + y;
            if ((uint)dy >= (uint)dst.Height) continue;
            for (int x = 0; x < src.Width; x++)
            {
                int dx = x0 + x;
                if ((uint)dx >= (uint)dst.Width) continue;
                int si = 3 * (y * src.Width + x), di = 3 * (dy * dst.Width + dx);
                dst.Data[di] = src.Data[si]; dst.Data[di + 1] = src.Data[si + 1]; dst.Data[di + 2] = src.Data[si + 2];
            }
        }
    }

    private static void Fill(RgbImage img, int x0, int y0, int w, int h, float[] color)
    {
        for (int y = Math.Max(0, y0); y < Math.Min(img.Height, y0 + h); y++)
            for (int x = Math.Max(0, x0); x < Math.Min(img.Width, x0 + w); x++)
            {
                int i = 3 * (y * img.Width + x);
                img.Data[i] = color[0]; img.Data[i + 1] = color[1]; img.Data[i + 2] = color[2];
            }
    }

    private static void Frame(RgbImage img, int x0, int y0, int w, int h, int t, float[] color)
    {
        Fill(img, x0, y0, w, t, color);
        Fill(img, x0, y0 + h - t, w, t, color);
        Fill(img, x0, y0, t, h, color);
        Fill(img, x0 + w - t, y0, t, h, color);
    }

    internal static void DrawText(RgbImage img, string text, int x, int y, int scale, float[] color)
    {
        for (int n = 0; n < text.Length; n++)
        {
            int gx = x + n * BitmapFont.Advance * scale;
            for (int row = 0; row < BitmapFont.GlyphHeight; row++)
                for (int col = 0; col < BitmapFont.GlyphWidth; col++)
                {
                    if (!BitmapFont.IsSet(text[n], col, row)) continue;
                    Fill(img, gx + col * scale, y + row * scale, scale, scale, color);
                }
        }
    }
}
