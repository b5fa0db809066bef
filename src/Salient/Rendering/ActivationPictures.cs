using Salient.Imaging;
using Salient.Visualization;

namespace Salient.Rendering;

/// <summary>How the tiles of an activation grid are scaled to gray levels.</summary>
internal enum GridNormalization
{
    /// <summary>Each channel from its own minimum (black) to its own maximum (white).</summary>
    Channel,
    /// <summary>One range for the whole layer, so tiles compare across channels.</summary>
    Shared,
}

/// <summary>
/// The pictures of <see cref="Activations"/>: every channel of a layer as a tiled grid with the most
/// active channels marked, and the images that excite one channel most with its activation map.
/// </summary>
internal static class ActivationPictures
{
    /// <summary>
    /// Every channel as a gray tile (enlarged by pixel replication to at least <paramref name="minTile"/>
    /// pixels), in channel order, captioned with the channel index; the <paramref name="top"/> most active
    /// channels (by mean) framed and badged with their rank.
    /// </summary>
    public static RgbImage RenderGrid(LayerActivations a, GridNormalization normalization = GridNormalization.Channel, int top = 0,
        int minTile = 32, Colormap colormap = Colormap.Gray, string? title = null)
    {
        int factor = Math.Max(1, (int)Math.Ceiling(minTile / (double)Math.Max(a.Height, a.Width)));
        float gmin = float.PositiveInfinity, gmax = float.NegativeInfinity;
        foreach (var v in a.Data) { gmin = Math.Min(gmin, v); gmax = Math.Max(gmax, v); }
        var rank = new Dictionary<int, int>();
        var topChannels = a.TopChannels(top);
        for (int i = 0; i < topChannels.Length; i++) rank[topChannels[i]] = i + 1;
        bool captions = a.Width * factor >= 24;
        var tiles = new Tile[a.Channels];
        Parallel.For(0, a.Channels, c =>
        {
            var plane = a.ChannelPlane(c);
            float lo = gmin, hi = gmax;
            if (normalization == GridNormalization.Channel)
            {
                lo = float.PositiveInfinity; hi = float.NegativeInfinity;
                foreach (var v in plane) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            }
            var map = new float[plane.Length];
            float range = hi - lo;
            for (int i = 0; i < map.Length; i++) map[i] = range > 0 ? (plane[i] - lo) / range : 0f;
            var img = TileGrid.Enlarge(HeatmapRenderer.Colorize(map, a.Height, a.Width, colormap), factor);
            bool marked = rank.TryGetValue(c, out int r);
            tiles[c] = new Tile(img, captions ? c.ToString() : null, marked, marked ? r.ToString() : null);
        });
        return TileGrid.Compose(tiles, gap: factor * a.Width >= 48 ? 4 : 2, title: title);
    }

    /// <summary>
    /// The top images of <see cref="Activations.RankImages"/> as a grid: each model view with the channel's
    /// activation map overlaid (jet, normalized to the largest activation among the shown images),
    /// captioned with rank and mean activation.
    /// </summary>
    public static RgbImage RenderTopImages(IReadOnlyList<ChannelResponse> ranked, int count, string? title = null, int tile = 160)
    {
        var shown = ranked.Take(Math.Max(1, count)).ToList();
        if (shown.Count == 0) throw new SalientException("no images to show");
        float peak = Math.Max(1e-12f, shown.Max(r => r.Max));
        var tiles = shown.Select((r, i) =>
        {
            var view = Resampler.Resize(r.ModelView, tile, tile);
            var map = MapMath.ResizeBilinear(r.Map, r.MapHeight, r.MapWidth, tile, tile);
            for (int k = 0; k < map.Length; k++) map[k] = Math.Clamp(map[k] / peak, 0f, 1f);
            var overlay = HeatmapRenderer.Overlay(view, map, Colormap.Jet, 0.45f);
            return new Tile(overlay, $"#{i + 1} {Path.GetFileName(r.Source)}\nmean {r.Mean.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}", i == 0);
        }).ToList();
        return TileGrid.Compose(tiles, columns: Math.Min(4, tiles.Count), title: title);
    }
}
