using Salient.Autodiff;
using Salient.Imaging;
using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;
using Xunit;

namespace Salient.Tests.Autodiff;

/// <summary>Pruning, errors, seeds, caching and concurrency of the gradient engine on small graphs.</summary>
public class EngineTests
{
    private static readonly long[] Shape = [1, 2, 3, 4];

    private static float[] X(int n, int seed = 1) => GradCheck.Uniform(new Random(seed), n);

    [Fact]
    public void Unsupported_op_on_the_path_names_op_node_path_and_hint()
    {
        var t = new TinyGraph(13, Shape);
        var cum = t.Node("CumSum", [t.Op("Relu", "x"), t.Ints(3)], "cum");
        cum.Name = "running_total";
        var g = t.Done(t.Op("Sigmoid", "cum"));
        using var engine = new GradientEngine(g, t.Spec(), GradCheck.Options);
        var e = Assert.Throws<SalientException>(() =>
            engine.Run(new InputValue("x", Shape, X(24)), new GradientRequest { ScoreTensor = "y", Wrt = ["x"] }, s => new float[s.Length]));
        Assert.Contains("no gradient rule for op 'CumSum'", e.Message);
        Assert.Contains("running_total", e.Message);
        Assert.Contains("on the path from 'x' to 'y'", e.Message);
        Assert.Contains("supported ops: ", e.Message);
        Assert.Contains("Conv", e.Message);
        Assert.Contains("choose a layer after it", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Unsupported_op_off_the_path_or_below_the_lowest_wrt_does_not_matter()
    {
        var t = new TinyGraph(13, Shape);
        t.Node("CumSum", ["x", t.Ints(3)], "side");          // a branch that never reaches y
        t.Node("CumSum", ["x", t.Ints(2)], "below");         // below the wrt tensor 'below'
        string y = t.Op("Mul", t.Op("Sigmoid", "below"), t.Op("Tanh", "x"));
        var g = t.Done(y);
        g.Outputs.Add(new ValueInfo("side", DataType.Float, null));
        using var engine = new GradientEngine(g, t.Spec(), GradCheck.Options);
        var r = engine.Run(new InputValue("x", Shape, X(24)), new GradientRequest { ScoreTensor = "y", Wrt = ["below"] }, s => Enumerable.Repeat(1f, (int)s.Length).ToArray());
        Assert.Equal(Shape, r.Gradients["below"].Shape);
        var p = engine.Build(new GradientRequest { ScoreTensor = "y", Wrt = ["below"] }, Shape);
        Assert.DoesNotContain("CumSum", p.DifferentiatedOps);
        Assert.DoesNotContain("Tanh", p.DifferentiatedOps);
        Assert.DoesNotContain(p.ForwardGraph.Nodes, n => n.Outputs.Contains("side"));
        // The score really depends on 'below' only through Sigmoid: grad = σ'(below) · tanh(x).
        var both = engine.Run(new InputValue("x", Shape, X(24)), new GradientRequest { ScoreTensor = "y", Wrt = ["below"], AlsoFetch = ["below"] }, s => Enumerable.Repeat(1f, (int)s.Length).ToArray());
        var below = both.Forward["below"].Data;
        var x = X(24);
        for (int i = 0; i < 24; i++)
        {
            double s = 1 / (1 + Math.Exp(-below[i]));
            Assert.Equal(s * (1 - s) * Math.Tanh(x[i]), both.Gradients["below"].Data[i], 5);
        }
    }

    [Fact]
    public void Shape_arithmetic_is_never_differentiated()
    {
        var t = new TinyGraph(13, Shape);
        string shape = t.Op("Shape", "x");
        string batch = t.Node("Gather", [shape, t.Ints(0)]).Outputs[0];
        string target = t.Node("Concat", [batch, t.Ints(-1)]).Set("axis", 0L).Outputs[0];
        string flat = t.Op("Reshape", t.Op("Relu", "x"), target);
        var g = t.Done(t.Op("MatMul", flat, t.Random([24, 3], new Random(2))));
        using var engine = new GradientEngine(g, t.Spec(), GradCheck.Options);
        var p = engine.Build(new GradientRequest { ScoreTensor = "y", Wrt = ["x"] }, Shape);
        Assert.Equal(["Relu", "Reshape", "MatMul", "Identity"], p.DifferentiatedOps);
        GradCheck.Check(g, Shape, GradCheck.AwayFrom(new Random(3), 24, -2, 2, 0.05f, 0f));
    }

    [Fact]
    public void Unknown_tensor_and_independent_wrt_give_clear_errors()
    {
        var t = new TinyGraph(13, Shape);
        t.Node("Tanh", ["x"], "other");
        var g = t.Done(t.Op("Sigmoid", "x"));
        g.Outputs.Add(new ValueInfo("other", DataType.Float, null));
        using var engine = new GradientEngine(g, t.Spec(), GradCheck.Options);
        var e1 = Assert.Throws<SalientException>(() => engine.Build(new GradientRequest { ScoreTensor = "y", Wrt = ["nope"] }, Shape));
        Assert.Contains("'nope' is not in the model", e1.Message);
        var e2 = Assert.Throws<SalientException>(() => engine.Build(new GradientRequest { ScoreTensor = "y", Wrt = ["other"] }, Shape));
        Assert.Contains("does not depend on 'other'", e2.Message);
        var e3 = Assert.Throws<SalientException>(() => engine.Run(new InputValue("x", Shape, X(24)),
            new GradientRequest { ScoreTensor = "y", Wrt = ["x"] }, _ => new float[3]));
        Assert.Contains("the seed has 3 values", e3.Message);
    }

    [Fact]
    public void Gradient_with_respect_to_the_score_itself_is_the_seed()
    {
        var t = new TinyGraph(13, Shape);
        var g = t.Done(t.Op("Sigmoid", "x"));
        using var engine = new GradientEngine(g, t.Spec(), GradCheck.Options);
        var seed = X(24, 9);
        var r = engine.Run(new InputValue("x", Shape, X(24)), new GradientRequest { ScoreTensor = "y", Wrt = ["y", "x"] }, _ => seed);
        Assert.Equal(seed, r.Gradients["y"].Data);
        Assert.Equal(Shape, r.Gradients["x"].Shape);
    }

    [Fact]
    public void Programs_are_cached_per_request_and_shape_and_independent_of_the_seed()
    {
        var t = new TinyGraph(13, [1, 3]);
        t.G.Inputs[0] = new ValueInfo("x", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(3)]);
        var g = t.Done(t.Op("MatMul", "x", t.Random([3, 4], new Random(1))));
        using var engine = new GradientEngine(g, t.Spec(), GradCheck.Options);
        var req = new GradientRequest { ScoreTensor = "y", Wrt = ["x"] };
        var p1 = engine.Build(req, [1, 3]);
        Assert.Same(p1, engine.Build(req with { }, [1, 3]));
        Assert.NotSame(p1, engine.Build(req, [2, 3]));
        Assert.NotSame(p1, engine.Build(req with { Relu = ReluMode.Guided }, [1, 3]));
        // Per-item classes in one batch: row b of the gradient is row cls[b] of Wᵀ.
        var w = g.Initializers.Values.Single(i => i.Type == DataType.Float).ToFloats();
        var r = engine.Run(new InputValue("x", [2, 3], X(6)), req, s => Seeds.ClassLogit([1, 3], (int)s.Shape[1]));
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(w[k * 4 + 1], r.Gradients["x"].Data[k], 6);
            Assert.Equal(w[k * 4 + 3], r.Gradients["x"].Data[3 + k], 6);
        }
    }

