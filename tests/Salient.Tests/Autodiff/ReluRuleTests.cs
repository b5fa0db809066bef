using Salient.Autodiff;
using Salient.Onnx;
using Salient.Runtime;
using Xunit;

namespace Salient.Tests.Autodiff;

/// <summary>
/// Guided backprop and deconvnet are not derivatives, so they are checked against their definitions
/// computed by hand: for y = f(x) ⊙ C and seed s, the gradient arriving at f's output is g = s ⊙ C;
/// Standard passes g·f'(x), Guided passes max(g,0) where the forward mask passes, Deconvnet max(g,0).
/// </summary>
public class ReluRuleTests
{
    private static readonly long[] Shape = [2, 3, 4, 5];

    private static (float[] Grad, float[] G, float[] X) Run(string op, Func<Random, int, float[]> input, ReluRule rule,
        Action<TinyGraph, Node>? configure = null, string[]? extraInputs = null, long opset = 13)
    {
        var rng = new Random(3);
        var t = new TinyGraph(opset, Shape);
        var n = t.Node(op, ["x", .. extraInputs?.Select(e => e == "zero" ? t.Scalar(0f) : e == "six" ? t.Scalar(6f) : e) ?? []]);
        configure?.Invoke(t, n);
        int count = 2 * 3 * 4 * 5;
        var c = GradCheck.Uniform(rng, count);
        string cName = t.Floats(Shape, c);
        var g = t.Done(t.Op("Mul", n.Outputs[0], cName));
        var x = input(new Random(4), count);
        var seed = GradCheck.Uniform(new Random(5), count);
        using var engine = new GradientEngine(g, t.Spec(), GradCheck.Options);
        var r = engine.Run(new InputValue("x", Shape, x), new GradientRequest { ScoreTensor = "y", Wrt = ["x"], Relu = rule }, _ => seed);
        var incoming = seed.Zip(c, (s, k) => s * k).ToArray();
        return (r.Gradients["x"].Data, incoming, x);
    }

    private static void AssertEqual(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6f * (1 + Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {actual[i]}");
        Assert.Contains(expected, v => v != 0);
    }

    private static readonly Func<Random, int, float[]> Signed = (r, n) => GradCheck.AwayFrom(r, n, -3, 8, 0.05f, 0f, 6f);

    [Theory]
    [InlineData(ReluRule.Standard)]
    [InlineData(ReluRule.Guided)]
    [InlineData(ReluRule.Deconvnet)]
    public void Relu_passes_the_gradient_of_each_rule(ReluRule rule)
    {
        var (grad, g, x) = Run("Relu", Signed, rule);
        var expected = g.Select((gi, i) => rule switch
        {
            ReluRule.Standard => x[i] > 0 ? gi : 0,
            ReluRule.Guided => x[i] > 0 && gi > 0 ? gi : 0,
            _ => gi > 0 ? gi : 0,
        }).ToArray();
        AssertEqual(expected, grad);
    }

    [Theory]
    [InlineData(ReluRule.Standard)]
    [InlineData(ReluRule.Guided)]
    [InlineData(ReluRule.Deconvnet)]
    public void Clip_as_relu6(ReluRule rule)
    {
        var (grad, g, x) = Run("Clip", Signed, rule, extraInputs: ["zero", "six"]);
        var expected = g.Select((gi, i) => rule switch
        {
            ReluRule.Standard => x[i] > 0 && x[i] < 6 ? gi : 0,
            ReluRule.Guided => x[i] > 0 && x[i] < 6 && gi > 0 ? gi : 0,
            _ => gi > 0 ? gi : 0,
        }).ToArray();
        AssertEqual(expected, grad);
    }

    [Fact]
    public void Clip_with_nonzero_minimum_keeps_the_standard_rule_under_guided()
    {
        var (grad, g, x) = Run("Clip", Signed, ReluRule.Guided, extraInputs: ["lo", "six"], configure: (t, n) =>
        {
            n.Inputs[1] = t.Scalar(-1f);
        });
        var expected = g.Select((gi, i) => x[i] > -1 && x[i] < 6 ? gi : 0).ToArray();
        AssertEqual(expected, grad);
    }

    [Theory]
    [InlineData(ReluRule.Standard)]
    [InlineData(ReluRule.Guided)]
    [InlineData(ReluRule.Deconvnet)]
    public void LeakyRelu_passes_the_gradient_of_each_rule(ReluRule rule)
    {
        var (grad, g, x) = Run("LeakyRelu", Signed, rule, configure: (t, n) => n.Set("alpha", 0.2f));
        var expected = g.Select((gi, i) => rule switch
        {
            ReluRule.Standard => gi * (x[i] > 0 ? 1 : 0.2f),
            ReluRule.Guided => Math.Max(gi, 0) * (x[i] > 0 ? 1 : 0.2f),
            _ => Math.Max(gi, 0),
        }).ToArray();
        AssertEqual(expected, grad);
    }

    [Theory]
    [InlineData(ReluRule.Guided)]
    [InlineData(ReluRule.Deconvnet)]
    public void Sigmoid_keeps_its_derivative(ReluRule rule)
    {
        var (grad, g, x) = Run("Sigmoid", Signed, rule);
        var expected = g.Select((gi, i) => { float s = 1f / (1f + MathF.Exp(-x[i])); return gi * s * (1 - s); }).ToArray();
        AssertEqual(expected, grad);
    }

    [Fact]
    public void Guided_rule_applies_at_every_relu_of_a_chain()
    {
        // y = Relu(Relu(x) ⊙ A) ⊙ B: guided = mask1 · max(A ⊙ (mask2 · max(B ⊙ s, 0)), 0).
        int n = 120;
        var rng = new Random(11);
        var t = new TinyGraph(13, Shape);
        var a = GradCheck.Uniform(rng, n);
        var b = GradCheck.Uniform(rng, n);
        string h = t.Op("Relu", t.Op("Mul", t.Op("Relu", "x"), t.Floats(Shape, a)));
        var graph = t.Done(t.Op("Mul", h, t.Floats(Shape, b)));
        var x = GradCheck.AwayFrom(new Random(12), n, -2, 2, 0.05f, 0f);
        var seed = GradCheck.Uniform(new Random(13), n);
        using var engine = new GradientEngine(graph, t.Spec(), GradCheck.Options);
        var r = engine.Run(new InputValue("x", Shape, x), new GradientRequest { ScoreTensor = "y", Wrt = ["x"], Relu = ReluRule.Guided }, _ => seed);
        var expected = new float[n];
        for (int i = 0; i < n; i++)
        {
            float r1 = Math.Max(x[i], 0), pre2 = r1 * a[i];
            float g2 = seed[i] * b[i];
            float d2 = pre2 > 0 && g2 > 0 ? g2 : 0;
            float g1 = d2 * a[i];
            expected[i] = x[i] > 0 && g1 > 0 ? g1 : 0;
        }
        AssertEqual(expected, r.Gradients["x"].Data);
    }
}
