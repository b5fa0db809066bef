using Salient.Autodiff;
using Salient.Onnx;
using Salient.Runtime;
using Xunit;

namespace Salient.Tests.Autodiff;

/// <summary>
/// Guided backprop, deconvnet and the other ReLU modes are not derivatives, so they are checked
/// against their definitions computed by hand: for y = f(x) ⊙ C and seed s, the gradient arriving
/// at f's output is g = s ⊙ C; f's local derivative is 1 where it passes and a slope elsewhere
/// (0 for Relu/Clip, alpha for LeakyRelu, the slope for PRelu), and each mode's definition is
/// written out independently in <see cref="Definition"/>.
/// </summary>
public class ReluModeTests
{
    private static readonly long[] Shape = [2, 3, 4, 5];
    private const int Count = 2 * 3 * 4 * 5;

    /// <summary>dX of each mode from g, whether the op passes at x, and the slope where it does not.</summary>
    private static float Definition(string mode, float g, bool pass, float slope) => mode switch
    {
        "standard" => pass ? g : g * slope,
        "guided" => Math.Max(g, 0) * (pass ? 1 : slope),
        "deconvnet" => Math.Max(g, 0),
        "straight-through" => g,
        _ => throw new Xunit.Sdk.XunitException($"relu mode '{mode}' has no definition in ReluModeTests.Definition; add one"),
    };

    public static TheoryData<string> Modes() => new(ReluMode.All.Select(m => m.Name));