    [Fact]
    public void Standard_and_guided_programs_share_one_forward_session()
    {
        var t = new TinyGraph(13, Shape);
        string h = t.Op("Relu", t.Node("Conv", ["x", t.Random([2, 2, 3, 3], new Random(1))]).Set("pads", new long[] { 1, 1, 1, 1 }).Outputs[0]);
        var g = t.Done(t.Op("Mul", h, t.Random(Shape, new Random(2))));
        using var engine = new GradientEngine(g, t.Spec(), GradCheck.Options);
        var req = new GradientRequest { ScoreTensor = "y", Wrt = ["x"] };
        var standard = engine.Build(req, Shape);
        var guided = engine.Build(req with { Relu = ReluMode.Guided }, Shape);
        var deconv = engine.Build(req with { Relu = ReluMode.Deconvnet }, Shape);
        Assert.Same(standard.ForwardSession, guided.ForwardSession);
        Assert.NotSame(standard.BackwardGraph, guided.BackwardGraph);
        Assert.NotSame(standard.ForwardSession, deconv.ForwardSession);   // deconvnet needs no ReLU mask from the forward
        Assert.DoesNotContain(h, deconv.ForwardOutputs);
        Assert.Contains(h, standard.ForwardOutputs);
    }

    [Fact]
    public void Concurrent_runs_on_one_engine_agree_with_sequential_runs()
    {
        var t = new TinyGraph(13, [1, 2, 6, 6]);
        string c1 = t.Node("Conv", ["x", t.Random([3, 2, 3, 3], new Random(1))]).Set("pads", new long[] { 1, 1, 1, 1 }).Outputs[0];
        string mp = t.Node("MaxPool", [t.Op("Relu", c1)]).Set("kernel_shape", new long[] { 2, 2 }).Set("strides", new long[] { 2, 2 }).Outputs[0];
        var g = t.Done(t.Op("Gemm", t.Op("Flatten", mp), t.Random([27, 5], new Random(2))));
        using var engine = new GradientEngine(g, t.Spec(), GradCheck.Options);
        var req = new GradientRequest { ScoreTensor = "y", Wrt = ["x", c1] };
        var inputs = Enumerable.Range(0, 8).Select(i => new InputValue("x", [1, 2, 6, 6], X(72, 100 + i))).ToArray();
        var sequential = inputs.Select((inp, i) => engine.Run(inp, req, s => Seeds.ClassLogit([i % 5], 5)).Gradients["x"].Data).ToArray();
        var parallel = new float[8][];
        Parallel.For(0, 32, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            int i = k % 8;
            parallel[i] = engine.Run(inputs[i], req, s => Seeds.ClassLogit([i % 5], 5)).Gradients["x"].Data;
        });
        for (int i = 0; i < 8; i++) Assert.Equal(sequential[i], parallel[i]);
    }

    [Fact]
    public void Seeds_have_the_documented_values()
    {
        Assert.Equal([0, 1, 0, 0, 0, 0, 0, 1], Seeds.ClassLogit([1, 3], 4));
        var logits = new TensorValue("l", DataType.Float, [1, 3], [1f, 2f, 0.5f]);
        var p = Statistics.Softmax(logits.Data);
        var s = Seeds.ClassProbability(logits, [1]);
        for (int j = 0; j < 3; j++)
        {
            // d p_1 / d l_j by central differences of the softmax.
            var lp = (float[])logits.Data.Clone(); lp[j] += 1e-3f;
            var lm = (float[])logits.Data.Clone(); lm[j] -= 1e-3f;
            double fd = (Statistics.Softmax(lp)[1] - Statistics.Softmax(lm)[1]) / 2e-3;
            Assert.Equal(fd, s[j], 3);
        }
        Assert.Equal(p[1] * (1 - p[1]), s[1], 5);
        var cm = Seeds.ChannelMean([2, 3, 2, 2], 1);
        Assert.Equal(24, cm.Length);
        Assert.Equal(0.25f, cm[4]);
        Assert.Equal(0.25f, cm[12 + 7]);
        Assert.Equal(0f, cm[0]);
        Assert.Equal(2f, cm.Sum());
        var nhwc = Seeds.ChannelMean([1, 2, 2, 3], TensorLayout.Nhwc, 2);
        Assert.Equal([0, 0, 0.25f, 0, 0, 0.25f, 0, 0, 0.25f, 0, 0, 0.25f], nhwc);
        var neuron = Seeds.Neuron([1, 2, 3, 4], 1, 2, 3);
        Assert.Equal(1f, neuron[12 + 2 * 4 + 3]);
        Assert.Equal(1f, neuron.Sum());
        Assert.Equal(1f, Seeds.Neuron([1, 3, 4, 2], TensorLayout.Nhwc, 1, 2, 0)[(2 * 4 + 0) * 2 + 1]);
        Assert.Throws<SalientException>(() => Seeds.ClassLogit([4], 4));
    }
}
