using System.Numerics;
using System.Runtime.InteropServices;

namespace Salient.Core;

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
