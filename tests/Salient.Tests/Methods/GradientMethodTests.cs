using Salient.Explain;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Xunit;

namespace Salient.Tests.Methods;

/// <summary>A small GAP → linear torchvision model (random weights) shared by the method tests.</summary>
public sealed class GapModelFixture : IDisposable
{
    public SalientModel Model { get; } = TestPaths.Load(TestPaths.Fixture("models", "mnv2_gap.onnx"));
    public PreparedInput Input { get; }

    public GapModelFixture()
    {
        // A deterministic, non-trivial image.
        int w = 96, h = 96;
        var data = new float[w * h * 3];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int c = 0; c < 3; c++)
            data[(y * w + x) * 3 + c] = (float)(127.5 + 120 * Math.Sin(0.11 * x * (c + 1) + 0.07 * y * (3 - c)));
        Input = Model.Prepare(new RgbImage(w, h, data));
    }

    public Explanation One(string method, int cls, Dictionary<string, string>? p = null, string layer = "auto") =>
        Explainer.Explain(Model, [Input], new ExplainRequest { Methods = [method], Classes = [cls.ToString()], Layers = [layer], Parameters = p ?? new() }).Explanations.Single();

    public void Dispose() => Model.Dispose();
}

public class GradientMethodTests : IClassFixture<MobileNetFixture>, IClassFixture<GapModelFixture>
{
    private readonly MobileNetFixture _f;
    private readonly GapModelFixture _g;
    public GradientMethodTests(MobileNetFixture f, GapModelFixture g) { _f = f; _g = g; }

    [Fact]
    public void Gradcam_equals_the_pytorch_reference_for_243_281_282_292()
    {
        var image = _f.Fp32.LoadImage(TestPaths.SharedImage("both.png"));
        var result = _f.Fp32.Explain(image, new ExplainRequest { Methods = ["gradcam"], Classes = ["243", "281", "282", "292"] });
        Assert.Equal(4, result.Explanations.Count);
        foreach (var e in result.Explanations)
        {
            var r = TestPaths.Reference.GetProperty($"class_{e.ClassIndex}");
            var want = TestPaths.Grid(r.GetProperty("gradcam_7x7"));
            var wantNorm = TestPaths.Grid(r.GetProperty("gradcam_normalized_7x7"));
            float max = want.Max();
            for (int i = 0; i < 49; i++)
            {
                Assert.True(Math.Abs(e.RawMap[i] - want[i]) <= 1e-4 * max, $"class {e.ClassIndex} cell {i}: {e.RawMap[i]} vs {want[i]}");
                Assert.True(Math.Abs(e.Normalized[i] - wantNorm[i]) <= 1e-4, $"normalized, class {e.ClassIndex} cell {i}");
            }
            var cell = r.GetProperty("gradcam_argmax_row_col").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            int argmax = Array.IndexOf(e.RawMap, e.RawMap.Max());
            Assert.Equal((cell[0], cell[1]), (argmax / 7, argmax % 7));
        }
    }

    [Fact]
    public void Gradcam_of_a_gap_linear_model_is_proportional_to_relu_cam()
    {
        // α_k = mean ∂y/∂A_k = w_ck / (H·W), so Grad-CAM = ReLU(CAM) / (H·W) exactly.
        foreach (int cls in new[] { 0, 3, 7 })
        {
            var cam = _g.One("cam", cls);
            var grad = _g.One("gradcam", cls);
            int hw = cam.Height * cam.Width;
            float scale = cam.RawMap.Max(Math.Abs);
            for (int i = 0; i < hw; i++)
                Assert.True(Math.Abs(grad.RawMap[i] * hw - Math.Max(0, cam.RawMap[i])) <= 1e-4 * scale, $"class {cls} cell {i}");
        }
        // Same on the real MobileNetV2.
        var image = _f.Fp32.LoadImage(TestPaths.SharedImage("both.png"));
        var both = _f.Fp32.Explain(image, new ExplainRequest { Methods = ["cam", "gradcam"], Classes = ["243"] }).Explanations;
        var c = both.Single(e => e.Method == "cam");
        var gc = both.Single(e => e.Method == "gradcam");
        float s = c.RawMap.Max(Math.Abs);
        for (int i = 0; i < 49; i++) Assert.True(Math.Abs(gc.RawMap[i] * 49 - Math.Max(0, c.RawMap[i])) <= 1e-4 * s);
    }

