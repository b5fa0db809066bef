using System.Text.Json;
using Salient.Explain;
using Salient.Methods;
using Salient.Models;
using Salient.Runtime;
using Xunit;

namespace Salient.Tests.Foundation;

public class CamTests : IClassFixture<MobileNetFixture>
{
    private readonly MobileNetFixture _f;
    public CamTests(MobileNetFixture f) => _f = f;

    private ExplainResult ExplainBoth(SalientModel model, string method, params string[] classes)
    {
        var image = model.LoadImage(TestPaths.SharedImage("both.png"));
        return Explainer.Explain(model, [model.Prepare(image)], new ExplainRequest { Methods = [method], Classes = classes });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Cam_equals_the_pytorch_reference_for_243_and_282(bool w8)
    {
        var model = w8 ? _f.W8 : _f.Fp32;
        var result = ExplainBoth(model, "cam", "243", "282");
        Assert.Equal(2, result.Explanations.Count);
        foreach (var e in result.Explanations)
        {
            var r = TestPaths.Reference.GetProperty($"class_{e.ClassIndex}");
            var want = TestPaths.Grid(r.GetProperty("cam_7x7"));
            Assert.Equal(7, e.Height);
            Assert.Equal(7, e.Width);
            Assert.Equal("features.18", e.Layer);
            float max = want.Max(Math.Abs);
            double worst = 0;
            for (int i = 0; i < 49; i++) worst = Math.Max(worst, Math.Abs(e.RawMap[i] - want[i]) / max);
            Assert.True(worst <= 1e-4, $"class {e.ClassIndex}: max relative diff {worst}");
            int argmax = Array.IndexOf(e.RawMap, e.RawMap.Max());
            var cell = r.GetProperty("cam_argmax_row_col").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            Assert.Equal((cell[0], cell[1]), (argmax / 7, argmax % 7));
            Assert.Equal(1f, e.Normalized.Max(), 5);
            Assert.Equal(0f, e.Normalized.Min(), 5);
        }
    }

    [Fact]
    public void Cam_of_a_small_torchvision_model_equals_pytorch()
    {
        using var m = TestPaths.Load(TestPaths.Fixture("models", "mnv2_gap.onnx"));
        var expected = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("models", "mnv2_gap_expected.json"))).RootElement;
        var x = TestPaths.FormulaInput(3 * 96 * 96);
        var s = m.Structure();
        var layer = s.ResolveLayer("auto");
        var outs = m.Session([layer.Name]).Run([new InputValue("input", [1, 3, 96, 96], x)]);
        var row3 = LinearHead.Find(m.Graph, s, layer).Row(3);
        var a = Activation.FromTensor(outs[layer.Name], 0, Salient.Core.TensorLayout.Nchw);
        var want = TestPaths.Floats(expected.GetProperty("cam"));
        var logits = TestPaths.Floats(expected.GetProperty("logits"));
        for (int i = 0; i < 10; i++) Assert.Equal(logits[i], outs["logits"].Data[i], 4);
        float max = want.Max(Math.Abs);
        for (int p = 0; p < a.Plane; p++)
        {
            double v = 0;
            for (int k = 0; k < a.C; k++) v += row3[k] * a.Data[k * a.Plane + p];
            Assert.True(Math.Abs(v - want[p]) <= 1e-4 * max, $"position {p}: {v} vs {want[p]}");
        }
    }

    [Fact]
    public void Cam_on_a_model_without_a_gap_linear_head_says_so_and_suggests_gradcam()
    {
        using var m = TestPaths.Load(TestPaths.Fixture("models", "mnv3s_nchw.onnx"), new ModelOptions { Size = (64, 64) });
        var img = new Salient.Imaging.RgbImage(64, 64, new float[64 * 64 * 3]);
        var e = Assert.Throws<SalientException>(() => Explainer.Explain(m, [m.Prepare(img)], new ExplainRequest { Methods = ["cam"] }));
        Assert.Contains("global-average-pooling", e.Message);
        Assert.Contains("gradcam", e.Message);
    }

    [Fact]
    public void Eigencam_is_the_first_principal_component_with_a_positive_sign()
    {
        // Hand case: 3 channels over 4 positions, A_k(p) = m_k + c_k·s(p) exactly rank one after centring,
        // so the projection is ±|c|·(s - mean s) and the sign must follow the activation sum.
        float[] s = [3, -1, 0, 2];
        float[] c = [1, 2, -0.5f];
        float[] m = [5, 1, 2];
        var chw = new float[12];
        for (int k = 0; k < 3; k++) for (int p = 0; p < 4; p++) chw[k * 4 + p] = m[k] + c[k] * s[p];
        var proj = EigenCam.FirstComponentProjection(chw, 3, 4);
        double norm = Math.Sqrt(c.Sum(v => v * v));
        double meanS = s.Average();
        // Σ_k A_k = const + (Σc)·s with Σc = 2.5 > 0, so the map must be +|c|(s - mean).
        for (int p = 0; p < 4; p++) Assert.Equal(norm * (s[p] - meanS), proj[p], 4);
        // Flip every c: the activation sum now decreases with s, so the sign flips too.
        for (int k = 0; k < 3; k++) for (int p = 0; p < 4; p++) chw[k * 4 + p] = m[k] - c[k] * s[p];
        var flipped = EigenCam.FirstComponentProjection(chw, 3, 4);
        for (int p = 0; p < 4; p++) Assert.Equal(-norm * (s[p] - meanS), flipped[p], 4);
    }

    [Fact]
    public void Eigencam_on_both_png_is_the_first_principal_component_of_the_layer_computed_independently()
    {
        var model = _f.Fp32;
        var item = model.Prepare(model.LoadImage(TestPaths.SharedImage("both.png")));
        var e = Assert.Single(Explainer.Explain(model, [item], new ExplainRequest { Methods = ["eigencam"], Classes = ["auto"] }).Explanations);
        Assert.Equal("features.18", e.Layer);
        Assert.Equal((7, 7), (e.Height, e.Width));
        var a = Activation.FromTensor(model.Run([item], "features.18")["features.18"], 0, Salient.Core.TensorLayout.Nchw);
        Assert.Equal(1280, a.C);
        // Reference: Jacobi eigen-decomposition of the 49×49 Gram matrix of the centred activations.
        var (want, l1, l2) = Methods.ReferencePca.FirstComponent(a.Data, a.C, a.Plane);
        Assert.True(l1 > 1.5 * l2, $"eigengap too small for a stable component: λ1 {l1:g4}, λ2 {l2:g4}");
        var raw = Methods.ReferencePca.D(e.RawMap);
        double r = Methods.ReferencePca.Correlation(raw, want);
        Assert.True(r >= 0.999, $"correlation with the reference principal component {r:F6}");
        // The projection itself, not just its direction: Mv₁ = √λ₁·u₁.
        double range = want.Max() - want.Min();
        for (int p = 0; p < 49; p++) Assert.True(Math.Abs(raw[p] - want[p]) <= 1e-3 * range, $"position {p}: {raw[p]:g6} vs {want[p]:g6}");
        // Sign convention: positively correlated with Σ_k A^k.
        var sum = new double[a.Plane];
        for (int k = 0; k < a.C; k++) for (int p = 0; p < a.Plane; p++) sum[p] += a.Data[k * a.Plane + p];
        Assert.True(Methods.ReferencePca.Correlation(raw, sum) > 0, "Eigen-CAM must correlate positively with the activation sum");
        Assert.InRange(e.Normalized.Min(), 0f, 1e-6f);
        Assert.Equal(1f, e.Normalized.Max(), 5);
    }
}
