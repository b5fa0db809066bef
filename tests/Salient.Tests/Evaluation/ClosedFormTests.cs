using Salient.Evaluation;
using Salient.Imaging;
using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Evaluation;

/// <summary>Each metric on hand-made models and maps whose right answer is known in closed form.</summary>
public class ClosedFormTests
{
    private const int H = TinyModels.H, W = TinyModels.W, C = TinyModels.C, Plane = H * W;

    private static Dictionary<string, float[]> Maps(params (string, float[])[] m) => m.ToDictionary(p => p.Item1, p => p.Item2);

    /// <summary>logit_c = Σ W[c,·]·x + b with x = 1: removing pixel p (black = 0 in raw units) lowers the logit by a_p = Σ_ch W[c,ch,p].</summary>
    private static float[] TrueAttribution(float[] weights, int cls)
    {
        var a = new float[Plane];
        for (int ch = 0; ch < C; ch++)
            for (int p = 0; p < Plane; p++) a[p] += weights[cls * C * Plane + ch * Plane + p];
        return a;
    }

    [Theory]
    [InlineData(7)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(64)]
    public void On_a_linear_model_the_weight_map_beats_a_random_map_and_the_curve_is_exact(int batch)
    {
        var (path, weights, bias) = TinyModels.Linear(2, seed: 5);
        using var model = TinyModels.Load(path);
        var x = TinyModels.Item(Enumerable.Repeat(1f, C * Plane).ToArray());
        var truth = TrueAttribution(weights, 1);
        var random = BaselineMaps.RandomMap(H, W, 3);
        var o = new EvaluationOptions { Steps = 16, Baseline = DeletionBaseline.Black, Target = ScoreTarget.Logit, BatchSize = batch };
        var values = Evaluator.Evaluate(model, new EvaluationCase(x, 1, Maps(("truth", truth), ("random", random))),
            [MetricNames.Deletion, MetricNames.Insertion], o);
        double V(string method, string metric) => values.Single(v => v.Method == method && v.Metric == metric).Value;
        Assert.True(V("truth", MetricNames.Deletion) < V("random", MetricNames.Deletion));
        Assert.True(V("truth", MetricNames.Insertion) > V("random", MetricNames.Insertion));

        // Deletion at step k keeps every pixel but the k·64/16 most salient: logit = b + Σ_kept a_p.
        var order = Evaluator.DescendingOrder(truth);
        var curve = values.Single(v => v.Method == "truth" && v.Metric == MetricNames.Deletion).Curve!;
        for (int k = 0; k <= 16; k++)
        {
            double expected = bias[1];
            for (int i = k * Plane / 16; i < Plane; i++) expected += truth[order[i]];
            Assert.Equal(expected, curve[k], 4);
        }
        Assert.Equal(Evaluator.Auc(curve), V("truth", MetricNames.Deletion), 9);
        // Insertion at step k shows only the k·64/16 most salient pixels on black: logit = b + Σ_shown a_p.
        var inserted = values.Single(v => v.Method == "truth" && v.Metric == MetricNames.Insertion).Curve!;
        for (int k = 0; k <= 16; k++)
        {
            double expected = bias[1];
            for (int i = 0; i < k * Plane / 16; i++) expected += truth[order[i]];
            Assert.Equal(expected, inserted[k], 1e-4);
        }
    }

    [Fact]
    public void Results_do_not_depend_on_the_batch_size_and_every_metric_is_reported()
    {
        var (path, _, _) = TinyModels.Linear(3, seed: 9);
        using var model = TinyModels.Load(path);
        var x = TinyModels.RandomItem(4);
        var maps = Maps(("a", BaselineMaps.RandomMap(H, W, 1)), ("b", BaselineMaps.SobelMap(x)));
        var boxes = new List<Box> { new(0, 0, 4, 4) };
        var metrics = MetricNames.All;
        var one = Evaluator.Evaluate(model, new EvaluationCase(x, 2, maps, boxes), metrics, new EvaluationOptions { BatchSize = 1, Steps = 10 });
        var many = Evaluator.Evaluate(model, new EvaluationCase(x, 2, maps, boxes), metrics, new EvaluationOptions { BatchSize = 13, Steps = 10 });
        Assert.Equal(2 * metrics.Length, one.Count);
        Assert.Equal(one.Select(v => (v.Method, v.Metric)), many.Select(v => (v.Method, v.Metric)));
        Assert.Equal(one.Select(v => v.Value), many.Select(v => v.Value));
    }

