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
}
