using Salient.Imaging;

namespace Salient.Rendering;

/// <summary>One tile of a <see cref="TileGrid"/>: an image, an optional caption and an optional highlight frame.</summary>
internal sealed record Tile(RgbImage Image, string? Caption = null, bool Highlight = false, string? Badge = null);

/// <summary>
/// Lays out equally sized tiles in rows on a dark background, with a caption under each tile (the
/// embedded DejaVu Sans; '\n' starts a new caption line), an orange frame around highlighted tiles and
/// an optional badge (e.g. a rank) in a tile's top-left corner; an optional title on top, wrapped at spaces.
/// </summary>
internal static class TileGrid
{
    private static readonly (byte R, byte G, byte B) Background = (24, 24, 24);
    private static readonly (byte R, byte G, byte B) TextColor = (230, 230, 230);
    private static readonly (byte R, byte G, byte B) HighlightColor = (255, 140, 0);

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
        // Captions at 13 px on tiles of 96 px and more, else smaller (at least 8 px).
        float textSize = tw >= 96 ? 13f : Math.Max(8f, tw / 7f);
        int lineH = Canvas.LineHeight(textSize) + 1;
        int captionH = captionLines > 0 ? captionLines * lineH + 3 : 0;
        int width = cols * tw + (cols + 1) * gap;
        float titleSize = width >= 320 ? 16f : 11f;
        var titleLines = string.IsNullOrEmpty(title) ? [] : Canvas.Wrap(title, titleSize, width - 2 * gap);
        int titleLineH = Canvas.LineHeight(titleSize) + 2;
        int titleH = titleLines.Count == 0 ? 0 : titleLines.Count * titleLineH + 6;
        int height = titleH + rows * (th + captionH) + (rows + 1) * gap;
        using var canvas = new Canvas(width, height, Background);
        for (int l = 0; l < titleLines.Count; l++)
            canvas.Text(titleLines[l], gap, 4 + l * titleLineH, titleSize, TextColor);
        for (int i = 0; i < tiles.Count; i++)
        {
            int r = i / cols, c = i % cols;
            int x0 = gap + c * (tw + gap);
            int y0 = titleH + gap + r * (th + captionH + gap);
            canvas.Blit(tiles[i].Image, x0, y0);
            if (tiles[i].Highlight) Frame(canvas, x0, y0, tw, th, Math.Max(1, tw / 24), HighlightColor);
            if (!string.IsNullOrEmpty(tiles[i].Badge))
            {
                string badge = tiles[i].Badge!;
                int pad = 2;
                int bw = (int)Math.Ceiling(Canvas.Measure(badge, textSize)) + 2 * pad, bh = Canvas.LineHeight(textSize) + pad;
                canvas.Fill(x0, y0, Math.Min(bw, tw), Math.Min(bh, th), HighlightColor);
                canvas.Text(badge, x0 + pad, y0 + 1, textSize, (0, 0, 0));
            }
            if (!string.IsNullOrEmpty(tiles[i].Caption))
            {
                var lines = tiles[i].Caption!.Split('\n');
                for (int l = 0; l < lines.Length; l++)
                    canvas.Text(Canvas.Fit(lines[l], textSize, tw), x0, y0 + th + 2 + l * lineH, textSize, tiles[i].Highlight ? HighlightColor : TextColor);
            }
        }
        return canvas.ToImage();
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

    private static void Frame(Canvas canvas, int x0, int y0, int w, int h, int t, (byte R, byte G, byte B) color)
    {
        canvas.Fill(x0, y0, w, t, color);
        canvas.Fill(x0, y0 + h - t, w, t, color);
        canvas.Fill(x0, y0, t, h, color);
        canvas.Fill(x0 + w - t, y0, t, h, color);
    }
}