    private static (float[] Grad, float[] G, float[] X) Run(string op, Func<Random, int, float[]> input, ReluMode mode,
        Action<TinyGraph, Node>? configure = null, string[]? extraInputs = null, long opset = 13)
    {
        var rng = new Random(3);
        var t = new TinyGraph(opset, Shape);
        var n = t.Node(op, ["x", .. extraInputs?.Select(e => e == "zero" ? t.Scalar(0f) : e == "six" ? t.Scalar(6f) : e) ?? []]);
        configure?.Invoke(t, n);
        var c = GradCheck.Uniform(rng, Count);
        string cName = t.Floats(Shape, c);
        var g = t.Done(t.Op("Mul", n.Outputs[0], cName));
        var x = input(new Random(4), Count);
        var seed = GradCheck.Uniform(new Random(5), Count);
        using var engine = new GradientEngine(g, t.Spec(), GradCheck.Options);
        var r = engine.Run(new InputValue("x", Shape, x), new GradientRequest { ScoreTensor = "y", Wrt = ["x"], Relu = mode }, _ => seed);
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
    [MemberData(nameof(Modes))]
    public void Relu(string mode)
    {
        var (grad, g, x) = Run("Relu", Signed, ReluMode.Parse(mode, ReluMode.Standard));
        AssertEqual(g.Select((gi, i) => Definition(mode, gi, x[i] > 0, 0f)).ToArray(), grad);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Clip_as_relu6(string mode)
    {
        var (grad, g, x) = Run("Clip", Signed, ReluMode.Parse(mode, ReluMode.Standard), extraInputs: ["zero", "six"]);
        AssertEqual(g.Select((gi, i) => Definition(mode, gi, x[i] > 0 && x[i] < 6, 0f)).ToArray(), grad);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Clip_as_relu6_with_attributes_before_opset_11(string mode)
    {
        var (grad, g, x) = Run("Clip", Signed, ReluMode.Parse(mode, ReluMode.Standard), opset: 10,
            configure: (_, n) => n.Set("min", 0f).Set("max", 6f));
        AssertEqual(g.Select((gi, i) => Definition(mode, gi, x[i] > 0 && x[i] < 6, 0f)).ToArray(), grad);
    }

    [Fact]
    public void Clip_with_nonzero_minimum_keeps_the_standard_rule_under_every_other_mode()
    {
        foreach (var mode in ReluMode.All)
        {
            var (grad, g, x) = Run("Clip", Signed, mode, extraInputs: ["lo", "six"], configure: (t, n) =>
            {
                n.Inputs[1] = t.Scalar(-1f);
            });
            var expected = g.Select((gi, i) => x[i] > -1 && x[i] < 6 ? gi : 0).ToArray();
            AssertEqual(expected, grad);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void LeakyRelu(string mode)
    {
        var (grad, g, x) = Run("LeakyRelu", Signed, ReluMode.Parse(mode, ReluMode.Standard), configure: (t, n) => n.Set("alpha", 0.2f));
        AssertEqual(g.Select((gi, i) => Definition(mode, gi, x[i] > 0, 0.2f)).ToArray(), grad);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void LeakyRelu_with_negative_alpha_reads_the_sign_from_the_input(string mode)
    {
        // alpha < 0: y > 0 no longer tells x > 0 (the negative side is positive too); the rule reads x.
        var (grad, g, x) = Run("LeakyRelu", Signed, ReluMode.Parse(mode, ReluMode.Standard), configure: (t, n) => n.Set("alpha", -0.3f));
        AssertEqual(g.Select((gi, i) => Definition(mode, gi, x[i] > 0, -0.3f)).ToArray(), grad);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void PRelu_with_a_per_channel_slope(string mode)
    {
        float[] slopes = [0.1f, -0.25f, 0.5f];
        var (grad, g, x) = Run("PRelu", Signed, ReluMode.Parse(mode, ReluMode.Standard), extraInputs: ["slope"],
            configure: (t, n) => n.Inputs[1] = t.Floats([3, 1, 1], slopes));
        AssertEqual(g.Select((gi, i) => Definition(mode, gi, x[i] > 0, slopes[i / 20 % 3])).ToArray(), grad);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Sigmoid_keeps_its_derivative(string mode)
    {
        var (grad, g, x) = Run("Sigmoid", Signed, ReluMode.Parse(mode, ReluMode.Standard));
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
        var r = engine.Run(new InputValue("x", Shape, x), new GradientRequest { ScoreTensor = "y", Wrt = ["x"], Relu = ReluMode.Guided }, _ => seed);
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

    // ---- the registry ---------------------------------------------------------------------------

    [Fact]
    public void Registry_holds_the_built_in_modes_once_each_by_name()
    {
        var names = ReluMode.All.Select(m => m.Name).ToList();
        Assert.Equal(names.Distinct().Count(), names.Count);
        Assert.Contains(ReluMode.Standard, ReluMode.All);
        Assert.Contains(ReluMode.Guided, ReluMode.All);
        Assert.Contains(ReluMode.Deconvnet, ReluMode.All);
        Assert.Equal(["deconvnet", "guided", "standard"], new[] { ReluMode.Deconvnet, ReluMode.Guided, ReluMode.Standard }.Select(m => m.Name));
        Assert.All(ReluMode.All, m => Assert.False(string.IsNullOrWhiteSpace(m.Description)));
    }

    [Fact]
    public void Straight_through_is_the_identity_through_a_relu_chain()
    {
        // y = Relu(Relu(x) ⊙ A) ⊙ B with both ReLUs taken as the identity: dX = A ⊙ B ⊙ s exactly.
        int n = 120;
        var rng = new Random(11);
        var t = new TinyGraph(13, Shape);
        var a = GradCheck.Uniform(rng, n);
        var b = GradCheck.Uniform(rng, n);
        var graph = t.Done(t.Op("Mul", t.Op("Relu", t.Op("Mul", t.Op("Relu", "x"), t.Floats(Shape, a))), t.Floats(Shape, b)));
        var x = GradCheck.AwayFrom(new Random(12), n, -2, 2, 0.05f, 0f);
        var seed = GradCheck.Uniform(new Random(13), n);
        using var engine = new GradientEngine(graph, t.Spec(), GradCheck.Options);
        var mode = ReluMode.Parse("Straight-Through", ReluMode.Standard);
        var r = engine.Run(new InputValue("x", Shape, x), new GradientRequest { ScoreTensor = "y", Wrt = ["x"], Relu = mode }, _ => seed);
        AssertEqual(Enumerable.Range(0, n).Select(i => a[i] * b[i] * seed[i]).ToArray(), r.Gradients["x"].Data);
    }

    [Fact]
    public void Parse_is_case_insensitive_and_falls_back_on_nothing()
    {
        foreach (var m in ReluMode.All)
        {
            Assert.Same(m, ReluMode.Parse(m.Name, ReluMode.Standard));
            Assert.Same(m, ReluMode.Parse(m.Name.ToUpperInvariant(), ReluMode.Standard));
        }
        Assert.Same(ReluMode.Guided, ReluMode.Parse(null, ReluMode.Guided));
        Assert.Same(ReluMode.Deconvnet, ReluMode.Parse("", ReluMode.Deconvnet));
    }

    [Fact]
    public void Parse_lists_the_valid_names_and_suggests_the_closest_for_a_typo()
    {
        var e = Assert.Throws<SalientException>(() => ReluMode.Parse("guidd", ReluMode.Standard));
        Assert.Contains("did you mean 'guided'", e.Message);
        foreach (var m in ReluMode.All) Assert.Contains(m.Name, e.Message);
        var far = Assert.Throws<SalientException>(() => ReluMode.Parse("xyzzyplugh", ReluMode.Standard));
        Assert.DoesNotContain("did you mean", far.Message);
    }

    [Fact]
    public void Programs_are_cached_per_mode()
    {
        var t = new TinyGraph(13, Shape);
        var graph = t.Done(t.Op("Relu", "x"));
        using var engine = new GradientEngine(graph, t.Spec(), GradCheck.Options);
        var req = new GradientRequest { ScoreTensor = "y", Wrt = ["x"] };
        var programs = ReluMode.All.Select(m => engine.Build(req with { Relu = m }, Shape)).ToList();
        Assert.Equal(programs.Count, programs.Distinct().Count());
        Assert.Same(programs[0], engine.Build(req with { Relu = ReluMode.All[0] }, Shape));
    }
}
