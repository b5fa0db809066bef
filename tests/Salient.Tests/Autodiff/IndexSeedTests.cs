using Salient.Autodiff;
using Salient.Onnx;
using Salient.Runtime;
using Xunit;

namespace Salient.Tests.Autodiff;

/// <summary>
/// Index seeds (one score index per batch item): gradients equal those of the dense one-hot seed;
/// a Gemm head becomes a Gather of weight rows (no Gemm, no one-hot left in the backward graph);
/// other score producers get the one-hot built in the graph.
/// </summary>
public class IndexSeedTests
{
    private static readonly long[] Shape = [3, 2, 3, 3];

    /// <summary>x → Relu → Flatten → Gemm(W, transB, alpha) (+ bias) = y [N, 4].</summary>
    private static Graph GemmHead(long transB, float alpha)
    {
        var t = new TinyGraph(13, Shape);
        var rng = new Random(3);
        string flat = t.Node("Flatten", [t.Op("Relu", "x")]).Set("axis", 1L).Outputs[0];
        string w = transB == 1 ? t.Random([4, 18], rng) : t.Random([18, 4], rng);
        var gemm = t.Node("Gemm", [flat, w, t.Random([4], rng)], "y").Set("transB", transB).Set("alpha", alpha);
        return t.Done(gemm.Outputs[0]);
    }

    private static (float[] Dense, float[] Indexed, BackwardProgram Program) Both(Graph g, long[] classes, int perItem, long[]? shape = null)
    {
        shape ??= Shape;
        var spec = new TinyGraph(13, shape).Spec();
        using var engine = new GradientEngine(g, spec, GradCheck.Options);
        var x = GradCheck.AwayFrom(new Random(5), (int)Tensor.ElementCount(shape), -2, 2, 0.05f, 0f);
        var input = new InputValue("x", shape, x);
        var dense = engine.Run(input, new GradientRequest { ScoreTensor = "y", Wrt = ["x"] },
            _ => Seeds.ClassLogit(classes.Select(c => (int)c).ToArray(), perItem)).Gradients["x"].Data;
        var program = engine.Build(new GradientRequest { ScoreTensor = "y", Wrt = ["x"], SeedIndices = true }, shape);
        using var pass = program.Forward(input);
        var indexed = pass.Backward(classes)["x"].Data;
        return (dense, indexed, program);
    }

    [Theory]
    [InlineData(1L, 1f)]
    [InlineData(0L, 1f)]
    [InlineData(1L, 0.5f)]
    [InlineData(0L, -2f)]
    public void Gemm_head_gathers_weight_rows_and_equals_the_dense_seed(long transB, float alpha)
    {
        var (dense, indexed, program) = Both(GemmHead(transB, alpha), [2, 0, 3], 4);
        Assert.Equal(dense.Length, indexed.Length);
        for (int i = 0; i < dense.Length; i++) Assert.Equal(dense[i], indexed[i], 6);
        Assert.Contains(dense, v => v != 0);
        var ops = program.BackwardGraph.Nodes.Select(n => n.OpType).ToList();
        Assert.Contains("Gather", ops);
        Assert.DoesNotContain("Gemm", ops);
        Assert.DoesNotContain("OneHot", ops);
    }

    [Fact]
    public void Other_score_producers_get_the_one_hot_in_the_graph()
    {
        // y = Sigmoid(x) viewed as [N, 18]: the seed index picks one of 18 elements per item.
        var t = new TinyGraph(13, Shape);
        string flat = t.Node("Flatten", [t.Op("Sigmoid", "x")]).Set("axis", 1L).Outputs[0];
        var g = t.Done(flat);
        var (dense, indexed, program) = Both(g, [17, 0, 9], 18);
        for (int i = 0; i < dense.Length; i++) Assert.Equal(dense[i], indexed[i], 6);
        Assert.Contains("OneHot", program.BackwardGraph.Nodes.Select(n => n.OpType));
        Assert.Equal(3, dense.Count(v => v != 0));
    }

