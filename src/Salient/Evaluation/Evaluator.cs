using Salient.Imaging;
using Salient.Models;
using Salient.Perturbation;

namespace Salient.Evaluation;

/// <summary>One image to evaluate: its prepared input, the class, one map per method (H×W on the input grid), its boxes.</summary>
internal sealed record EvaluationCase(PreparedInput Input, int Class, IReadOnlyDictionary<string, float[]> Maps, IReadOnlyList<Box>? Boxes = null)
{
    /// <summary>A target's score instead of the class's probability or logit (<c>evaluate --target</c> with any other target): the tensor it reads and the score of one row of it.</summary>
    public TargetScore? Target { get; init; }
}

/// <summary>The score every perturbed input is measured by: one row of <paramref name="Tensor"/> → a number (a bound target's slot).</summary>
internal sealed record TargetScore(string Tensor, RowScore Score);

/// <summary>The score of one output row (read in place: a segmentation row is [classes, H, W]).</summary>
internal delegate double RowScore(ReadOnlySpan<float> row);

/// <summary>One number: a metric of one method's map on one image; deletion / insertion keep their curve, ROAD its per-percentile values.</summary>
internal sealed record MetricValue(string Method, string Metric, double Value, double[]? Curve = null);

/// <summary>
/// Runs the faithfulness metrics of one image for every method at once: the perturbed inputs of all
/// methods and metrics are generated row by row into one <see cref="BatchRunner"/> run (one ORT call per
/// batch, pipelined), the unperturbed forward is given or run once, and the deletion/insertion baseline
/// image is run once for all methods.
/// </summary>
internal static class Evaluator
{
    public static IReadOnlyList<MetricValue> Evaluate(SalientModel model, EvaluationCase c, IReadOnlyList<string> metrics, EvaluationOptions o, float[]? logits = null)
    {
        var x = c.Input;
        int h = x.Height, w = x.Width, ch = x.Channels, plane = h * w;
        var structure = model.Structure();
        if (c.Target is null && (c.Class < 0 || c.Class >= structure.ClassCount))
            throw new SalientException($"class {c.Class} is out of range: the model has {structure.ClassCount} classes (0–{structure.ClassCount - 1})");
        foreach (var (method, map) in c.Maps)
            if (map.Length != plane)
                throw new SalientException($"the map of '{method}' has {map.Length} values; the model's input grid is {w}×{h} ({plane})");
        if (o.Steps < 1) throw new SalientException($"steps must be at least 1 (got {o.Steps})");
        // With a target, every perturbed row is reduced to its one score as its batch comes back (Score then reads it back).
        var target = c.Target;
        string scoreTensor = target?.Tensor ?? structure.LogitsName;
        if (target is not null && (logits is null || scoreTensor != structure.LogitsName)) logits = model.Run([x], scoreTensor)[scoreTensor].Data;
        logits ??= model.Run([x])[structure.LogitsName].Data;
        double Score(ReadOnlySpan<float> row) => target is not null ? row[0] : o.Target == ScoreTarget.Logit ? row[c.Class] : Statistics.Probability(row, c.Class);
        double original = target is not null ? target.Score(logits) : Score(logits);

        var rows = new List<PerturbedRow>();
        var results = new List<MetricValue>();
        var pending = new List<Action<float[], int>>(); // turn the scores of all rows into values
        bool del = metrics.Contains(MetricNames.Deletion), ins = metrics.Contains(MetricNames.Insertion);
        int baselineRow = -1;
        float[]? baseline = null;
        if (del || ins)
        {
            baseline = BaselineImage(model, x, o.Baseline);
            baselineRow = rows.Count;
            var b = baseline;
            rows.Add(new WholeRow(d => b.CopyTo(d)));
        }
        bool anyRoad = metrics.Any(m => m.StartsWith("road", StringComparison.Ordinal));
        bool conf = metrics.Any(m => m is MetricNames.AverageDrop or MetricNames.IncreaseInConfidence or MetricNames.ConfidenceChange);

        int methodIndex = 0;
        foreach (var (method, map) in c.Maps)
        {
            int mi = methodIndex++;
            if (del || ins)
            {
                var order = DescendingOrder(map);
                int n = o.Steps;
                foreach (bool deletion in new[] { true, false })
                {
                    if (deletion ? !del : !ins) continue;
                    int start = rows.Count;
                    var inputs = new PixelCurve(deletion ? x.Tensor : baseline!, deletion ? baseline! : x.Tensor, order, ch, plane, x.Layout, fromIsInput: deletion);
                    for (int k = 1; k < n; k++) rows.Add(new CurveStep(inputs, (int)((long)k * plane / n)));
                    pending.Add((scores, per) =>
                    {
                        var curve = new double[n + 1];
                        double b0 = Score(scores.AsSpan(baselineRow * per, per));
                        curve[0] = deletion ? original : b0;
                        curve[n] = deletion ? b0 : original;
                        for (int k = 1; k < n; k++) curve[k] = Score(scores.AsSpan((start + k - 1) * per, per));
                        results.Add(new MetricValue(method, deletion ? MetricNames.Deletion : MetricNames.Insertion, Auc(curve), curve));
                    });
                }
            }
            if (anyRoad)
            {
                var inverse = new float[plane];
                for (int i = 0; i < plane; i++) inverse[i] = 1f - map[i];
                int start = rows.Count;
                var ps = o.Percentiles;
                for (int pi = 0; pi < ps.Count; pi++)
                    foreach (bool morf in new[] { true, false })
                    {
                        var removed = RoadRemoved(morf ? map : inverse, ps[pi]);
                        int seed = unchecked(((o.Seed * 1000003 + mi) * 1009 + pi) * 2 + (morf ? 1 : 0)); // not HashCode.Combine: it is randomized per process
                        rows.Add(new WholeRow(dst => Imputation.Impute(x.Tensor, removed, dst, ch, h, w, x.Layout, o.Noise, o.Noise == 0 ? null : new Random(seed))));
                    }
                pending.Add((scores, per) =>
                {
                    double morfSum = 0, lerfSum = 0;
                    var morfs = new double[ps.Count];
                    var lerfs = new double[ps.Count];
                    for (int pi = 0; pi < ps.Count; pi++)
                    {
                        morfs[pi] = Score(scores.AsSpan((start + 2 * pi) * per, per)) - original;
                        lerfs[pi] = Score(scores.AsSpan((start + 2 * pi + 1) * per, per)) - original;
                        morfSum += morfs[pi];
                        lerfSum += lerfs[pi];
                    }
                    double morfMean = morfSum / ps.Count, lerfMean = lerfSum / ps.Count;
                    if (metrics.Contains(MetricNames.RoadMorf)) results.Add(new MetricValue(method, MetricNames.RoadMorf, morfMean, morfs));
                    if (metrics.Contains(MetricNames.RoadLerf)) results.Add(new MetricValue(method, MetricNames.RoadLerf, lerfMean, lerfs));
                    if (metrics.Contains(MetricNames.Road)) results.Add(new MetricValue(method, MetricNames.Road, (lerfMean - morfMean) / 2));
                });
            }
            if (conf)
            {
                int row = rows.Count;
                rows.Add(new WholeRow(dst => InputMasking.Apply(x.Tensor, map, dst, ch, x.Layout)));
                pending.Add((scores, per) =>
                {
                    double after = Score(scores.AsSpan(row * per, per));
                    if (metrics.Contains(MetricNames.AverageDrop))
                        results.Add(new MetricValue(method, MetricNames.AverageDrop, original > 0 ? 100 * Math.Max(0, original - after) / original : 0));
                    if (metrics.Contains(MetricNames.IncreaseInConfidence))
                        results.Add(new MetricValue(method, MetricNames.IncreaseInConfidence, after > original ? 1 : 0));
                    if (metrics.Contains(MetricNames.ConfidenceChange))
                        results.Add(new MetricValue(method, MetricNames.ConfidenceChange, after - original));
                });
            }
        }

        if (rows.Count > 0)
        {
            var session = model.Session([scoreTensor]);
            int batch = BatchSize(model, o);
            int rowLength = x.Tensor.Length;
            // Every buffer row starts as the input (previous = null); each batch then builds its rows from what they held.
            var runner = new BatchRunner(session,
                [new BatchInput(model.Input.Name, InputMasking.RowShape(model, x), Repeated: x.Tensor, Patch: (start, count, previousStart, previousCount, dst) =>
                {
                    for (int r = 0; r < count; r++)
                        rows[start + r].Build(dst.Slice(r * rowLength, rowLength), previousStart < 0 ? null : r < previousCount ? rows[previousStart + r] : PerturbedRow.Unknown);
                })],
                scoreTensor, batch, model.Input.DynamicBatch ? null : model.Input.FixedBatch);
            int per = 1;
            var scores = target is null ? runner.Run(rows.Count, out per) : runner.Run(rows.Count, 1, (row, kept) => kept[0] = (float)target.Score(row));
            foreach (var p in pending) p(scores, per);
        }

        foreach (var (method, map) in c.Maps)
        {
            if (metrics.Contains(MetricNames.Sparsity)) results.Add(new MetricValue(method, MetricNames.Sparsity, MapMetrics.Gini(map)));
            if (c.Boxes is { Count: > 0 } boxes)
            {
                if (metrics.Contains(MetricNames.Pointing))
                    results.Add(new MetricValue(method, MetricNames.Pointing, MapMetrics.Pointing(map, h, w, x.Geometry, boxes, o.PointingTolerance)));
                if (metrics.Contains(MetricNames.EnergyPointing))
                    results.Add(new MetricValue(method, MetricNames.EnergyPointing, MapMetrics.EnergyPointing(map, h, w, x.Geometry, boxes)));
            }
        }
        // Stable order: methods as given, metrics as requested.
        var methodOrder = c.Maps.Keys.ToList();
        return results.OrderBy(r => methodOrder.IndexOf(r.Method)).ThenBy(r => IndexOf(metrics, r.Metric)).ToList();
    }

