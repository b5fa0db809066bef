using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Methods;

/// <summary>
/// FEM, KPCA-CAM, Finer-CAM, Shapley-CAM and FullGrad against pytorch-grad-cam's own maps on the same
/// ONNX-exported model and inputs (<see cref="CamFamilyReference"/>): correlation ≥ 0.999 per
/// (item, class) on the low-resolution maps (the layer's grid; FullGrad's is the input's), before any
/// upsampling or display normalization.
/// </summary>
public class CamFamilyReferenceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("fem", "fem", "")]
    [InlineData("fem", "fem-k1", "k=1")]
    [InlineData("kpcacam", "kpcacam", "")]
    [InlineData("kpcacam", "kpcacam-rbf", "kernel=rbf")]
    [InlineData("finercam", "finercam", "")]
    [InlineData("fullgrad", "fullgrad", "")]
    [InlineData("shapleycam", "shapleycam", "")]
    public void Maps_match_pytorch_grad_cam(string method, string key, string parameters)
    {
        using var model = CamFamilyReference.Load();
        var p = parameters.Length == 0 ? new Dictionary<string, string>()
            : parameters.Split(',').Select(s => s.Split('=')).ToDictionary(s => s[0], s => s[1]);
        var ours = CamFamilyReference.Ours(model, method, p, layer: method != "fullgrad");
        var want = CamFamilyReference.Maps(key);
        Assert.Equal(want.Length, ours.Length);
        for (int i = 0; i < want.Length; i++)
        {
            Assert.Equal(want[i].Length, ours[i].Length);
            Assert.True(want[i].Max() > want[i].Min(), $"{key} case {i}: the reference map is constant — a weak test");
            double r = CamFamilyReference.Correlation(ours[i], want[i]);
            output.WriteLine($"{key} case {i} ({CamFamilyReference.Cases[i]}): corr {r:F6} (1 − corr = {1 - r:E1})");
            Assert.True(r >= 0.999, $"{key} case {i}: correlation {r:F6} with pytorch-grad-cam");
        }
    }
}
