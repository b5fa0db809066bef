using Salient.Explain;
using Salient.Rendering;
using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Tokens;

/// <summary>
/// Attention rollout on the tiny torchvision ViT against tools/make_token_fixtures.py's independent
/// rollout (attention recomputed from the blocks' weights in PyTorch), for each head fusion and with discarding.
/// </summary>
public class AttentionRolloutTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("mean", "0.0")]
    [InlineData("max", "0.0")]
    [InlineData("min", "0.0")]
    [InlineData("mean", "0.5")]
    public void Rollout_equals_the_pytorch_computation(string fusion, string discard)
    {
        var f = TokenReferenceTests.Fixture("tinyvit");
        using var m = TokenReferenceTests.Load("tinyvit");
        var (reference, _) = Npy.Read(TestPaths.Fixture("tokens", f.GetProperty("rollout").GetProperty($"{fusion},{discard}").GetString()!));
        var result = Explainer.Explain(m, TokenReferenceTests.Inputs("tinyvit"), new ExplainRequest
        {
            Methods = ["rollout"],
            Classes = ["auto"],
            Parameters = new Dictionary<string, string> { ["head-fusion"] = fusion, ["discard-ratio"] = discard },
        });
        Assert.Equal(2, result.Explanations.Count);
        foreach (var e in result.Explanations)
        {
            Assert.Equal((4, 4), (e.Height, e.Width));
            Assert.True(e.ClassAgnostic);
            var expected = reference[(e.Item * 16)..((e.Item + 1) * 16)];
            double worst = 0;
            for (int i = 0; i < 16; i++) worst = Math.Max(worst, Math.Abs(e.RawMap[i] - expected[i]));
            output.WriteLine($"{fusion} discard {discard} item {e.Item}: max |Δ| {worst:g3} (values {expected.Min():g3} … {expected.Max():g3})");
            // The raw rollout itself, not only its shape: the class token's row of the product.
            Assert.True(worst <= 1e-5 * expected.Max(), $"item {e.Item}: max |Δ| {worst}");
        }
    }

    [Fact]
    public void Rollout_on_a_cnn_or_a_model_without_a_class_token_says_why()
    {
        using var cnn = TestPaths.Load(TestPaths.Fixture("eval", "tinycnn.onnx"));
        var x = TokenReferenceTests.Inputs("tinyvit");
        var e = Assert.Throws<SalientException>(() => Explainer.Explain(cnn, [cnn.Prepare(cnn.LoadImage(TestPaths.SharedImage("both.png")))],
            new ExplainRequest { Methods = ["rollout"] }));
        Assert.Contains("needs a vision transformer", e.Message);
        using var swin = TokenReferenceTests.Load("tinyswin");
        e = Assert.Throws<SalientException>(() => Explainer.Explain(swin, x, new ExplainRequest { Methods = ["rollout"] }));
        Assert.Contains("no class token", e.Message);
    }
}