    /// <summary>
    /// Rows per ORT run: the option, else <see cref="BatchSizing.ForRows"/> (as many as hold 128 MiB of
    /// activations, at least 2, within the memory budget) — the perturbation methods' default too.
    /// </summary>
    public static int BatchSize(SalientModel model, EvaluationOptions o)
    {
        if (o.BatchSize is { } b) return b;
        return BatchSizing.ForRows(model, o.MemoryBudget);
    }

    private static int IndexOf(IReadOnlyList<string> list, string s)
    {
        for (int i = 0; i < list.Count; i++) if (list[i] == s) return i;
        return -1;
    }

    /// <summary>Trapezoidal area under a curve sampled at 0, 1/N, …, 1.</summary>
    public static double Auc(IReadOnlyList<double> curve)
    {
        int n = curve.Count - 1;
        if (n < 1) return curve.Count == 1 ? curve[0] : 0;
        double s = 0;
        for (int i = 0; i < curve.Count; i++) s += curve[i];
        return (s - (curve[0] + curve[n]) / 2) / n;
    }

    /// <summary>
    /// Pixel indices by decreasing saliency; ties (−0 and +0 included) keep row-major order. A stable
    /// least-significant-digit radix sort of the values' order-preserving bit patterns, a byte per pass.
    /// </summary>
    public static int[] DescendingOrder(float[] map)
    {
        int n = map.Length;
        if (n == 0) return [];
        var keys = new uint[n];
        for (int i = 0; i < n; i++)
        {
            float v = map[i] == 0 ? 0f : map[i];
            uint bits = BitConverter.SingleToUInt32Bits(v);
            // Ascending order of floats = ascending order of these unsigned keys; inverted for descending.
            keys[i] = ~((bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u);
        }
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var next = new int[n];
        Span<int> count = stackalloc int[257];
        for (int shift = 0; shift < 32; shift += 8)
        {
            count.Clear();
            foreach (uint k in keys) count[(int)(k >> shift & 0xFF) + 1]++;
            if (count[(int)(keys[0] >> shift & 0xFF) + 1] == n) continue; // every key has this byte: the pass would change nothing
            for (int b = 0; b < 256; b++) count[b + 1] += count[b];
            foreach (int i in order) next[count[(int)(keys[i] >> shift & 0xFF)]++] = i;
            (order, next) = (next, order);
        }
        return order;
    }

    /// <summary>
    /// ROAD's removed pixels at a percentile, as pytorch-grad-cam: t = the percentile of the map (numpy's
    /// linear interpolation); pixels with value ≥ t are removed (MoRF on the map, LeRF on 1 − map).
    /// </summary>
    public static bool[] RoadRemoved(float[] map, double percentile)
    {
        float t = Statistics.Percentile(map, percentile);
        var removed = new bool[map.Length];
        for (int i = 0; i < map.Length; i++) removed[i] = !(map[i] < t);
        return removed;
    }

    /// <summary>
    /// The deletion / insertion baseline in model-input units: <c>blur</c> = the input blurred by a
    /// Gaussian of σ = 5 px per 224 px of the shorter side (RISE's insertion substrate: 11-tap, σ = 5);
    /// <c>black</c> = a black image preprocessed like the input; <c>mean</c> = each channel's mean over the input.
    /// </summary>
    public static float[] BaselineImage(SalientModel model, PreparedInput x, DeletionBaseline kind)
    {
        int h = x.Height, w = x.Width, c = x.Channels, plane = h * w;
        var result = new float[x.Tensor.Length];
        switch (kind)
        {
            case DeletionBaseline.Black:
                Preprocessor.WriteTensor(new RgbImage(w, h, new float[plane * 3]), result, c, x.Layout, model.Preprocessing);
                break;
            case DeletionBaseline.Mean:
                for (int ch = 0; ch < c; ch++)
                {
                    double s = 0;
                    for (int p = 0; p < plane; p++) s += x.Tensor[x.Layout == TensorLayout.Nchw ? ch * plane + p : p * c + ch];
                    for (int p = 0; p < plane; p++) result[x.Layout == TensorLayout.Nchw ? ch * plane + p : p * c + ch] = (float)(s / plane);
                }
                break;
            default:
                var planes = ToPlanes(x);
                Blur.Gaussian(planes, h, w, 5f * Math.Min(h, w) / 224f);
                FromPlanes(planes, result, c, plane, x.Layout);
                break;
        }
        return result;
    }

    internal static float[] ToPlanes(PreparedInput x)
    {
        if (x.Layout == TensorLayout.Nchw) return (float[])x.Tensor.Clone();
        int c = x.Channels, plane = x.Height * x.Width;
        var planes = new float[x.Tensor.Length];
        for (int p = 0; p < plane; p++) for (int ch = 0; ch < c; ch++) planes[ch * plane + p] = x.Tensor[p * c + ch];
        return planes;
    }

    private static void FromPlanes(float[] planes, float[] dst, int c, int plane, TensorLayout layout)
    {
        if (layout == TensorLayout.Nchw) { planes.CopyTo(dst, 0); return; }
        for (int p = 0; p < plane; p++) for (int ch = 0; ch < c; ch++) dst[p * c + ch] = planes[ch * plane + p];
    }
}
