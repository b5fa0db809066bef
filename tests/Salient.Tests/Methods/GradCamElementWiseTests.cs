using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Methods;

/// <summary>Grad-CAM element-wise against its closed form on a GAP → linear head.</summary>
public class GradCamElementWiseTests
{
    [Fact]
    public void Map_equals_the_rectified_products_of_the_closed_form_gradient_and_the_activation()
    {
        // y_c = Σ_k W2[c,k]·mean(A_k) + b_c, so ∂y_c/∂A_k(p) = W2[c,k] / (H·W) exactly.
        const int k = 5, classes = 3;
        var (path, w2, _) = TinyModels.ConvHead(k, classes, relu: true, skip: false, seed: 31);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(32);
        var a = m.Run([item], "layer")["layer"];
        int h = (int)a.Shape[2], w = (int)a.Shape[3], plane = h * w;
        foreach (int cls in new[] { 0, 2 })
        {
            var want = new float[plane];
            for (int c = 0; c < k; c++)
                for (int p = 0; p < plane; p++)
                    want[p] += Math.Max(0f, w2[cls * k + c] / plane * a.Data[c * plane + p]);
            var got = TinyModels.Explain(m, item, "gradcam-elementwise", [cls.ToString()]).Explanations.Single().RawMap;
            Assert.Equal(plane, got.Length);
            Assert.True(want.Any(v => v > 0), "the reference map is all zero: a weak test");
            for (int p = 0; p < plane; p++) Assert.Equal(want[p], got[p], 5);
        }
    }
}
