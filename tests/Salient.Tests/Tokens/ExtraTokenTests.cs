using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Onnx;
using Xunit;

namespace Salient.Tests.Tokens;

/// <summary>
/// Leading non-patch tokens (class + distillation / register tokens) on a hand-made token model with a
/// closed-form Grad-CAM: x [1,3,32,32] → Conv(6, 8×8, stride 8) = "patches" [1,6,4,4] → Reshape → Transpose
/// → [1,16,6] → Concat(R constant tokens first) = "tokens" [1,R+16,6] → ReduceMean over tokens → Gemm(W) = logits.
/// ∂y_c/∂tokens[t,k] = W[c,k]/(R+16) for every token, so Grad-CAM at "tokens" is ReLU(Σ_k W[c,k]·patches[k,p]) / (R+16).
/// </summary>
public class ExtraTokenTests
{
    private const int Classes = 4, Channels = 6, Size = 32;

    private static (string Path, float[] W) Model(int extra)
    {
        var rng = new Random(7 + extra);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var g = new Graph { Name = $"tokens{extra}", IrVersion = 8 };
        g.Opsets[""] = 13;
        g.Inputs.Add(new ValueInfo("input", DataType.Float, [Dim.Fixed(1), Dim.Fixed(3), Dim.Fixed(Size), Dim.Fixed(Size)]));
        var w = R(Classes * Channels);
        g.Initializers["Wc"] = Tensor.FromFloats("Wc", [Channels, 3, 8, 8], R(Channels * 3 * 64));
        g.Initializers["extra"] = Tensor.FromFloats("extra", [1, extra, Channels], R(extra * Channels));
        g.Initializers["shape"] = Tensor.Vector("shape", 1, Channels, 16);
        g.Initializers["W"] = Tensor.FromFloats("W", [Classes, Channels], w);
        g.Nodes.Add(new Node("Conv", ["input", "Wc"], ["patches"], "patch_embed").Set("kernel_shape", new long[] { 8, 8 }).Set("strides", new long[] { 8, 8 }));
        g.Nodes.Add(new Node("Reshape", ["patches", "shape"], ["flat"], "flatten"));
        g.Nodes.Add(new Node("Transpose", ["flat"], ["seq"], "to_tokens").Set("perm", new long[] { 0, 2, 1 }));
        g.Nodes.Add(new Node("Concat", ["extra", "seq"], ["tokens"], "cat").Set("axis", 1L));
        g.Nodes.Add(new Node("ReduceMean", ["tokens"], ["pooled"], "pool").Set("axes", new long[] { 1 }).Set("keepdims", 0L));
        g.Nodes.Add(new Node("Gemm", ["pooled", "W"], ["logits"], "head").Set("transB", 1L));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, [Dim.Fixed(1), Dim.Fixed(Classes)]));
        var path = Path.Combine(Directory.CreateTempSubdirectory("salient-tokens").FullName, g.Name + ".onnx");
        OnnxWriter.WriteFile(g, path);
        return (path, w);
    }

    [Theory]
    [InlineData(1, null)]      // ViT: the class token
    [InlineData(2, null)]      // DeiT: class + distillation tokens
    [InlineData(5, null)]      // DINOv2 with 4 registers
    [InlineData(12, "skip=12")] // beyond what is detected: given
    public void Leading_tokens_are_skipped_and_grad_cam_has_its_closed_form(int extra, string? tokens)
    {
        var (path, w) = Model(extra);
        using var m = TestPaths.Load(path, new ModelOptions { Preprocessing = Preprocessing.Raw, Tokens = tokens });
        var layer = m.Structure().ResolveLayer("tokens");
        Assert.True(layer.IsTokenLayer);
        Assert.Equal(extra, layer.SkippedTokens);
        Assert.Equal((4, 4), layer.Spatial);
        Assert.Equal("tokens", m.Structure().DefaultLayer); // the head pools every token: the usual rule
        var rng = new Random(3);
        var x = Enumerable.Range(0, 3 * Size * Size).Select(_ => (float)rng.NextDouble()).ToArray();
        var item = new PreparedInput(x, Size, Size, 3, TensorLayout.Nchw, CropGeometry.Whole(Size, Size), new RgbImage(Size, Size, new float[Size * Size * 3]));
        var patches = m.Run([item], "patches")["patches"].Data; // [1,6,4,4]
        var r = Explainer.Explain(m, [item], new ExplainRequest { Methods = ["gradcam"], Layers = ["tokens"], Classes = ["0", "1", "2", "3"] });
        foreach (var e in r.Explanations)
        {
            var expected = new float[16];
            for (int p = 0; p < 16; p++)
            {
                double s = 0;
                for (int k = 0; k < Channels; k++) s += w[e.ClassIndex * Channels + k] * patches[k * 16 + p];
                expected[p] = (float)Math.Max(0, s / (extra + 16));
            }
            float scale = Math.Max(1e-6f, expected.Max());
            for (int p = 0; p < 16; p++) Assert.Equal(expected[p], e.RawMap[p], 1e-4f * scale); // float32 sums
        }
    }

    [Fact]
    public void More_leading_tokens_than_detected_need_the_option()
    {
        var (path, _) = Model(12);
        using var m = TestPaths.Load(path);
        Assert.False(m.Structure().ResolveLayer("tokens").IsTokenLayer);
        Assert.Contains("`tokens` option", Assert.Throws<SalientException>(() => m.Structure().ResolveTargetLayers(["tokens"])).Message);
    }
}
