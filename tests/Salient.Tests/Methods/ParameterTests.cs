using Xunit;
using Salient.Explain;
using Salient.Methods;
using Salient.Tests.Perturbation;

namespace Salient.Tests.Methods;

/// <summary>The typed method parameters: one parser, one validation, for the library and the CLI.</summary>
public class ParameterTests
{
    [Theory]
    [InlineData("on")]
    [InlineData("true")]
    [InlineData("YES")]
    [InlineData("1")]
    public void Eigen_smooth_is_honoured_in_every_boolean_spelling(string on)
    {
        // A ReLU'd conv layer with several channels: the principal component differs from the channel sum.
        var (path, _, _) = TinyModels.ConvHead(6, 3, relu: true, skip: false, seed: 5);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(6);
        float[] Raw(Dictionary<string, string> p) => TinyModels.Explain(m, item, "gradcam", ["1"], p).Explanations[0].RawMap;
        var plain = Raw(new());
        var eigen = Raw(new() { ["eigen-smooth"] = on });
        Assert.NotEqual(plain, eigen);
        Assert.Equal(Raw(new() { ["eigen-smooth"] = "true" }), eigen);
        foreach (var off in new[] { "off", "false", "no", "0" })
            Assert.Equal(plain, Raw(new() { ["eigen-smooth"] = off }));
    }

    [Fact]
    public void Unknown_parameter_fails_with_a_suggestion_in_the_library()
    {
        var (path, _, _) = TinyModels.Linear(2, 11);
        using var m = TinyModels.Load(path);
        var e = Assert.Throws<SalientException>(() => Explainer.Explain(m, [TinyModels.RandomItem(1)],
            new ExplainRequest { Methods = ["smoothgrad"], Parameters = new Dictionary<string, string> { ["sampels"] = "2" } }));
        Assert.Equal("unknown parameter 'sampels' for smoothgrad; did you mean 'samples'?", e.Message);
    }

    [Fact]
    public void Every_declared_default_is_a_valid_value_and_every_method_declares_what_it_reads()
    {
        foreach (var m in MethodRegistry.All)
            foreach (var p in MethodRegistry.ParametersOf(m))
            {
                Assert.False(string.IsNullOrWhiteSpace(p.Help), $"{m.Name}.{p.Name} has no help");
                if (p is IntParameter { Default: null }) continue; // chosen from the input
                p.Validate(p.DefaultText!);
            }
    }

    [Fact]
    public void A_value_is_checked_by_each_method_that_declares_it()
    {
        // seed is an integer for both; samples only for smoothgrad.
        ParameterCheck.Validate([MethodRegistry.Get("rise"), MethodRegistry.Get("smoothgrad")], new Dictionary<string, string> { ["seed"] = "3", ["samples"] = "4" });
        var e = Assert.Throws<ParameterException>(() =>
            ParameterCheck.Validate([MethodRegistry.Get("smoothgrad")], new Dictionary<string, string> { ["samples"] = "0" }));
        Assert.Equal("samples", e.Parameter);
        Assert.Equal("--samples '0' must be an integer 1–65536", e.Describe(n => "--" + n));
    }

    [Fact]
    public void Smoothgrad_of_a_base_method_averages_that_methods_maps()
    {
        // With sigma 0, every noisy copy is the input: SmoothGrad equals its base method exactly.
        var (path, _, _) = TinyModels.ConvHead(4, 3, relu: true, skip: true, seed: 21);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(22);
        foreach (var b in new[] { "saliency", "guidedbackprop", "inputxgradient" })
        {
            var want = TinyModels.Explain(m, item, b, ["0"]).Explanations[0];
            var got = TinyModels.Explain(m, item, "smoothgrad", ["0"], new() { ["base"] = b, ["sigma"] = "0", ["samples"] = "3" }).Explanations[0];
            Assert.Equal(want.RawMap.Length, got.RawMap.Length);
            for (int i = 0; i < want.RawMap.Length; i++) Assert.Equal(want.RawMap[i], got.RawMap[i], 5);
        }
    }
}
