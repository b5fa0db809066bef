using Salient.Autodiff;
using Salient.Onnx;
using Xunit;

namespace Salient.Tests.Autodiff;

/// <summary>
/// Shapes at a large batch are extrapolated from probes at batch 1 and 2 (so a batch of 8 never runs
/// with every intermediate exposed); the reference is a direct probe at that batch.
/// </summary>
public class BatchFactsTests
{
    /// <summary>
    /// A dynamic-batch graph whose shape arithmetic mixes batch-proportional values (N·2 rows), the
    /// batch itself (Reshape to [N, -1]) and batch-independent values (a Slice end from Shape[1] − 4).
    /// </summary>
    private static Graph ShapeArithmetic()
    {
        var t = new TinyGraph(13, [1, 2, 3, 4]);
        t.G.Inputs[0] = new ValueInfo("x", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(2), Dim.Fixed(3), Dim.Fixed(4)]);
        string r = t.Op("Tanh", "x");
        string n = t.Node("Gather", [t.Op("Shape", r), t.Ints(0)], "batch").Outputs[0];
        string rows = t.Node("Concat", [t.Node("Mul", [n, t.Ints(2)], "twice_batch").Outputs[0], t.Ints(-1)], "rows_shape").Set("axis", 0L).Outputs[0];
        string sm = t.Node("Softmax", [t.Op("Reshape", r, rows)]).Set("axis", -1L).Outputs[0];
        string back = t.Op("Reshape", sm, t.Node("Concat", [n, t.Ints(-1)], "flat_shape").Set("axis", 0L).Outputs[0]);
        string end = t.Node("Sub", [t.Node("Gather", [t.Op("Shape", back), t.Ints(1)]).Outputs[0], t.Ints(4)], "slice_end").Outputs[0];
        string sliced = t.Op("Slice", back, t.Ints(2), end, t.Ints(1));
        return t.Done(t.Op("MatMul", sliced, t.Random([18, 3], new Random(5))));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    public void Extrapolated_facts_equal_a_direct_probe(int batch)
    {
        var g = ShapeArithmetic();
        GraphFacts At(long n) => GraphFacts.Probe(g, "x", DataType.Float, [n, 2, 3, 4], GradCheck.Options);
        var direct = At(batch);
        var extrapolated = GraphFacts.Extrapolate(At(1), At(2), batch);
        Assert.NotNull(extrapolated);
        Assert.Equal(direct.Shapes.Keys.Order(), extrapolated.Shapes.Keys.Order());
        foreach (var (name, s) in direct.Shapes)
            Assert.True(Shapes.Equal(s.Dims, extrapolated.Shapes[name].Dims), $"{name}: {s} vs {extrapolated.Shapes[name]}");
        // The shape-derived values rules read must all survive, with the values at this batch.
        foreach (var name in new[] { "batch", "twice_batch", "rows_shape", "flat_shape", "slice_end" })
            Assert.Equal((long[])direct.Small[name].Data, (long[])extrapolated.Small[name].Data);
        Assert.Equal(new long[] { 2L * batch, -1 }, (long[])extrapolated.Small["rows_shape"].Data);
        foreach (var (name, v) in extrapolated.Small)
            Assert.Equal(direct.Small[name].Data.Cast<object>(), v.Data.Cast<object>());
    }

    [Fact]
    public void Gradient_at_batch_five_uses_extrapolated_shapes_and_matches_finite_differences()
    {
        var g = ShapeArithmetic();
        var x = GradCheck.Uniform(new Random(11), 5 * 24, -2, 2);
        GradCheck.Check(g, [5, 2, 3, 4], x, dynamicBatch: true);
    }

    /// <summary>x[:min(N, 2)] summed over the batch: the Slice end is Min(N, 2), not linear in N.</summary>
    private static Graph FirstTwoItems()
    {
        var t = new TinyGraph(13, [1, 2, 3, 4]);
        t.G.Inputs[0] = new ValueInfo("x", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(2), Dim.Fixed(3), Dim.Fixed(4)]);
        string n = t.Node("Gather", [t.Op("Shape", "x"), t.Ints(0)]).Outputs[0];
        string end = t.Op("Min", n, t.Ints(2));
        string first = t.Op("Slice", t.Op("Tanh", "x"), t.Ints(0), end, t.Ints(0));
        string sum = t.Node("ReduceSum", [first, t.Ints(0)]).Set("keepdims", 1L).Outputs[0];
        return t.Done(t.Op("Mul", sum, t.Random([1, 2, 3, 4], new Random(6))));
    }

    [Fact]
    public void Non_linear_batch_arithmetic_is_detected_and_probed_at_the_real_batch()
    {
        Assert.True(GraphFacts.BatchArithmeticIsLinear(ShapeArithmetic(), "x"));
        var g = FirstTwoItems();
        Assert.False(GraphFacts.BatchArithmeticIsLinear(g, "x"));
        // With extrapolation the slice would keep all 5 items; the true gradient is zero beyond item 2.
        var x = GradCheck.Uniform(new Random(12), 5 * 24, -2, 2);
        var outcome = GradCheck.Check(g, [5, 2, 3, 4], x, dynamicBatch: true);
        Assert.All(outcome.Gradient.Skip(2 * 24), v => Assert.Equal(0f, v));
        Assert.Contains(outcome.Gradient.Take(2 * 24), v => v != 0);
    }

    [Fact]
    public void Real_models_have_linear_batch_arithmetic()
    {
        foreach (var path in new[] { TestPaths.SharedModel("mobilenetv2-fp32.onnx"), TestPaths.Fixture("grad", "tinyvit.onnx"), TestPaths.Fixture("models", "mnv3s_nhwc.onnx") })
        {
            var g = OnnxReader.ReadFile(path);
            Assert.True(GraphFacts.BatchArithmeticIsLinear(g, g.Inputs[0].Name), path);
        }
    }

    [Fact]
    public void Linear_batch_axis_is_required_or_the_caller_probes()
    {
        var g = ShapeArithmetic();
        var one = GraphFacts.Probe(g, "x", DataType.Float, [1, 2, 3, 4], GradCheck.Options);
        var two = GraphFacts.Probe(g, "x", DataType.Float, [2, 2, 3, 4], GradCheck.Options);
        // Swapped probes imply a shrinking batch axis: a dimension would become 0 → no extrapolation.
        Assert.Null(GraphFacts.Extrapolate(two, one, 4));
    }
}