    [Fact]
    public void With_a_gap_linear_head_xgradcam_and_hirescam_equal_gradcam_and_layercam_and_gradcampp_have_closed_forms()
    {
        const int cls = 3;
        var layer = _g.Model.Structure().ResolveLayer("auto");
        var head = LinearHead.Find(_g.Model.Graph, _g.Model.Structure(), layer);
        var a = Activation.FromTensor(_g.Model.Run([_g.Input], layer.Name)[layer.Name], 0, TensorLayout.Nchw);
        int hw = a.Plane;
        var w = head.Row(cls);
        var grad = _g.One("gradcam", cls).RawMap;
        var x = _g.One("xgradcam", cls).RawMap;
        var hi = _g.One("hirescam", cls).RawMap;
        var lc = _g.One("layercam", cls).RawMap;
        var pp = _g.One("gradcam++", cls).RawMap;
        float scale = grad.Max() + 1e-12f;
        for (int p = 0; p < hw; p++)
        {
            // ∂y/∂A_k(p) = g_k = w_k / HW at every position.
            double layercam = 0, gradpp = 0;
            for (int k = 0; k < a.C; k++)
            {
                double g = w[k] / (double)hw, av = a.Data[k * hw + p];
                layercam += Math.Max(0, g) * av;
                double sumA = 0;
                for (int q = 0; q < hw; q++) sumA += a.Data[k * hw + q];
                // w_k = Σ_ij α ReLU(g) with α = g²/(2g² + ΣA g³)  →  HW·g²·ReLU(g)/(2g² + ΣA g³).
                double denom = 2 * g * g + sumA * g * g * g;
                double wk = denom != 0 ? hw * g * g * Math.Max(0, g) / denom : 0;
                gradpp += wk * av;
            }
            Assert.True(Math.Abs(x[p] - grad[p]) <= 1e-4 * scale, $"xgradcam {p}");
            Assert.True(Math.Abs(hi[p] - grad[p]) <= 1e-4 * scale, $"hirescam {p}");
            Assert.True(Math.Abs(lc[p] - Math.Max(0, layercam)) <= 1e-4 * Math.Max(1e-12, lc.Max()), $"layercam {p}");
            Assert.True(Math.Abs(pp[p] - Math.Max(0, gradpp)) <= 1e-3 * Math.Max(1e-12, pp.Max()), $"gradcam++ {p}: {pp[p]} vs {gradpp}");
        }
    }

    [Fact]
    public void Gradcam_works_on_an_inner_layer_and_on_several_layers()
    {
        var image = _f.Fp32.LoadImage(TestPaths.SharedImage("both.png"));
        var inner = _f.Fp32.Explain(image, new ExplainRequest { Methods = ["gradcam"], Layers = ["features.13"], Classes = ["243"] }).Explanations.Single();
        Assert.Equal((14, 14), (inner.Height, inner.Width));
        Assert.True(inner.RawMap.Max() > 0);
        var multi = _f.Fp32.Explain(image, new ExplainRequest { Methods = ["gradcam"], Layers = ["features.13", "features.18"], Classes = ["243"] }).Explanations.Single();
        Assert.Equal((224, 224), (multi.Height, multi.Width));
        Assert.Equal("features.13,features.18", multi.Layer);
        Assert.InRange(multi.Normalized.Max(), 0.5f, 1f);
    }

