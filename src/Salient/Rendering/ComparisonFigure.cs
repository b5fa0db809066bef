using Salient.Imaging;

namespace Salient.Rendering;

/// <summary>One row of a comparison figure: a heading, text lines (model, method, top-5…), the [0,1] map on the figure's grid and the region the row's model saw.</summary>
internal sealed record ComparisonFigureRow(string Heading, IReadOnlyList<string> Lines, float[] Map, CropGeometry Seen);

/// <summary>
/// The figure of <c>salient compare</c>: a title, then one row per model (or method) — a text block
/// (the row's heading and lines) | original | heatmap | overlay — then footer lines (the agreements).
/// Tiles are the comparison grid's size (tiny grids enlarged by pixel replication to at least 128 px);
/// pixels a row's model did not see are hatched gray on its heatmap and dimmed on its overlay.
/// </summary>
internal static class ComparisonFigure
{
    private const int Gap = 8, TextWidth = 250;
    private const float TitleSize = 16f, HeadingSize = 14f, LineSize = 12f, FooterSize = 13f;
    private static readonly (byte R, byte G, byte B) Background = (30, 30, 30);
    private static readonly (byte R, byte G, byte B) TextColor = (235, 235, 235);
    private static readonly (byte R, byte G, byte B) Dim = (185, 185, 185);
    private static readonly (byte R, byte G, byte B) NotSeen = (48, 48, 48), NotSeenHatch = (96, 96, 96);

    public static RgbImage Draw(RgbImage original, int gridWidth, int gridHeight, IReadOnlyList<ComparisonFigureRow> rows,
        IReadOnlyList<string> footer, string title, Colormap colormap = Colormap.Jet, float alpha = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(original);
        if (rows.Count == 0) throw new ArgumentException("no rows", nameof(rows));
        var small = original.Width == gridWidth && original.Height == gridHeight ? original : Resampler.Resize(original, gridWidth, gridHeight);
        int longSide = Math.Max(gridWidth, gridHeight);
        int rep = longSide < HeatmapRenderer.MinTileSize ? (HeatmapRenderer.MinTileSize + longSide - 1) / longSide : 1;
        int tw = gridWidth * rep, th = gridHeight * rep;
        int headingH = Canvas.LineHeight(HeadingSize) + 2, lineH = Canvas.LineHeight(LineSize) + 1;
        int textRows = rows.Max(r => r.Lines.Count);
        int rowH = Math.Max(th + Canvas.LineHeight(LineSize) + 4, headingH + textRows * lineH);
        int width = Gap + TextWidth + Gap + 3 * (tw + Gap);
        var titleLines = Canvas.Wrap(title, TitleSize, width - 2 * Gap);
        int titleLineH = Canvas.LineHeight(TitleSize) + 2;
        int titleH = titleLines.Count * titleLineH + Gap;
        var footerLines = footer.SelectMany(f => Canvas.Wrap(f, FooterSize, width - 2 * Gap)).ToList();
        int footerLineH = Canvas.LineHeight(FooterSize) + 2;
        int height = Gap + titleH + rows.Count * (rowH + Gap) + footerLines.Count * footerLineH + Gap;
        using var canvas = new Canvas(width, height, Background);
        for (int l = 0; l < titleLines.Count; l++)
            canvas.Text(titleLines[l], Gap, Gap + l * titleLineH, TitleSize, TextColor);
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            int y0 = Gap + titleH + r * (rowH + Gap);
            canvas.Text(Canvas.Fit(row.Heading, HeadingSize, TextWidth), Gap, y0, HeadingSize, TextColor);
            for (int l = 0; l < row.Lines.Count; l++)
                canvas.Text(Canvas.Fit(row.Lines[l], LineSize, TextWidth), Gap, y0 + headingH + l * lineH, LineSize, Dim);
            var (heat, overlay) = HeatAndOverlay(small, row.Map, colormap, alpha, row.Seen);
            var tiles = new[] { small, heat, overlay };
            string[] captions = ["original", "heatmap", "overlay"];
            for (int t = 0; t < 3; t++)
            {
                int x0 = Gap + TextWidth + Gap + t * (tw + Gap);
                canvas.Blit(tiles[t], x0, y0, rep);
                canvas.Text(captions[t], x0 + tw / 2f, y0 + th + 2, LineSize, Dim, SkiaSharp.SKTextAlign.Center);
            }
        }
        int fy = Gap + titleH + rows.Count * (rowH + Gap);
        for (int l = 0; l < footerLines.Count; l++)
            canvas.Text(footerLines[l], Gap, fy + l * footerLineH, FooterSize, TextColor);
        return canvas.ToImage();
    }

    private static (RgbImage Heat, RgbImage Overlay) HeatAndOverlay(RgbImage image, float[] map01, Colormap cm, float alpha, CropGeometry seen)
    {
        if (map01.Length != image.Width * image.Height) throw new ArgumentException($"map has {map01.Length} values for a {image.Width}x{image.Height} grid");
        var heat = HeatmapRenderer.Colorize(map01, image.Height, image.Width, cm);
        var over = HeatmapRenderer.Overlay(image, map01, cm, alpha);
        if (seen.IsWholeImage) return (heat, over);
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                double cx = x + 0.5, cy = y + 0.5;
                if (cx >= seen.X && cx < seen.X + seen.Width && cy >= seen.Y && cy < seen.Y + seen.Height) continue;
                var n = HeatmapRenderer.IsHatch(x, y) ? NotSeenHatch : NotSeen;
                int o = 3 * (y * image.Width + x);
                heat.Data[o] = n.R; heat.Data[o + 1] = n.G; heat.Data[o + 2] = n.B;
                over.Data[o] = 0.35f * image.Data[o] + 0.65f * n.R;
                over.Data[o + 1] = 0.35f * image.Data[o + 1] + 0.65f * n.G;
                over.Data[o + 2] = 0.35f * image.Data[o + 2] + 0.65f * n.B;
            }
        return (heat, over);
    }
}
