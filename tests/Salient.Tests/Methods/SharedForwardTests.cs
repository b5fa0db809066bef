using Salient.Autodiff;
using Salient.Explain;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Xunit;

namespace Salient.Tests.Methods;

/// <summary>
/// Pixel-gradient methods reuse the pipeline's forward pass (one forward per image): the backward of
/// each class slot runs on the pass's live activations. References: the engine's own Run per
/// (item, class) with a one-hot seed, which does its own forward.
/// </summary>
public class SharedForwardTests : IClassFixture<GapModelFixture>
{
    private readonly GapModelFixture _g;
    public SharedForwardTests(GapModelFixture g) => _g = g;

    private PreparedInput Other()
    {
        int w = 96, h = 96;
        var data = new float[w * h * 3];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(127.5 + 100 * Math.Cos(0.013 * i));
        return _g.Model.Prepare(new RgbImage(w, h, data));
    }

    private float[] EngineGradient(PreparedInput item, int cls, ReluMode relu)
    {
        var m = _g.Model;
        var s = m.Structure();
        var input = new Runtime.InputValue(m.Input.Name, m.Input.ShapeFor(1, m.InputSize.Height, m.InputSize.Width), item.Tensor);
        var r = m.Gradients.Run(input, new GradientRequest { ScoreTensor = s.LogitsName, Wrt = [m.Input.Name], Relu = relu },
            _ => Seeds.ClassLogit([cls], s.ClassCount));
        return r.Gradients[m.Input.Name].Data;
    }

    [Theory]
    [InlineData("saliency", "standard")]
    [InlineData("guidedbackprop", "guided")]
    public void Two_images_two_classes_each_equal_separate_engine_runs(string method, string reluName)
    {
        var items = new List<PreparedInput> { _g.Input, Other() };
        var result = Explainer.Explain(_g.Model, items, new ExplainRequest
        {
            Methods = [method],
            ClassesPerItem = [["3", "7"], ["7", "1"]],
        });
        Assert.Equal(4, result.Explanations.Count);
        foreach (var e in result.Explanations)
        {
            var want = EngineGradient(items[e.Item], e.ClassIndex, ReluMode.Parse(reluName, ReluMode.Standard));
            var got = e.RawChannels!;
            float max = want.Max(Math.Abs);
            Assert.True(max > 0);
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(got[i] - want[i]) <= 1e-5 * max, $"item {e.Item} class {e.ClassIndex} element {i}: {got[i]} vs {want[i]}");
        }
    }

    [Fact]
    public void The_method_uses_the_given_pass_instead_of_a_new_forward()
    {
        // A pass computed on another image: if the method used it, the gradients are that image's.
        var m = _g.Model;
        var s = m.Structure();
        var other = Other();
        var method = MethodRegistry.Get("saliency");
        var probe = new MethodContext(m, s, null, [_g.Input], [[]], new Dictionary<string, string>(), new());
        var request = method.SharedForwardRequest(probe)!;
        var program = m.Gradients.Build(request, m.Input.ShapeFor(1, m.InputSize.Height, m.InputSize.Width));
        using var pass = program.Forward(m.Pack([other]));
        var ctx = new MethodContext(m, s, null, [_g.Input], [[5]], new Dictionary<string, string>(), new()) { Pass = pass };
        var got = method.Compute(ctx).Single().Channels!;
        var want = EngineGradient(other, 5, ReluMode.Standard);
        var notWanted = EngineGradient(_g.Input, 5, ReluMode.Standard);
        float max = want.Max(Math.Abs);
        Assert.All(Enumerable.Range(0, want.Length), i => Assert.True(Math.Abs(got[i] - want[i]) <= 1e-6 * max));
        Assert.Contains(Enumerable.Range(0, want.Length), i => Math.Abs(got[i] - notWanted[i]) > 1e-3 * max);
        // A pass for another ReLU rule is not used (guided backprop runs its own forward).
        var guided = MethodRegistry.Get("guidedbackprop").Compute(ctx).Single().Channels!;
        var guidedWant = EngineGradient(_g.Input, 5, ReluMode.Guided);
        float gmax = guidedWant.Max(Math.Abs);
        Assert.All(Enumerable.Range(0, guidedWant.Length), i => Assert.True(Math.Abs(guided[i] - guidedWant[i]) <= 1e-6 * gmax));
    }

    [Fact]
    public void Guided_gradcam_takes_its_gradient_from_the_pass_and_its_gradcam_from_the_pipeline()
    {
        var m = _g.Model;
        var s = m.Structure();
        var other = Other();
        var method = MethodRegistry.Get("guided-gradcam");
        Assert.Equal(["gradcam"], method.Composes);
        var probe = new MethodContext(m, s, null, [_g.Input], [[]], new Dictionary<string, string>(), new());
        var request = method.SharedForwardRequest(probe)!;
        using var pass = m.Gradients.Build(request, m.Input.ShapeFor(1, m.InputSize.Height, m.InputSize.Width)).Forward(m.Pack([other]));
        int cls = Statistics.ArgMax(pass.Value(s.LogitsName).Data);   // its top class: a Grad-CAM that is not all zero
        // The Grad-CAM factor as the pipeline gives it: the other image's [0,1] map on the input grid.
        var cam = Explainer.Explain(m, [other], new ExplainRequest { Methods = ["gradcam"], Classes = [cls.ToString()] }).Explanations.Single();
        var camOnInput = MapMath.ResizeBilinear(cam.Normalized, cam.Height, cam.Width, other.Height, other.Width);
        var got = method.Compute(new MethodContext(m, s, null, [_g.Input], [[cls]], new Dictionary<string, string>(), new())
        {
            Pass = pass,
            Compose = name => name == "gradcam" ? [camOnInput] : throw new InvalidOperationException(name),
        }).Single().Channels!;
        // Everything (guided gradient and Grad-CAM) must be the other image's.
        var want = Explainer.Explain(m, [other], new ExplainRequest { Methods = ["guided-gradcam"], Classes = [cls.ToString()] }).Explanations.Single().RawChannels!;
        float max = want.Max(Math.Abs);
        Assert.True(max > 0);
        double worst = Enumerable.Range(0, want.Length).Max(i => Math.Abs(got[i] - want[i]));
        Assert.True(worst <= 1e-6 * max, $"max |Δ| {worst:g4} vs max {max:g4}; got max {got.Max(Math.Abs):g4}");
    }

    [Fact]
    public void Pass_values_and_repeated_backwards_match_a_full_run()
    {
        var m = _g.Model;
        var s = m.Structure();
        string layer = s.ResolveLayer("auto").Name;
        var request = new GradientRequest { ScoreTensor = s.LogitsName, Wrt = [m.Input.Name], AlsoFetch = [layer] };
        var input = m.Pack([_g.Input, Other()]);
        var program = m.Gradients.Build(request, input.Shape);
        using var pass = program.Forward(input);
        var logits = pass.Value(s.LogitsName);
        var plain = m.Session([layer]).Run([input]);
        Assert.Equal(plain[s.LogitsName].Data, logits.Data);
        Assert.Equal(plain[layer].Data, pass.Value(layer).Data);
        foreach (int cls in new[] { 2, 9, 2 })
        {
            var seed = Seeds.ClassLogit([cls, cls], s.ClassCount);
            var full = program.Run(input, _ => seed).Gradients[m.Input.Name].Data;
            Assert.Equal(full, pass.Backward(seed)[m.Input.Name].Data);
        }
        pass.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pass.Backward(Seeds.ClassLogit([1, 1], s.ClassCount)));
    }
}
