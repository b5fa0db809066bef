using Salient.Evaluation;
using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Evaluation;

/// <summary>Adebayo et al. 2018's cascading randomization: Grad-CAM depends on the weights, guided backprop hardly.</summary>
public class SanityTests(ITestOutputHelper output)
{
    [Fact]
    public void Spearman_and_ssim_on_known_maps()
    {
        var a = new float[] { 0.1f, 0.4f, 0.2f, 0.9f };
        Assert.Equal(1, Sanity.Spearman(a, [1f, 2f, 1.5f, 8f]), 9);
        Assert.Equal(-1, Sanity.Spearman(a, [0.9f, 0.6f, 0.8f, 0.1f]), 9);
        Assert.Equal(new double[] { 1.5, 1.5, 3 }, Sanity.Ranks([2f, 2f, 5f]));
        Assert.Equal(0, Sanity.Spearman(a, [0.5f, 0.5f, 0.5f, 0.5f]));
        var m = TinyMap(12, 10, 1);
        Assert.Equal(1, Sanity.Ssim(m, m, 12, 10), 9);
        Assert.True(Sanity.Ssim(m, TinyMap(12, 10, 2), 12, 10) < 0.5);
        Assert.Equal(new[] { 1, 2, 3 }, Sanity.StepCounts(3, 5));
        Assert.Equal(new[] { 3, 5 }, Sanity.StepCounts(5, 2));
    }

    private static float[] TinyMap(int h, int w, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, h * w).Select(_ => (float)r.NextDouble()).ToArray();
    }

    [Fact]
    public void Gradcam_fails_to_survive_randomization_guided_backprop_survives()
    {
        using var model = TestPaths.Load(TestPaths.Fixture("models", "mnv2_gap.onnx"));
        var item = model.Prepare(model.LoadImage(TestPaths.SharedImage("both.png")));
        var logits = model.Run([item])[model.Structure().LogitsName].Data;
        int cls = model.ResolveClass("auto", logits);
        var (steps, values) = Sanity.Run(model, item, cls, ["gradcam", "guidedbackprop"], steps: 4, seed: 1);
        foreach (var v in values) output.WriteLine($"{v.Method} step {v.Step} ({v.Randomized} layers, down to {v.LowestLayer}): spearman {v.Spearman:0.000} ssim {v.Ssim:0.000}");
        Assert.Equal(5, steps.Count);
        double R(string m, int s) => values.Single(v => v.Method == m && v.Step == s).Spearman;
        Assert.Equal(1, R("gradcam", 0));
        // Grad-CAM: its rank correlation collapses as soon as the top layers are randomized (the paper's figure 2)
        // and stays collapsed; guided backprop keeps much of its map (here ρ ≈ 0.47 after the top 14 of 53 layers).
        for (int s = 1; s <= 4; s++) Assert.True(R("gradcam", s) < 0.3, $"Grad-CAM's rank correlation after step {s} is {R("gradcam", s):0.000}");
        Assert.True(R("gradcam", 4) < R("gradcam", 0) - 0.7);
        Assert.True(R("guidedbackprop", 1) > 0.4);
        Assert.True(R("guidedbackprop", 4) > R("gradcam", 4) + 0.2, "guided backprop stays closer to its original map");
    }
}
