using System.Numerics;
using System.Runtime.InteropServices;

namespace Salient.Core;

/// <summary>
/// Separable bilinear resize of one plane with precomputed taps, for the many masks of a
/// perturbation method. Sampling is the one of <see cref="MapMath.ResizeBilinear"/>
/// (half-pixel centres, align_corners = false, edge clamped: output x samples source coordinate
/// (x + 0.5)·srcW/dstW − 0.5) and so is the arithmetic (a + (b − a)·f along x, then along y), so
/// the results are bit-identical; only the work is arranged differently (rows first, then a
/// vectorized blend of two rows per output row).
/// </summary>
internal sealed class BilinearUpsampler
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
        for (int i = 0; i < dstN; i++) (i0[i], i1[i], f[i]) = MapMath.Tap((i + 0.5) * scale - 0.5, srcN);
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

