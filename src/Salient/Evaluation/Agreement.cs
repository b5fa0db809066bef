namespace Salient.Evaluation;

/// <summary>
/// How much two saliency maps of the same grid agree (docs/report.md "Agreement"):
/// <list type="bullet">
/// <item><b>Spearman's ρ</b>: the Pearson correlation of the two maps' ranks, ties getting their
/// average rank (1 = same order everywhere, −1 = reversed, 0 when either map is constant).</item>
/// <item><b>IoU of the top regions</b>: each map's top region is the pixels at or above its k-th
/// largest value, k = ⌈fraction · n⌉ (so ties at the threshold are all in, and the region can hold more
/// than k pixels); the score is |A ∩ B| / |A ∪ B| (1 for identical maps).</item>
/// </list>
/// Both accept a mask: only the pixels where it is true are compared (e.g. the pixels every model saw).
/// </summary>
internal static class Agreement
{
    /// <summary>The share of pixels in a top region by default: the top 20 %.</summary>
    public const double DefaultTopFraction = 0.2;

    /// <summary>Spearman's ρ of two maps of the same size (over the masked pixels when a mask is given).</summary>
    public static double Spearman(float[] a, float[] b, bool[]? mask = null)
    {
        var (x, y) = Select(a, b, mask);
        return Pearson(Ranks(x), Ranks(y));
    }

    /// <summary>1-based ranks in ascending order; tied values share the average of their ranks.</summary>
    public static double[] Ranks(float[] v)
    {
        var order = Enumerable.Range(0, v.Length).ToArray();
        var keys = (float[])v.Clone();
        Array.Sort(keys, order);
        var ranks = new double[v.Length];
        int i = 0;
        while (i < order.Length)
        {
            int j = i + 1;
            while (j < order.Length && keys[j] == keys[i]) j++;
            double r = (i + j - 1) / 2.0 + 1;
            for (int k = i; k < j; k++) ranks[order[k]] = r;
            i = j;
        }
        return ranks;
    }

    /// <summary>The top region of a map: true where the value is at or above its k-th largest value, k = ⌈fraction · n⌉.</summary>
    public static bool[] TopRegion(float[] map, double fraction = DefaultTopFraction)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), "the top fraction must be in (0, 1]");
        var region = new bool[map.Length];
        if (map.Length == 0) return region;
        int k = Math.Max(1, (int)Math.Ceiling(fraction * map.Length - 1e-9));
        var sorted = (float[])map.Clone();
        Array.Sort(sorted);
        float threshold = sorted[map.Length - k];
        for (int i = 0; i < map.Length; i++) region[i] = map[i] >= threshold;
        return region;
    }

    /// <summary>Intersection over union of the two maps' top regions (over the masked pixels when a mask is given); 1 when both are empty.</summary>
    public static double TopIoU(float[] a, float[] b, double fraction = DefaultTopFraction, bool[]? mask = null)
    {
        var (x, y) = Select(a, b, mask);
        var ra = TopRegion(x, fraction);
        var rb = TopRegion(y, fraction);
        int inter = 0, union = 0;
        for (int i = 0; i < ra.Length; i++)
        {
            if (ra[i] && rb[i]) inter++;
            if (ra[i] || rb[i]) union++;
        }
        return union == 0 ? 1 : (double)inter / union;
    }

    private static (float[] A, float[] B) Select(float[] a, float[] b, bool[]? mask)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Length != b.Length) throw new ArgumentException($"maps of different sizes ({a.Length} and {b.Length} values)");
        if (mask is null) return (a, b);
        if (mask.Length != a.Length) throw new ArgumentException($"the mask has {mask.Length} values for maps of {a.Length}");
        var x = new List<float>(); var y = new List<float>();
        for (int i = 0; i < a.Length; i++)
            if (mask[i]) { x.Add(a[i]); y.Add(b[i]); }
        return (x.ToArray(), y.ToArray());
    }

    private static double Pearson(double[] x, double[] y)
    {
        if (x.Length == 0) return 0;
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
        }
        return sxx <= 0 || syy <= 0 ? 0 : sxy / Math.Sqrt(sxx * syy);
    }
}
