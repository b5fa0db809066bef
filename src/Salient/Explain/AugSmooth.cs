using Salient.Imaging;
using Salient.Methods;

namespace Salient.Explain;

/// <summary>
/// One test-time augmentation of a model input: a zoom about the centre by <see cref="Zoom"/>
/// (1.1 enlarges the content and crops the border away; 0.9 shrinks it and pads with 0, the
/// preprocessing-space zero), then an optional horizontal flip.
/// </summary>
internal readonly record struct Augmentation(bool Flip, double Zoom)
{
    /// <summary>
    /// Writes the augmented tensor: output pixel (y, x) reads the input bilinearly at
    /// u = (y + ½ − H/2)/zoom + H/2 − ½ (and likewise x, after un-flipping); reads that fall outside
    /// the image give 0.
    /// </summary>
    public float[] Apply(float[] tensor, int channels, int h, int w, TensorLayout layout)
    {
        var result = new float[tensor.Length];
        var ty = SourceTaps(h, Zoom, false);
        var tx = SourceTaps(w, Zoom, Flip);
        int plane = h * w;
        for (int y = 0; y < h; y++)
        {
            var (y0, y1, fy, yin) = ty[y];
            if (!yin) continue;
            for (int x = 0; x < w; x++)
            {
                var (x0, x1, fx, xin) = tx[x];
                if (!xin) continue;
                for (int c = 0; c < channels; c++)
                {
                    float At(int yy, int xx) => layout == TensorLayout.Nchw ? tensor[c * plane + yy * w + xx] : tensor[(yy * w + xx) * channels + c];
                    float top = At(y0, x0) + (At(y0, x1) - At(y0, x0)) * fx;
                    float bottom = At(y1, x0) + (At(y1, x1) - At(y1, x0)) * fx;
                    float v = top + (bottom - top) * fy;
                    if (layout == TensorLayout.Nchw) result[c * plane + y * w + x] = v;
                    else result[(y * w + x) * channels + c] = v;
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Adds the de-augmented <paramref name="map"/> (h × w, computed on the augmented input) to
    /// <paramref name="sum"/> and counts the pixels it covers in <paramref name="weight"/>: original pixel
    /// (y, x) sits in the augmented input at y' = (y + ½ − H/2)·zoom + H/2 − ½ (x' likewise, then flipped).
    /// </summary>
    public void AccumulateInverse(float[] map, int h, int w, Span<double> sum, Span<int> weight)
    {
        var ty = TargetTaps(h, Zoom, false);
        var tx = TargetTaps(w, Zoom, Flip);
        for (int y = 0; y < h; y++)
        {
            var (y0, y1, fy, yin) = ty[y];
            if (!yin) continue;
            for (int x = 0; x < w; x++)
            {
                var (x0, x1, fx, xin) = tx[x];
                if (!xin) continue;
                float top = map[y0 * w + x0] + (map[y0 * w + x1] - map[y0 * w + x0]) * fx;
                float bottom = map[y1 * w + x0] + (map[y1 * w + x1] - map[y1 * w + x0]) * fx;
                sum[y * w + x] += top + (bottom - top) * fy;
                weight[y * w + x]++;
            }
        }
    }

    // Augmented pixel i reads original coordinate (i + ½ − n/2)/zoom + n/2 − ½ (flip first).
    private static (int, int, float, bool)[] SourceTaps(int n, double zoom, bool flip)
    {
        var taps = new (int, int, float, bool)[n];
        for (int i = 0; i < n; i++)
        {
            int j = flip ? n - 1 - i : i;
            taps[i] = Tap((j + 0.5 - n / 2.0) / zoom + n / 2.0 - 0.5, n);
        }
        return taps;
    }

    // Original pixel i lies at augmented coordinate (i + ½ − n/2)·zoom + n/2 − ½, then flipped.
    private static (int, int, float, bool)[] TargetTaps(int n, double zoom, bool flip)
    {
        var taps = new (int, int, float, bool)[n];
        for (int i = 0; i < n; i++)
        {
            double s = (i + 0.5 - n / 2.0) * zoom + n / 2.0 - 0.5;
            if (flip) s = n - 1 - s;
            taps[i] = Tap(s, n);
        }
        return taps;
    }

    // Reads more than half a pixel outside the image fall outside it; inside, the usual edge-clamped tap.
    private static (int, int, float, bool) Tap(double s, int n)
    {
        const double eps = 1e-9;
        if (s < -0.5 - eps || s > n - 0.5 + eps) return (0, 0, 0f, false);
        var (i0, i1, f) = MapMath.Tap(s, n);
        return (i0, i1, f, true);
    }
}

/// <summary>
/// <c>aug-smooth</c> for the CAM family: the method runs on six versions of each input — horizontal
/// flip × zoom 1.0 / 1.1 / 0.9 — and the six maps, brought back to the original input grid (upsampled
/// to the input size, then the augmentation undone), are averaged per pixel over the versions that
/// see it (a 1.1 zoom does not see the border). The result is a map at input resolution.
/// </summary>
internal static class AugSmooth
{
    public static IReadOnlyList<Augmentation> Augmentations { get; } =
    [
        new(false, 1.0), new(false, 1.1), new(false, 0.9),
        new(true, 1.0), new(true, 1.1), new(true, 0.9),
    ];

    /// <summary>Every augmentation of every item: index = augmentation · items + item.</summary>
    public static List<PreparedInput> AugmentItems(IReadOnlyList<PreparedInput> items)
    {
        var list = new List<PreparedInput>(Augmentations.Count * items.Count);
        foreach (var a in Augmentations)
            foreach (var it in items)
            {
                var t = a == new Augmentation(false, 1.0) ? it.Tensor : a.Apply(it.Tensor, it.Channels, it.Height, it.Width, it.Layout);
                list.Add(new PreparedInput(t, it.Width, it.Height, it.Channels, it.Layout, it.Geometry, it.ModelView));
            }
        return list;
    }

    /// <summary>The per-item classes repeated for every augmentation.</summary>
    public static List<int[]> RepeatClasses(IReadOnlyList<int[]> classes) =>
        Enumerable.Range(0, Augmentations.Count).SelectMany(_ => classes).ToList();

    /// <summary>Averages the de-augmented maps of <see cref="AugmentItems"/>' items into one map per (item, class), in the order of the un-augmented maps.</summary>
    public static IReadOnlyList<RawMap> Merge(IReadOnlyList<RawMap> maps, IReadOnlyList<PreparedInput> items)
    {
        int n = items.Count;
        var order = new List<(int Item, int Class)>();
        var acc = new Dictionary<(int, int), (double[] Sum, int[] Weight)>();
        foreach (var m in maps)
        {
            int a = m.Item / n, item = m.Item % n;
            var key = (item, m.ClassIndex);
            var it = items[item];
            int h = it.Height, w = it.Width;
            if (!acc.TryGetValue(key, out var slot))
            {
                slot = (new double[h * w], new int[h * w]);
                acc[key] = slot;
                order.Add(key);
            }
            var up = m.Height == h && m.Width == w ? m.Map : MapMath.ResizeBilinear(m.Map, m.Height, m.Width, h, w);
            Augmentations[a].AccumulateInverse(up, h, w, slot.Sum, slot.Weight);
        }
        var result = new List<RawMap>(order.Count);
        foreach (var key in order)
        {
            var (sum, weight) = acc[key];
            var it = items[key.Item];
            var map = new float[sum.Length];
            for (int i = 0; i < map.Length; i++) map[i] = weight[i] > 0 ? (float)(sum[i] / weight[i]) : 0f;
            result.Add(new RawMap(key.Item, key.Class, map, it.Height, it.Width));
        }
        return result;
    }
}
