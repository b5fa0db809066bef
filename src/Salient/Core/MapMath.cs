namespace Salient.Core;

/// <summary>Operations on single-channel saliency maps stored row-major (height × width).</summary>
public static class MapMath
{
    /// <summary>
    /// Bilinear resize with half-pixel centers (align_corners = false) and edge clamping — the same
    /// sampling as cv2.resize INTER_LINEAR and torch interpolate(mode='bilinear', align_corners=False).
    /// Output pixel x samples source coordinate (x + 0.5)·srcW/dstW − 0.5. No antialiasing.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float[] ResizeBilinear(float[] src, int srcH, int srcW, int dstH, int dstW)
    {
        ArgumentNullException.ThrowIfNull(src);
        CheckSize(src, srcH, srcW, nameof(src));
        if (dstH <= 0 || dstW <= 0) throw new ArgumentOutOfRangeException(nameof(dstH), "target size must be positive");
        if (srcH == dstH && srcW == dstW) return (float[])src.Clone();
        var up = new BilinearUpsampler(srcH, srcW, dstH, dstW);
        var dst = new float[checked(dstH * dstW)];
        up.Resize(src, dst, new float[up.ScratchLength]);
        return dst;
    }

    /// <summary>The two source indices and the blend weight for source coordinate <paramref name="s"/> on an axis of n samples (edge clamped).</summary>
    internal static (int I0, int I1, float F) Tap(double s, int n)
    {
        if (s <= 0) return (0, 0, 0f);
        if (s >= n - 1) return (n - 1, n - 1, 0f);
        int i0 = (int)s;
        return (i0, i0 + 1, (float)(s - i0));
    }

    /// <summary>
    /// Rescales to [0, 1] by (v − min) / (max − min). A constant map (or one without finite values) gives
    /// all zeros; NaN values become 0 and never propagate.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float[] NormalizeMinMax(float[] map)
    {
        ArgumentNullException.ThrowIfNull(map);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in map)
        {
            if (!float.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        var result = new float[map.Length];
        double range = (double)max - min;
        if (!(range > 0) || double.IsInfinity(range)) return result;
        for (int i = 0; i < map.Length; i++)
        {
            float v = map[i];
            if (float.IsNaN(v)) continue;
            result[i] = (float)Math.Clamp((v - (double)min) / range, 0.0, 1.0);
        }
        return result;
    }

    /// <summary>Divides by the maximum when it is positive (otherwise returns an unchanged copy); NaN becomes 0.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float[] NormalizeByMax(float[] map)
    {
        ArgumentNullException.ThrowIfNull(map);
        float max = float.NegativeInfinity;
        foreach (var v in map)
            if (float.IsFinite(v) && v > max) max = v;
        var result = new float[map.Length];
        for (int i = 0; i < map.Length; i++)
        {
            float v = map[i];
            if (float.IsNaN(v)) continue;
            result[i] = max > 0 ? v / max : v;
        }
        return result;
    }

    /// <summary>
    /// Places a map computed on the model input back onto the original image: returns a
    /// SourceHeight × SourceWidth map where each original pixel whose center (x + 0.5, y + 0.5) lies in the
    /// crop rectangle takes the bilinearly interpolated map value at that point (half-pixel centers, edge
    /// clamped, so a rectangle equal to the whole image gives the same result as <see cref="ResizeBilinear"/>);
    /// pixels outside the rectangle are 0.
    /// </summary>
    public static float[] ToOriginalGeometry(float[] map, int mapH, int mapW, CropGeometry g)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(g);
        CheckSize(map, mapH, mapW, nameof(map));
        if (g.SourceWidth <= 0 || g.SourceHeight <= 0 || !(g.Width > 0) || !(g.Height > 0))
            throw new ArgumentException("crop geometry must have a positive size", nameof(g));
        int w = g.SourceWidth, h = g.SourceHeight;
        var result = new float[checked(w * h)];

        // columns: inside flag + tap; rows likewise
        var cols = new (bool In, int I0, int I1, float F)[w];
        for (int x = 0; x < w; x++)
        {
            double cx = x + 0.5;
            bool inside = cx >= g.X && cx < g.X + g.Width;
            var (i0, i1, f) = Tap((cx - g.X) / g.Width * mapW - 0.5, mapW);
            cols[x] = (inside, i0, i1, f);
        }
        for (int y = 0; y < h; y++)
        {
            double cy = y + 0.5;
            if (!(cy >= g.Y && cy < g.Y + g.Height)) continue;
            var (y0, y1, fy) = Tap((cy - g.Y) / g.Height * mapH - 0.5, mapH);
            int r0 = y0 * mapW, r1 = y1 * mapW;
            int o = y * w;
            for (int x = 0; x < w; x++)
            {
                var (inside, x0, x1, fx) = cols[x];
                if (!inside) continue;
                float top = map[r0 + x0] + (map[r0 + x1] - map[r0 + x0]) * fx;
                float bottom = map[r1 + x0] + (map[r1 + x1] - map[r1 + x0]) * fx;
                result[o + x] = top + (bottom - top) * fy;
            }
        }
        return result;
    }

    /// <summary>|m| / (the given quantile of |m|), clipped to [0,1]; falls back to ÷max when the quantile is 0.</summary>
    public static float[] NormalizeByPercentile(float[] map, double q)
    {
        var abs = Array.ConvertAll(map, Math.Abs);
        float max = abs.Length == 0 ? 0 : abs.Max();
        // The order statistic by quickselect (O(n); a full sort of a 224×224 map cost ~3 ms per map).
        float p = abs.Length == 0 ? 0 : Statistics.Select(abs, Math.Clamp((int)Math.Ceiling(q * abs.Length) - 1, 0, abs.Length - 1));
        if (p <= 0) p = max;
        var r = new float[map.Length];
        if (p <= 0) return r;
        for (int i = 0; i < r.Length; i++) r[i] = Math.Min(1f, Math.Abs(map[i]) / p);
        return r;
    }

    private static void CheckSize(float[] map, int h, int w, string name)
    {
        if (h <= 0 || w <= 0) throw new ArgumentOutOfRangeException(name, "map size must be positive");
        if ((long)h * w != map.LongLength)
            throw new ArgumentException($"map has {map.Length} values, expected {h}x{w}", name);
    }
}