    [Fact]
    public void Per_item_classes_in_one_batch_equal_single_runs()
    {
        var imgs = new[] { "both.png", "dogs.png" }.Select(n => _f.Fp32.Prepare(_f.Fp32.LoadImage(TestPaths.SharedImage(n)))).ToList();
        var batch = Explainer.Explain(_f.Fp32, imgs, new ExplainRequest
        {
            Methods = ["gradcam", "saliency"],
            ClassesPerItem = [["243", "282"], ["auto"]],
        }).Explanations;
        Assert.Equal(6, batch.Count);
        foreach (var e in batch)
        {
            var single = Explainer.Explain(_f.Fp32, [imgs[e.Item]], new ExplainRequest { Methods = [e.Method], Classes = [e.ClassIndex.ToString()] }).Explanations.Single();
            float scale = single.RawMap.Max(Math.Abs);
            for (int i = 0; i < e.RawMap.Length; i++) Assert.True(Math.Abs(e.RawMap[i] - single.RawMap[i]) <= 1e-4 * scale, $"{e.Method} item {e.Item} class {e.ClassIndex}");
        }
    }

    [Fact]
    public void Integrated_gradients_satisfy_completeness()
    {
        // Σ IG = y(x) − y(baseline) up to the Riemann-sum error.
        const int cls = 3;
        var e = _g.One("integrated-gradients", cls, new() { ["steps"] = "64" });
        double sum = e.RawChannels!.Sum(v => (double)v);
        var black = _g.Model.Prepare(new RgbImage(96, 96, new float[96 * 96 * 3]));
        float yx = _g.Model.Run([_g.Input])["logits"].Data[cls];
        float yb = _g.Model.Run([black])["logits"].Data[cls];
        Assert.True(Math.Abs(sum - (yx - yb)) <= 0.02 * Math.Abs(yx - yb) + 1e-3, $"Σ IG = {sum}, y(x) − y(x') = {yx - yb}");
    }

    [Fact]
    public void Smoothgrad_with_zero_noise_is_saliency_and_is_seeded()
    {
        var s = _g.One("saliency", 2).RawMap;
        var z = _g.One("smoothgrad", 2, new() { ["sigma"] = "0", ["samples"] = "3" }).RawMap;
        for (int i = 0; i < s.Length; i++) Assert.Equal(s[i], z[i], 5);
        var a = _g.One("smoothgrad", 2, new() { ["samples"] = "4", ["seed"] = "5" }).RawMap;
        var b = _g.One("smoothgrad", 2, new() { ["samples"] = "4", ["seed"] = "5" }).RawMap;
        var c = _g.One("smoothgrad", 2, new() { ["samples"] = "4", ["seed"] = "6" }).RawMap;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Input_x_gradient_is_input_times_saliency_gradient()
    {
        var sal = _g.One("saliency", 1);
        var ixg = _g.One("inputxgradient", 1);
        var x = _g.Input.Tensor; // NCHW
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i] * sal.RawChannels![i], ixg.RawChannels![i], 5);
    }

    [Fact]
    public void Guided_gradcam_is_guided_backprop_times_upsampled_gradcam()
    {
        var gb = _g.One("guidedbackprop", 4);
        var gc = _g.One("gradcam", 4);
        var ggc = _g.One("guided-gradcam", 4);
        var cam = MapMath.ResizeBilinear(MapMath.NormalizeByMax(gc.RawMap), gc.Height, gc.Width, 96, 96);
        for (int k = 0; k < 3; k++)
            for (int p = 0; p < 96 * 96; p++)
                Assert.Equal(gb.RawChannels![k * 9216 + p] * cam[p], ggc.RawChannels![k * 9216 + p], 5);
        Assert.True(gb.ImageValued && ggc.ImageValued && !gc.ImageValued);
    }

    [Fact]
    public void Gradcam_on_an_opset8_model_with_maxpool()
    {
        using var m = TestPaths.Load(TestPaths.SharedModel("mnist-8.onnx"));
        var digit = new RgbImage(28, 28, Enumerable.Range(0, 28 * 28 * 3).Select(i => (i / 3 % 28 is > 10 and < 17) ? 255f : 0f).ToArray());
        var r = m.Explain(digit, new ExplainRequest { Methods = ["gradcam", "saliency", "guidedbackprop"], Classes = ["1"] });
        Assert.Equal(3, r.Explanations.Count);
        Assert.Equal((4, 4), (r.Explanations[0].Height, r.Explanations[0].Width));
        Assert.Equal((28, 28), (r.Explanations[1].Height, r.Explanations[1].Width));
        Assert.All(r.Explanations, e => Assert.Contains(e.RawMap, v => v != 0));
    }
}
