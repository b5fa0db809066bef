using Salient.Imaging;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Visualization;

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
/// input, and, for one channel, which images of a set excite it most (their pictures: see
/// docs/deepvis.md).
/// </summary>
public static class Activations
{
    /// <summary>The activations of <paramref name="layer"/> for a batch of images (one forward pass per 8 images).</summary>
    public static IReadOnlyList<LayerActivations> Compute(SalientModel model, IReadOnlyList<RgbImage> images, string layer)
    {
        using var lease = model.Enter();
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
    /// The images (files) ranked by the mean activation of one channel of a layer, highest first;
    /// unreadable files fail with a <see cref="SalientException"/> naming the file.
    /// </summary>
    public static IReadOnlyList<ChannelResponse> RankImages(SalientModel model, IReadOnlyList<string> files, string layer, int channel)
    {
        using var lease = model.Enter();
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
}
