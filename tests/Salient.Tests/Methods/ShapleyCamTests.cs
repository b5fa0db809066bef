using Salient.Explain;
using Salient.Onnx;
using Salient.Tests.Perturbation;
using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Methods;

/// <summary>Shapley-CAM's Hessian–vector term: zero on a head linear in the layer, and what makes the reference's maps differ from Grad-CAM on a SiLU head.</summary>
public class ShapleyCamTests(ITestOutputHelper output)
{
    [Fact]
    public void On_a_head_linear_in_the_layer_the_map_is_grad_cams()
    {
        // GAP → Gemm after the layer: y is linear in A, so H·A = 0 and w_k = mean ∂y/∂A^k exactly.
        var (path, _, _) = TinyModels.ConvHead(5, 3, relu: false, skip: false, seed: 41);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(42);
        foreach (var cls in new[] { "0", "2" })
        {
            var shapley = TinyModels.Explain(m, item, "shapleycam", [cls]).Explanations.Single().RawMap;
            var gradcam = TinyModels.Explain(m, item, "gradcam", [cls]).Explanations.Single().RawMap;
            Assert.True(gradcam.Max() > 0, "Grad-CAM's map is all zero: a weak test");
            for (int p = 0; p < gradcam.Length; p++) Assert.Equal(gradcam[p], shapley[p], 1e-5f * gradcam.Max());
        }
    }

    [Fact]
    public void The_reference_maps_differ_from_grad_cam_far_more_than_ours_differ_from_them()
    {
        using var model = CamFamilyReference.Load();
        var want = CamFamilyReference.Maps("shapleycam");
        var ours = CamFamilyReference.Ours(model, "shapleycam");
        var gradcam = CamFamilyReference.Ours(model, "gradcam");
        for (int i = 0; i < want.Length; i++)
        {
            double oursOff = 1 - CamFamilyReference.Correlation(ours[i], want[i]), gradcamOff = 1 - CamFamilyReference.Correlation(gradcam[i], want[i]);
            output.WriteLine($"case {i}: 1 − corr with the reference: Shapley-CAM {oursOff:E1}, Grad-CAM {gradcamOff:E1}");
            Assert.True(gradcamOff > 1e-4, $"case {i}: Grad-CAM already matches the reference (1 − corr {gradcamOff:E1}): the Hessian term is not tested");
            Assert.True(oursOff < gradcamOff / 100, $"case {i}: Shapley-CAM {oursOff:E1} vs Grad-CAM {gradcamOff:E1}");
        }
    }

    [Fact]
    public void Relu_switches_between_the_scaled_activations_do_not_leak_into_the_hessian_term()
    {
        // layer → Conv 1×1 (bias) → Relu → GAP → Gemm: piecewise linear, so autograd's H·A is 0 and
        // Shapley-CAM is Grad-CAM. With step 0.4 many ReLUs flip between 0.6·A and 1.4·A; the masks of the
        // unperturbed pass must be the ones differentiated.
        const int k = 6, classes = 3;
        var g = new Graph { Name = "relu-head", IrVersion = 8 };
        g.Opsets[""] = 13;
        g.Inputs.Add(new ValueInfo("input", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(3), Dim.Fixed(8), Dim.Fixed(8)]));
        var w1 = TinyModels.Random(k * k, 3);
        var b1 = TinyModels.Random(k, 4, -1.5f, 1.5f);
        g.Initializers["Wc"] = Tensor.FromFloats("Wc", [k, 3, 2, 2], TinyModels.Random(k * 12, 1));
        g.Initializers["Bc"] = Tensor.FromFloats("Bc", [k], TinyModels.Random(k, 2));
        g.Initializers["W1"] = Tensor.FromFloats("W1", [k, k, 1, 1], w1);
        g.Initializers["B1"] = Tensor.FromFloats("B1", [k], b1);
        g.Initializers["W2"] = Tensor.FromFloats("W2", [classes, k], TinyModels.Random(classes * k, 5));
        g.Initializers["B2"] = Tensor.FromFloats("B2", [classes], TinyModels.Random(classes, 6));
        g.Nodes.Add(new Node("Conv", ["input", "Wc", "Bc"], ["layer"], "conv").Set("kernel_shape", new long[] { 2, 2 }).Set("strides", new long[] { 2, 2 }));
        g.Nodes.Add(new Node("Conv", ["layer", "W1", "B1"], ["z"], "conv1").Set("kernel_shape", new long[] { 1, 1 }));
        g.Nodes.Add(new Node("Relu", ["z"], ["r"], "relu"));
        g.Nodes.Add(new Node("GlobalAveragePool", ["r"], ["gap"], "gap"));
        g.Nodes.Add(new Node("Flatten", ["gap"], ["flat"], "flatten").Set("axis", 1L));
        g.Nodes.Add(new Node("Gemm", ["flat", "W2", "B2"], ["logits"], "fc").Set("transB", 1L));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(classes)]));
        var path = Path.Combine(Directory.CreateTempSubdirectory("salient-shapley").FullName, "relu-head.onnx");
        OnnxWriter.WriteFile(g, path);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(7);

        var a = m.Run([item], "layer")["layer"].Data;
        int flips = 0;
        for (int o = 0; o < k; o++)
            for (int p = 0; p < 16; p++)
            {
                double wa = 0;
                for (int c = 0; c < k; c++) wa += w1[o * k + c] * a[c * 16 + p];
                if ((0.6 * wa + b1[o] > 0) != (1.4 * wa + b1[o] > 0)) flips++;
            }
        output.WriteLine($"{flips} of {k * 16} ReLU units flip between 0.6·A and 1.4·A");
        Assert.True(flips >= 8, $"only {flips} ReLU units flip: a weak test");

        foreach (var cls in new[] { "0", "1", "2" })
        {
            var shapley = TinyModels.Explain(m, item, "shapleycam", [cls], new Dictionary<string, string> { ["step"] = "0.4" }).Explanations.Single().RawMap;
            var gradcam = TinyModels.Explain(m, item, "gradcam", [cls]).Explanations.Single().RawMap;
            float scale = Math.Max(gradcam.Max(), 1e-6f);
            for (int p = 0; p < gradcam.Length; p++) Assert.Equal(gradcam[p], shapley[p], 1e-5f * scale);
        }
    }
}
