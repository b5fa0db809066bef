using Salient.Imaging;

namespace Salient.Evaluation;

/// <summary>What a perturbed input is scored by: the class's softmax probability (default) or its logit.</summary>
internal enum ScoreTarget { Probability, Logit }

/// <summary>What deletion removes pixels to, and insertion starts from.</summary>
internal enum DeletionBaseline { Blur, Black, Mean }

/// <summary>The metric names of <c>salient evaluate</c> (issue 11), and which of them run the model.</summary>
internal static class MetricNames
{
    public const string Deletion = "deletion", Insertion = "insertion", RoadMorf = "road-morf", RoadLerf = "road-lerf", Road = "road",
        AverageDrop = "average-drop", IncreaseInConfidence = "increase-in-confidence", ConfidenceChange = "confidence-change",
        Pointing = "pointing", EnergyPointing = "energy-pointing", Sparsity = "sparsity";

    public static readonly string[] All = [Deletion, Insertion, RoadMorf, RoadLerf, Road, AverageDrop, IncreaseInConfidence, ConfidenceChange, Pointing, EnergyPointing, Sparsity];

    /// <summary>Whether a larger value is better (deletion, road-morf: smaller is better).</summary>
    public static bool HigherIsBetter(string metric) => metric is not (Deletion or RoadMorf or AverageDrop);

    public static bool NeedsBoxes(string metric) => metric is Pointing or EnergyPointing;

    /// <summary>Parses a comma-separated list; an unknown name fails with the closest one suggested.</summary>
    public static IReadOnlyList<string> Parse(string list)
    {
        var result = new List<string>();
        foreach (var raw in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = raw.ToLowerInvariant();
            if (!All.Contains(name))
                throw new SalientException(Names.Suggest(name, All) is { } near
                    ? $"unknown metric '{raw}'; did you mean '{near}'?"
                    : $"unknown metric '{raw}'; metrics: {string.Join(", ", All)}");
            if (!result.Contains(name)) result.Add(name);
        }
        if (result.Count == 0) throw new SalientException("no metric given");
        return result;
    }
}

/// <summary>Choices shared by every metric (docs/evaluation.md states each).</summary>
internal sealed record EvaluationOptions
{
    /// <summary>Deletion / insertion steps N: N + 1 points, step k changes ⌊k·H·W/N⌋ pixels.</summary>
    public int Steps { get; init; } = 50;
    public DeletionBaseline Baseline { get; init; } = DeletionBaseline.Blur;
    /// <summary>ROAD percentiles (pytorch-grad-cam's defaults).</summary>
    public IReadOnlyList<double> Percentiles { get; init; } = [10, 20, 30, 40, 50, 60, 70, 80, 90];
    /// <summary>ROAD imputation noise (standard deviation in model-input units; pytorch-grad-cam's 0.01). 0: deterministic.</summary>
    public double Noise { get; init; } = 0.01;
    public int Seed { get; init; }
    public ScoreTarget Target { get; init; } = ScoreTarget.Probability;
    /// <summary>Any other target measured instead (its spec, e.g. "segmentation:281"; the case carries its score); null for prob / logit.</summary>
    public string? TargetSpec { get; init; }
    /// <summary>Pointing game tolerance in original-image pixels (Zhang et al. 2016: 15).</summary>
    public double PointingTolerance { get; init; } = 15;
    /// <summary>Rows per ORT run; null: <see cref="Perturbation.BatchSizing.ForRows"/> (small batches within the memory budget).</summary>
    public int? BatchSize { get; init; }
    public long MemoryBudget { get; init; } = 1L << 30;

}

/// <summary>A box in the original image's pixels, [x0, x1) × [y0, y1).</summary>
internal readonly record struct Box(double X0, double Y0, double X1, double Y1);

/// <summary>Metrics that need no model run: localization against boxes and sparsity.</summary>
internal static class MapMetrics
{
    /// <summary>The original-image position of the centre of input-grid pixel (u, v).</summary>
    public static (double X, double Y) ToSource(CropGeometry g, int u, int v, int w, int h) =>
        (g.X + (u + 0.5) * g.Width / w, g.Y + (v + 0.5) * g.Height / h);

    /// <summary>
    /// Pointing game (Zhang et al. 2016): 1 if the map's maximum (the first in row-major order), taken
    /// back to the original image, lies within <paramref name="tolerance"/> pixels of a box, else 0.
    /// </summary>
    public static double Pointing(ReadOnlySpan<float> map, int h, int w, CropGeometry g, IReadOnlyList<Box> boxes, double tolerance)
    {
        int best = 0;
        for (int i = 1; i < map.Length; i++) if (map[i] > map[best]) best = i;
        var (x, y) = ToSource(g, best % w, best / w, w, h);
        foreach (var b in boxes)
        {
            double dx = Math.Max(Math.Max(b.X0 - x, x - b.X1), 0), dy = Math.Max(Math.Max(b.Y0 - y, y - b.Y1), 0);
            if (dx * dx + dy * dy <= tolerance * tolerance) return 1;
        }
        return 0;
    }

    /// <summary>
    /// Energy-based pointing game (Wang et al. 2020, Score-CAM): the share of the map's energy (its
    /// positive part) whose pixel centres fall inside the union of the boxes; 0 for an all-zero map.
    /// </summary>
    public static double EnergyPointing(ReadOnlySpan<float> map, int h, int w, CropGeometry g, IReadOnlyList<Box> boxes)
    {
        double inside = 0, total = 0;
        for (int v = 0; v < h; v++)
            for (int u = 0; u < w; u++)
            {
                double m = Math.Max(map[v * w + u], 0f);
                if (m == 0) continue;
                total += m;
                var (x, y) = ToSource(g, u, v, w, h);
                foreach (var b in boxes)
                    if (x >= b.X0 && x < b.X1 && y >= b.Y0 && y < b.Y1) { inside += m; break; }
            }
        return total > 0 ? inside / total : 0;
    }

    /// <summary>
    /// Gini index of |map| (Hurley &amp; Rickard 2009; Chalasani et al. 2020): with a₁ ≤ … ≤ aₙ sorted,
    /// G = Σₖ (2k − n − 1)·aₖ / (n·Σ aₖ). 0 for a constant map, (n − 1)/n when one pixel holds everything.
    /// </summary>
    public static double Gini(ReadOnlySpan<float> map)
    {
        int n = map.Length;
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = Math.Abs((double)map[i]);
        Array.Sort(a);
        double sum = 0, weighted = 0;
        for (int k = 0; k < n; k++)
        {
            sum += a[k];
            weighted += (2.0 * (k + 1) - n - 1) * a[k];
        }
        return sum > 0 ? weighted / (n * sum) : 0;
    }
}
