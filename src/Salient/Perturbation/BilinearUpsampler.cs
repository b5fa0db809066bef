using System.Numerics;
using System.Runtime.InteropServices;

namespace Salient.Perturbation;

/// <summary>
/// Separable bilinear resize of one plane with precomputed taps, for the many masks of a
/// perturbation method. Sampling is the one of <see cref="Rendering.MapOps.ResizeBilinear"/>
/// (half-pixel centres, align_corners = false, edge clamped: output x samples source coordinate
/// (x + 0.5)·srcW/dstW − 0.5) and so is the arithmetic (a + (b − a)·f along x, then along y), so
/// the results are bit-identical; only the work is arranged differently (rows first, then a
/// vectorized blend of two rows per output row).
/// </summary>
public sealed class BilinearUpsampler
{
    private readonly int _srcH, _srcW, _dstH, _dstW;
    private readonly int[] _x0, _x1, _y0, _y1;
    private readonly float[] _fx, _fy;

    public BilinearUpsampler(int srcH, int srcW, int dstH, int dstW)
    {
        if (srcH <= 0 || srcW <= 0 || dstH <= 0 || dstW <= 0) throw new ArgumentOutOfRangeException(nameof(srcH), "sizes must be positive");
        (_srcH, _srcW, _dstH, _dstW) = (srcH, srcW, dstH, dstW);
        (_x0, _x1, _fx) = Taps(srcW, dstW);
        (_y0, _y1, _fy) = Taps(srcH, dstH);
    }

    public int SourceHeight => _srcH;
    public int SourceWidth => _srcW;
    public int Height => _dstH;
    public int Width => _dstW;
    /// <summary>Floats of scratch space <see cref="Resize"/> needs.</summary>
    public int ScratchLength => _srcH * _dstW;

    private static (int[] I0, int[] I1, float[] F) Taps(int srcN, int dstN)
    {
        var i0 = new int[dstN];
        var i1 = new int[dstN];
        var f = new float[dstN];
        double scale = (double)srcN / dstN;
        for (int i = 0; i < dstN; i++)
        {
            double s = (i + 0.5) * scale - 0.5;
            if (s <= 0) { i0[i] = 0; i1[i] = 0; f[i] = 0; }
            else if (s >= srcN - 1) { i0[i] = srcN - 1; i1[i] = srcN - 1; f[i] = 0; }
            else { int a = (int)s; i0[i] = a; i1[i] = a + 1; f[i] = (float)(s - a); }
        }
        return (i0, i1, f);
    }

    /// <summary>Resizes <paramref name="src"/> (srcH × srcW) into <paramref name="dst"/> (dstH × dstW); returns the min and max of the result.</summary>
    public (float Min, float Max) Resize(ReadOnlySpan<float> src, Span<float> dst, Span<float> scratch)
    {
        if (src.Length < _srcH * _srcW || dst.Length < _dstH * _dstW || scratch.Length < ScratchLength)
            throw new ArgumentException("buffer too small");
        // Along x: every source row to dstW values.
        for (int y = 0; y < _srcH; y++)
        {
            var row = src.Slice(y * _srcW, _srcW);
            var o = scratch.Slice(y * _dstW, _dstW);
            for (int x = 0; x < o.Length; x++)
            {
                float a = row[_x0[x]];
                o[x] = a + (row[_x1[x]] - a) * _fx[x];
            }
        }
        // Along y: each output row blends two x-resized rows.
        var vmin = new Vector<float>(float.PositiveInfinity);
        var vmax = new Vector<float>(float.NegativeInfinity);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        int n = Vector<float>.Count;
        for (int y = 0; y < _dstH; y++)
        {
            var r0 = scratch.Slice(_y0[y] * _dstW, _dstW);
            var r1 = scratch.Slice(_y1[y] * _dstW, _dstW);
            var o = dst.Slice(y * _dstW, _dstW);
            float fy = _fy[y];
            int x = 0;
            if (Vector.IsHardwareAccelerated && _dstW >= n)
            {
                var vf = new Vector<float>(fy);
                var a0 = MemoryMarshal.Cast<float, Vector<float>>(r0);
                var a1 = MemoryMarshal.Cast<float, Vector<float>>(r1);
                var ov = MemoryMarshal.Cast<float, Vector<float>>(o);
                for (int v = 0; v < ov.Length; v++)
                {
                    var r = a0[v] + (a1[v] - a0[v]) * vf;
                    ov[v] = r;
                    vmin = Vector.Min(vmin, r);
                    vmax = Vector.Max(vmax, r);
                }
                x = ov.Length * n;
            }
            for (; x < _dstW; x++)
            {
                float a = r0[x];
                float r = a + (r1[x] - a) * fy;
                o[x] = r;
                if (r < min) min = r;
                if (r > max) max = r;
            }
        }
        for (int i = 0; i < n; i++)
        {
            if (vmin[i] < min) min = vmin[i];
            if (vmax[i] > max) max = vmax[i];
        }
        return (min, max);
    }
}

/// <summary>Small vectorized span kernels for building perturbed inputs.</summary>
internal static class SpanMath
{
    /// <summary>dst[i] = x[i] · m[i].</summary>
    public static void Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> m, Span<float> dst)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var mv = MemoryMarshal.Cast<float, Vector<float>>(m);
            var dv = MemoryMarshal.Cast<float, Vector<float>>(dst);
            int len = Math.Min(dv.Length, Math.Min(xv.Length, mv.Length));
            for (int v = 0; v < len; v++) dv[v] = xv[v] * mv[v];
            i = len * Vector<float>.Count;
        }
        for (; i < dst.Length; i++) dst[i] = x[i] * m[i];
    }

    /// <summary>m[i] = (m[i] − offset) · scale, in place.</summary>
    public static void Affine(Span<float> m, float offset, float scale)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var mv = MemoryMarshal.Cast<float, Vector<float>>(m);
            var o = new Vector<float>(offset);
            var s = new Vector<float>(scale);
            for (int v = 0; v < mv.Length; v++) mv[v] = (mv[v] - o) * s;
            i = mv.Length * Vector<float>.Count;
        }
        for (; i < m.Length; i++) m[i] = (m[i] - offset) * scale;
    }

    /// <summary>acc[i] += w · m[i] (double accumulator).</summary>
    public static void AddScaled(Span<double> acc, ReadOnlySpan<float> m, double w)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var mv = MemoryMarshal.Cast<float, Vector<float>>(m);
            var av = MemoryMarshal.Cast<double, Vector<double>>(acc);
            var vw = new Vector<double>(w);
            int n = Math.Min(mv.Length, av.Length / 2);
            for (int v = 0; v < n; v++)
            {
                Vector.Widen(mv[v], out var lo, out var hi);
                av[2 * v] += lo * vw;
                av[2 * v + 1] += hi * vw;
            }
            i = n * Vector<float>.Count;
        }
        for (; i < acc.Length; i++) acc[i] += w * m[i];
    }

    /// <summary>True when every value of <paramref name="s"/> equals the first.</summary>
    public static bool IsConstant(ReadOnlySpan<float> s)
    {
        if (s.Length == 0) return true;
        float first = s[0];
        foreach (var v in s) if (v != first) return false;
        return true;
    }
}
