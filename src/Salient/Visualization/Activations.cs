using Salient.Imaging;
using Salient.Models;
using Salient.Rendering;
using Salient.Runtime;

namespace Salient.Visualization;

/// <summary>How the tiles of an activation grid are scaled to gray levels.</summary>
public enum GridNormalization
{
    /// <summary>Each channel from its own minimum (black) to its own maximum (white).</summary>
    Channel,
    /// <summary>One range for the whole layer, so tiles compare across channels.</summary>
    Shared,
}

/// <summary>
/// One layer's activations for one image, as C planes of H × W (channel-major, whatever the layer's
/// layout), with per-channel mean and maximum.
/// </summary>
public sealed record LayerActivations(string Layer, int Channels, int Height, int Width, float[] Data, float[] Means, float[] Maxima)
{
    public ReadOnlySpan<float> ChannelPlane(int c) => Data.AsSpan(c * Height * Width, Height * Width);

    /// <summary>Channel indices by decreasing mean activation (ties: lower index first).</summary>
    public int[] TopChannels(int k) =>
        Enumerable.Range(0, Channels).OrderByDescending(c => Means[c]).ThenBy(c => c).Take(Math.Max(0, k)).ToArray();
}

/// <summary>An image's response to one channel: its mean and peak activation and the activation map.</summary>
public sealed record ChannelResponse(string Source, float Mean, float Max, RgbImage ModelView, float[] Map, int MapHeight, int MapWidth);

/// <summary>
/// The live-activation view of Yosinski et al.'s toolbox, offline: every channel of a layer for one
/// input as a tiled grid, the most active channels marked; and, for one channel, which images of a
/// set excite it most.
/// </summary>
public static class Activations
{
    /// <summary>The activations of <paramref name="layer"/> for a batch of images (one forward pass per 8 images).</summary>
    public static IReadOnlyList<LayerActivations> Compute(SalientModel model, IReadOnlyList<RgbImage> images, string layer)
    {
        var structure = model.Structure();
        var (info, channels, h, w) = ResolvedTerm.Layer(structure, layer);
        var result = new List<LayerActivations>(images.Count);
        int batch = model.Input.DynamicBatch ? 8 : model.Input.FixedBatch;
        for (int first = 0; first < images.Count; first += batch)
        {
            var items = images.Skip(first).Take(batch).Select(model.Prepare).ToList();
            var outputs = model.Run(items, info.Name);
            var t = outputs[info.Name];
            for (int b = 0; b < items.Count; b++)
                result.Add(FromTensor(info.Name, t, b, channels, h, w, info.Layout));
        }
        return result;
    }

    /// <summary>The activations of <paramref name="layer"/> for one image.</summary>
    public static LayerActivations Compute(SalientModel model, RgbImage image, string layer) => Compute(model, [image], layer)[0];

    internal static LayerActivations FromTensor(string name, TensorValue t, int item, int channels, int h, int w, TensorLayout? layout)
    {
        int per = channels * h * w;
        if (t.Length < (long)(item + 1) * per) throw new SalientException($"tensor '{name}' is smaller than expected for item {item}");
        var src = t.Data.AsSpan(item * per, per);
        var data = new float[per];
        if (layout == TensorLayout.Nhwc)
        {
            for (int p = 0; p < h * w; p++)
                for (int c = 0; c < channels; c++) data[c * h * w + p] = src[p * channels + c];
        }
        else src.CopyTo(data);
        var means = new float[channels];
        var maxima = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            var plane = data.AsSpan(c * h * w, h * w);
            double s = 0;
            float m = float.NegativeInfinity;
            foreach (var v in plane) { s += v; m = Math.Max(m, v); }
            means[c] = (float)(s / plane.Length);
            maxima[c] = m;
        }
        return new LayerActivations(name, channels, h, w, data, means, maxima);
    }

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
    /// The images (files) ranked by the mean activation of one channel of a layer, highest first;
    /// unreadable files fail with a <see cref="SalientException"/> naming the file.
    /// </summary>
    public static IReadOnlyList<ChannelResponse> RankImages(SalientModel model, IReadOnlyList<string> files, string layer, int channel)
    {
        var structure = model.Structure();
        var (info, channels, h, w) = ResolvedTerm.Layer(structure, layer);
        if (channel < 0 || channel >= channels)
            throw new SalientException($"channel {channel} is out of range: layer '{info.Name}' has {channels} channels (0–{channels - 1})");
        var result = new List<ChannelResponse>(files.Count);
        int batch = model.Input.DynamicBatch ? 8 : model.Input.FixedBatch;
        for (int first = 0; first < files.Count; first += batch)
        {
            var names = files.Skip(first).Take(batch).ToList();
            var items = names.Select(f => model.Prepare(model.LoadImage(f))).ToList();
            var t = model.Run(items, info.Name)[info.Name];
            for (int b = 0; b < items.Count; b++)
            {
                var a = FromTensor(info.Name, t, b, channels, h, w, info.Layout);
                result.Add(new ChannelResponse(names[b], a.Means[channel], a.Maxima[channel], items[b].ModelView, a.ChannelPlane(channel).ToArray(), h, w));
            }
        }
        return result.OrderByDescending(r => r.Mean).ThenBy(r => r.Source, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The top images of <see cref="RankImages"/> as a grid: each model view with the channel's
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