    [Fact]
    public void Noisy_linear_imputation_reproduces_a_ramp_inside_the_image()
    {
        // The imputed value is the weighted mean of the 8 neighbours; a linear ramp is its own mean away from the border.
        var x = new float[C * Plane];
        for (int ch = 0; ch < C; ch++)
            for (int p = 0; p < Plane; p++) x[ch * Plane + p] = 0.3f * (p / W) - 0.2f * (p % W) + ch;
        var removed = new bool[Plane];
        for (int y = 2; y < 6; y++) for (int xx = 1; xx < 7; xx++) removed[y * W + xx] = true;
        var d = new float[x.Length];
        Imputation.Impute(x, removed, d, C, H, W, TensorLayout.Nchw, 0, null);
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i], d[i], 4);
        // NHWC gives the same values, transposed.
        var nhwc = new float[x.Length];
        for (int ch = 0; ch < C; ch++) for (int p = 0; p < Plane; p++) nhwc[p * C + ch] = x[ch * Plane + p];
        var dn = new float[x.Length];
        Imputation.Impute(nhwc, removed, dn, C, H, W, TensorLayout.Nhwc, 0, null);
        for (int ch = 0; ch < C; ch++) for (int p = 0; p < Plane; p++) Assert.Equal(d[ch * Plane + p], dn[p * C + ch], 5);
    }

    [Fact]
    public void Deletion_order_is_by_decreasing_value_with_ties_in_row_major_order()
    {
        var rng = new Random(4);
        // Few distinct values (many ties), negatives, both zeros, extremes.
        var map = Enumerable.Range(0, 5000).Select(_ => (float)Math.Round(rng.NextDouble() * 8 - 4) / 3).ToArray();
        map[10] = -0f;
        map[11] = 0f;
        map[12] = float.MaxValue;
        map[13] = -float.MaxValue;
        map[14] = float.Epsilon;
        map[15] = -float.Epsilon;
        var expected = Enumerable.Range(0, map.Length).OrderByDescending(i => map[i]).ToArray(); // LINQ's sort is stable
        Assert.Equal(expected, Evaluator.DescendingOrder(map));
        Assert.Equal([2, 0, 1], Evaluator.DescendingOrder([0.5f, 0.5f, 1f]));
        Assert.Equal([0], Evaluator.DescendingOrder([3f]));
        Assert.Empty(Evaluator.DescendingOrder([]));
    }

    [Fact]
    public void Road_removes_pixels_at_or_above_the_percentile_as_the_reference()
    {
        var map = Enumerable.Range(0, 10).Select(i => i / 10f).ToArray();
        // numpy: percentile(0..0.9, 80) = 0.72 → removed: 0.8, 0.9.
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i >= 8), Evaluator.RoadRemoved(map, 80));
    }

    [Fact]
    public void Pointing_game_hits_the_box_that_holds_the_maximum_in_original_pixels()
    {
        // Input grid 8×8 shows the source region x ∈ [10, 26), y ∈ [20, 36) of a 40×50 image: 2 source pixels per cell.
        var g = new CropGeometry(10, 20, 16, 16, 40, 50);
        var map = new float[Plane];
        map[3 * W + 5] = 1; // cell (u 5, v 3): source centre (21, 27)
        Assert.Equal(1, MapMetrics.Pointing(map, H, W, g, [new Box(20, 26, 22, 28)], 0));
        Assert.Equal(0, MapMetrics.Pointing(map, H, W, g, [new Box(0, 0, 20, 20)], 0));
        Assert.Equal(1, MapMetrics.Pointing(map, H, W, g, [new Box(0, 0, 20, 20), new Box(21, 27, 30, 30)], 0));
        // Tolerance: the box [0,18)×[0,27) is 3 px left of (21, 27).
        Assert.Equal(0, MapMetrics.Pointing(map, H, W, g, [new Box(0, 0, 18, 27)], 2.9));
        Assert.Equal(1, MapMetrics.Pointing(map, H, W, g, [new Box(0, 0, 18, 27)], 3.1));
    }

    [Fact]
    public void Energy_pointing_is_the_share_of_the_map_inside_the_boxes()
    {
        var g = CropGeometry.Whole(W, H);
        var uniform = Enumerable.Repeat(0.5f, Plane).ToArray();
        Assert.Equal(16.0 / 64, MapMetrics.EnergyPointing(uniform, H, W, g, [new Box(0, 0, 4, 4)]), 12);
        var inside = new float[Plane];
        for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) inside[y * W + x] = 1;
        Assert.Equal(1.0, MapMetrics.EnergyPointing(inside, H, W, g, [new Box(0, 0, 4, 4)]), 12);
        Assert.Equal(0.0, MapMetrics.EnergyPointing(inside, H, W, g, [new Box(4, 4, 8, 8)]), 12);
        // Overlapping boxes count a pixel once.
        Assert.Equal(1.0, MapMetrics.EnergyPointing(inside, H, W, g, [new Box(0, 0, 4, 4), new Box(0, 0, 2, 2)]), 12);
    }

    [Fact]
    public void Gini_of_known_maps()
    {
        Assert.Equal(0, MapMetrics.Gini(Enumerable.Repeat(0.3f, 64).ToArray()), 12);
        var one = new float[64];
        one[17] = 2;
        Assert.Equal(63.0 / 64, MapMetrics.Gini(one), 12);
        Assert.Equal(0.5, MapMetrics.Gini([0, 1, 0, 1]), 12);
        Assert.Equal(0.5, MapMetrics.Gini([0, -1, 0, 1]), 12); // |map|
        Assert.Equal(0, MapMetrics.Gini(new float[5]), 12);
    }

    [Fact]
    public void Bootstrap_interval_brackets_the_mean_and_collapses_for_constants()
    {
        var (m, lo, hi) = Bootstrap.Interval([2, 2, 2, 2], seed: 1);
        Assert.Equal((2.0, 2.0, 2.0), (m, lo, hi));
        var values = Enumerable.Range(0, 40).Select(i => (double)(i % 7)).ToList();
        (m, lo, hi) = Bootstrap.Interval(values, seed: 1);
        Assert.True(lo < m && m < hi && hi - lo < 2.5, $"{lo} {m} {hi}");
        Assert.Equal(Bootstrap.Interval(values, 1), Bootstrap.Interval(values, 1));
    }

    [Fact]
    public void Sobel_baseline_peaks_at_an_edge()
    {
        var x = new float[C * Plane];
        for (int ch = 0; ch < C; ch++) for (int p = 0; p < Plane; p++) x[ch * Plane + p] = p % W >= 4 ? 1 : 0;
        var m = BaselineMaps.SobelMap(TinyModels.Item(x));
        Assert.Equal(1f, m[2 * W + 3]);
        Assert.Equal(1f, m[2 * W + 4]);
        Assert.Equal(0f, m[2 * W + 0]);
    }

    [Fact]
    public void Bad_input_is_one_clear_line()
    {
        var (path, _, _) = TinyModels.Linear(2, seed: 1);
        using var model = TinyModels.Load(path);
        var x = TinyModels.RandomItem(1);
        var e = Assert.Throws<SalientException>(() => Evaluator.Evaluate(model, new EvaluationCase(x, 0, Maps(("m", new float[10]))), [MetricNames.Deletion], new()));
        Assert.Contains("8×8", e.Message);
        e = Assert.Throws<SalientException>(() => Evaluator.Evaluate(model, new EvaluationCase(x, 5, Maps(("m", new float[64]))), [MetricNames.Deletion], new()));
        Assert.Contains("out of range", e.Message);
        e = Assert.Throws<SalientException>(() => MetricNames.Parse("deletoin"));
        Assert.Contains("did you mean 'deletion'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
