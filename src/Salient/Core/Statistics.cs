using System.Runtime.CompilerServices;

namespace Salient.Core;

/// <summary>Softmax, arg-max, order statistics: the one implementation of each.</summary>
internal static class Statistics
{
    /// <summary>Softmax of a row of logits in double precision (max-shifted): the one implementation.</summary>
    public static double[] SoftmaxPrecise(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        var p = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++) { p[i] = Math.Exp(logits[i] - max); sum += p[i]; }
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

    /// <summary>Softmax of a row of logits, as floats.</summary>
    public static float[] Softmax(ReadOnlySpan<float> logits) => Array.ConvertAll(SoftmaxPrecise(logits), v => (float)v);

    /// <summary>The softmax probability of one class in a row of logits (double precision).</summary>
    public static double Probability(ReadOnlySpan<float> logits, int cls) => SoftmaxPrecise(logits)[cls];

    /// <summary>Index of the largest value (the first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /// <summary>Quickselect: the k-th smallest value; partially reorders <paramref name="a"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Select(float[] a, int k)
    {
        int left = 0, right = a.Length - 1;
        var rng = new Random(12345);
        while (left < right)
        {
            float pivot = a[rng.Next(left, right + 1)];
            int i = left, j = right;
            while (i <= j)
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) { (a[i], a[j]) = (a[j], a[i]); i++; j--; }
            }
            if (k <= j) right = j;
            else if (k >= i) left = i;
            else return a[k];
        }
        return a[k];
    }

    /// <summary>
    /// The <paramref name="percent"/>-th percentile of <paramref name="values"/> with linear
    /// interpolation between order statistics (numpy's default): rank = p/100 · (n − 1).
    /// </summary>
    public static float Percentile(ReadOnlySpan<float> values, double percent)
    {
        if (values.Length == 0) throw new ArgumentException("no values");
        if (!(percent >= 0 && percent <= 100)) throw new ArgumentOutOfRangeException(nameof(percent), percent, "percentile must be in [0, 100]");
        var a = values.ToArray();
        double rank = percent / 100.0 * (a.Length - 1);
        int lo = (int)Math.Floor(rank);
        int hi = Math.Min(lo + 1, a.Length - 1);
        float vlo = Select(a, lo);
        if (hi == lo || rank == lo) return vlo;
        // After selecting lo, every element right of lo is ≥ a[lo]: the next order statistic is their minimum.
        float vhi = float.PositiveInfinity;
        for (int i = lo + 1; i < a.Length; i++) vhi = Math.Min(vhi, a[i]);
        return (float)(vlo + (rank - lo) * (vhi - vlo));
    }
}