    [Fact]
    public void Scores_without_a_batch_axis_or_with_trailing_axes_count_items_by_the_input_batch()
    {
        // Logits squeezed to [4] at batch 1 (Squeeze without axes, as some exporters write it).
        long[] one = [1, 2, 3, 3];
        var t = new TinyGraph(13, one);
        string flat = t.Node("Flatten", [t.Op("Relu", "x")]).Set("axis", 1L).Outputs[0];
        string fc = t.Node("Gemm", [flat, t.Random([4, 18], new Random(3))]).Set("transB", 1L).Outputs[0];
        var (dense, indexed, _) = Both(t.Done(t.Op("Squeeze", fc)), [2], 4, one);
        Assert.Equal(dense, indexed);
        Assert.Contains(dense, v => v != 0);
        // A rank-4 score [3, 2, 3, 3]: 18 scores per item.
        var u = new TinyGraph(13, Shape);
        var (dense4, indexed4, _) = Both(u.Done(u.Op("Sigmoid", "x")), [17, 0, 9], 18);
        Assert.Equal(dense4, indexed4);
        Assert.Equal(3, dense4.Count(v => v != 0));
    }

    [Fact]
    public void A_pass_kept_past_the_engine_throws_instead_of_touching_freed_sessions()
    {
        var engine = new GradientEngine(GemmHead(1, 1f), new TinyGraph(13, Shape).Spec(), GradCheck.Options);
        var input = new InputValue("x", Shape, new float[Tensor.ElementCount(Shape)]);
        var program = engine.Build(new GradientRequest { ScoreTensor = "y", Wrt = ["x"], SeedIndices = true }, Shape);
        var pass = program.Forward(input);
        Assert.Equal(3, pass.Backward([0L, 1L, 2L])["x"].Shape[0]);
        engine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pass.Backward([0L, 1L, 2L]));
        Assert.Throws<ObjectDisposedException>(() => program.Forward(input));
        pass.Dispose();
    }

    [Fact]
    public void Bad_indices_and_the_wrong_seed_kind_give_clear_errors()
    {
        var g = GemmHead(1, 1f);
        var spec = new TinyGraph(13, Shape).Spec();
        using var engine = new GradientEngine(g, spec, GradCheck.Options);
        var input = new InputValue("x", Shape, new float[Tensor.ElementCount(Shape)]);
        var program = engine.Build(new GradientRequest { ScoreTensor = "y", Wrt = ["x"], SeedIndices = true }, Shape);
        using var pass = program.Forward(input);
        Assert.Contains("outside 0..3", Assert.Throws<SalientException>(() => pass.Backward([0L, 4L, 1L])).Message);
        Assert.Contains("outside 0..3", Assert.Throws<SalientException>(() => pass.Backward([0L, -1L, 1L])).Message);
        Assert.Contains("2 seed indices given for a batch of 3", Assert.Throws<SalientException>(() => pass.Backward([0L, 1L])).Message);
        Assert.Throws<InvalidOperationException>(() => pass.Backward(new float[12]));
        Assert.Throws<InvalidOperationException>(() => program.Run(input, _ => new float[12]));
    }
}

/// <summary>After pruning, every backward input and every forward value exported for it is actually read.</summary>
public class BackwardInputsTests
{
    [Theory]
    [InlineData("grad", "convnet.onnx")]
    [InlineData("grad", "mobilenetlike.onnx")]
    [InlineData("grad", "tinyvit.onnx")]
    [InlineData("models", "mnv3s_nhwc.onnx")]
    public void Every_backward_input_is_read(string folder, string file)
    {
        using var model = TestPaths.Load(TestPaths.Fixture(folder, file));
        var s = model.Structure();
        var shape = model.Input.ShapeFor(model.Input.DynamicBatch ? 2 : model.Input.FixedBatch, model.InputSize.Height, model.InputSize.Width);
        foreach (var relu in new[] { ReluMode.Standard, ReluMode.Guided })
            foreach (bool indices in new[] { false, true })
            {
                var p = model.Gradients.Build(new GradientRequest { ScoreTensor = s.LogitsName, Wrt = [model.Input.Name], Relu = relu, SeedIndices = indices }, shape);
                var read = p.BackwardGraph.Nodes.SelectMany(n => n.Inputs).ToHashSet();
                foreach (var i in p.BackwardGraph.Inputs)
                    Assert.True(read.Contains(i.Name), $"{file} {relu} indices={indices}: backward input '{i.Name}' is never read");
                Assert.All(p.BackwardForwardInputs, t => Assert.Contains(t, p.ForwardOutputs));
            }
    }
}
