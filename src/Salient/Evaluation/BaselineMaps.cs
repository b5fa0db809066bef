using Salient.Imaging;

namespace Salient.Evaluation;

/// <summary>The floor a method must beat: a seeded uniform random map and an edge detector (Sobel).</summary>
internal static class BaselineMaps
{
    public const string Random = "random", Sobel = "sobel";

    /// <summary>Uniform [0, 1) values from <paramref name="seed"/>.</summary>
    public static float[] RandomMap(int h, int w, int seed)
    {
        var rng = new Random(seed);
        var m = new float[h * w];
        for (int i = 0; i < m.Length; i++) m[i] = (float)rng.NextDouble();
        return m;
    }

    /// <summary>Σ over channels of the Sobel gradient magnitude of the model input (edges replicated), scaled to [0, 1] by its maximum.</summary>
    public static float[] SobelMap(PreparedInput x)
    {
        int h = x.Height, w = x.Width, plane = h * w;
        var planes = Evaluator.ToPlanes(x);
        var m = new float[plane];
        for (int c = 0; c < x.Channels; c++)
        {
            int off = c * plane;
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++)
                {
                    float At(int dy, int dx) => planes[off + Math.Clamp(y + dy, 0, h - 1) * w + Math.Clamp(xx + dx, 0, w - 1)];
                    float gx = At(-1, 1) + 2 * At(0, 1) + At(1, 1) - At(-1, -1) - 2 * At(0, -1) - At(1, -1);
                    float gy = At(1, -1) + 2 * At(1, 0) + At(1, 1) - At(-1, -1) - 2 * At(-1, 0) - At(-1, 1);
                    m[y * w + xx] += MathF.Sqrt(gx * gx + gy * gy);
                }
        }
        float max = m.Max();
        if (max > 0) for (int i = 0; i < plane; i++) m[i] /= max;
        return m;
    }
}

/// <summary>Mean and percentile-bootstrap 95 % interval over images.</summary>
internal static class Bootstrap
{
    /// <summary>2.5th and 97.5th percentiles of the means of <paramref name="resamples"/> seeded resamples with replacement.</summary>
    public static (double Mean, double Low, double High) Interval(IReadOnlyList<double> values, int seed, int resamples = 1000)
    {
        int n = values.Count;
        if (n == 0) return (double.NaN, double.NaN, double.NaN);
        double mean = values.Average();
        if (n == 1) return (mean, mean, mean);
        var rng = new Random(seed);
        var means = new float[resamples];
        for (int r = 0; r < resamples; r++)
        {
            double s = 0;
            for (int i = 0; i < n; i++) s += values[rng.Next(n)];
            means[r] = (float)(s / n);
        }
        return (mean, Statistics.Percentile(means, 2.5), Statistics.Percentile(means, 97.5));
    }
}
