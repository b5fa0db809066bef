using Salient.Core;
using Salient.Imaging;
using Salient.Rendering;
using Salient.Visualization;

namespace Salient.Web;

/// <summary>The pictures the page shows, drawn with the library's renderer at display size.</summary>
internal static class Pictures
{
    /// <summary>Long side of the pictures sent to the page (the library's panel tile size).</summary>
    public const int MaxSide = HeatmapRenderer.MaxTileSize;

    public static string DataUrl(RgbImage image) => "data:image/png;base64," + Convert.ToBase64String(ImageWriter.EncodePng(image));

    /// <summary>The image at display size and the crop geometry scaled to it.</summary>
    public static (RgbImage Image, CropGeometry Geometry) ForDisplay(RgbImage original, CropGeometry geometry)
    {
        int w = original.Width, h = original.Height;
        double shrink = Math.Min(1.0, (double)MaxSide / Math.Max(w, h));
        int sw = Math.Max(1, (int)Math.Round(w * shrink)), sh = Math.Max(1, (int)Math.Round(h * shrink));
        var small = sw != w || sh != h ? Resampler.Resize(original, sw, sh) : original;
        double fx = (double)sw / w, fy = (double)sh / h;
        return (small, new CropGeometry(geometry.X * fx, geometry.Y * fy, geometry.Width * fx, geometry.Height * fy, sw, sh));
    }

    /// <summary>
    /// A [0,1] map of the model's input grid over the display image: (heatmap, overlay). Pixels the model
    /// did not see (outside the crop) are not "cold": they keep the photo, dimmed, in the overlay (the page
    /// outlines the crop).
    /// </summary>
    public static (RgbImage Heat, RgbImage Overlay) Heatmap(RgbImage display, CropGeometry displayGeometry, float[] map01, int h, int w, Colormap cm, float alpha)
    {
        var onImage = MapMath.ToOriginalGeometry(map01, h, w, displayGeometry);
        var overlay = HeatmapRenderer.Overlay(display, onImage, cm, alpha);
        if (!displayGeometry.IsWholeImage)
        {
            var g = displayGeometry;
            for (int y = 0; y < display.Height; y++)
                for (int x = 0; x < display.Width; x++)
                {
                    double cx = x + 0.5, cy = y + 0.5;
                    if (cx >= g.X && cx < g.X + g.Width && cy >= g.Y && cy < g.Y + g.Height) continue;
                    long i = 3L * (y * (long)display.Width + x);
                    for (int k = 0; k < 3; k++) overlay.Data[i + k] = 0.5f * display.Data[i + k];
                }
        }
        return (HeatmapRenderer.Colorize(onImage, display.Height, display.Width, cm), overlay);
    }

    /// <summary>
    /// Every channel as a gray tile (its own min…max), tiles in channel order, <paramref name="columns"/>
    /// per row, no gaps: tile c lies at ((c mod columns)·W, (c div columns)·H).
    /// </summary>
    public static RgbImage Sprite(LayerActivations a, int columns)
    {
        var tiles = new Tile[a.Channels];
        Parallel.For(0, a.Channels, c =>
            tiles[c] = new Tile(HeatmapRenderer.Colorize(MapMath.NormalizeMinMax(a.ChannelPlane(c).ToArray()), a.Height, a.Width, Colormap.Gray)));
        return TileGrid.Compose(tiles, columns, gap: 0);
    }

    public static int SpriteColumns(int channels) => Math.Max(1, (int)Math.Ceiling(Math.Sqrt(channels)));
}
