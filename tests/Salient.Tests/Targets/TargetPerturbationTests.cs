using Salient.Explain;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Targets;

/// <summary>
/// Perturbation methods score their generated inputs with the target: occlusion and Score-CAM with
/// non-logit targets against hand computations (the model run on the perturbed inputs here, the score
/// computed here), and every registered method with a non-class target (on an embedding model) and
/// nonlinear class targets (prob; sigmoid on a multi-label model) runs and gives a finite, non-constant map.
/// </summary>
public class TargetPerturbationTests
{
    private const int Plane = TinyModels.H * TinyModels.W;

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    [Fact]
    public void Occlusion_with_the_prob_target_is_the_probability_drop_per_patch()
    {
        using var m = TinyModels.Load(TargetModels.Classifier(4, 5, sigmoid: false, seed: 21));
        var item = TinyModels.RandomItem(22);
        var r = Explainer.Explain(m, [item], new ExplainRequest
        {
            Methods = ["occlusion"], Target = Target.Probability("3"),
            Parameters = new Dictionary<string, string> { ["patch"] = "4", ["stride"] = "4", ["fill"] = "zero" },
        });
        var e = Assert.Single(r.Explanations);
        double P(float[] x) => Statistics.Softmax(m.Run([TinyModels.Item(x)])["logits"].Data)[3];
        double p0 = P(item.Tensor);
        Assert.Equal(p0, e.Score, 5);
        foreach (var (y0, x0) in new[] { (0, 0), (0, 4), (4, 0), (4, 4) })
        {
            var t = (float[])item.Tensor.Clone();
            for (int c = 0; c < 3; c++) for (int y = y0; y < y0 + 4; y++) for (int x = x0; x < x0 + 4; x++) t[c * Plane + y * 8 + x] = 0;
            double drop = p0 - P(t);
            for (int y = y0; y < y0 + 4; y++) for (int x = x0; x < x0 + 4; x++)
                Assert.Equal(drop, e.RawMap[y * 8 + x], 5);
        }
    }

    [Fact]
    public void Scorecam_with_the_similarity_target_weights_channels_by_the_masked_similarity()
    {
        const int k = 4;
        using var m = TinyModels.Load(TargetModels.Embedding(k, 6, seed: 23));
        var item = TinyModels.RandomItem(24, 0, 1);
        var reference = m.Run([TinyModels.RandomItem(25, 0, 1)], "embedding")["embedding"].Data;
        var r = Explainer.Explain(m, [item], new ExplainRequest { Methods = ["scorecam"], Layers = ["layer"], Target = Target.Similarity(reference) });
        var e = Assert.Single(r.Explanations);
        Assert.Equal(-1, e.ClassIndex);
        Assert.True(float.IsNaN(e.Logit));
        var a = m.Run([item], "layer")["layer"].Data;
        var s = new double[k];
        for (int j = 0; j < k; j++)
        {
            var mask = MapMath.NormalizeMinMax(MapMath.ResizeBilinear(a.AsSpan(j * 16, 16).ToArray(), 4, 4, 8, 8));
            var t = new float[item.Tensor.Length];
            for (int c = 0; c < 3; c++) for (int p = 0; p < Plane; p++) t[c * Plane + p] = item.Tensor[c * Plane + p] * mask[p];
            s[j] = Math.Exp(Cosine(m.Run([TinyModels.Item(t)], "embedding")["embedding"].Data, reference));
        }
        var want = new float[16];
        for (int p = 0; p < 16; p++)
            want[p] = (float)Math.Max(0, Enumerable.Range(0, k).Sum(j => s[j] / s.Sum() * a[j * 16 + p]));
        for (int p = 0; p < 16; p++) Assert.Equal(want[p], e.RawMap[p], 5);
    }

    private static Dictionary<string, string> Cheap(IExplanationMethod method)
    {
        var cheap = new Dictionary<string, string> { ["masks"] = "64", ["cell"] = "4", ["samples"] = "2", ["steps"] = "4", ["patch"] = "4", ["stride"] = "4" };
        return MethodRegistry.ParametersOf(method).Where(p => cheap.ContainsKey(p.Name)).ToDictionary(p => p.Name, p => cheap[p.Name]);
    }

    public static TheoryData<string> MethodNames() => [.. MethodRegistry.All.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(MethodNames))]
    public void Every_method_explains_a_similarity_a_prob_and_a_sigmoid_target(string name)
    {
        var method = MethodRegistry.Get(name);
        var items = new[] { TinyModels.RandomItem(31, 0, 1), TinyModels.RandomItem(32, 0, 1) };
        using var emb = TinyModels.Load(TargetModels.Embedding(4, 6, seed: 33));
        using var cls = TinyModels.Load(TargetModels.Classifier(4, 5, sigmoid: false, seed: 34));
        using var multi = TinyModels.Load(TargetModels.Classifier(4, 5, sigmoid: true, seed: 36));
        var reference = emb.Run([TinyModels.RandomItem(35, 0, 1)], "embedding")["embedding"].Data;
        // (sigmoid reads the input of the multi-label model's Sigmoid, not its output: Ablation-CAM cuts up to that tensor)
        foreach (var (model, target) in new[] { (emb, Target.Similarity(reference)), (cls, Target.Parse("prob:top2")), (multi, Target.Parse("sigmoid:1,3")) })
        {
            var request = new ExplainRequest { Methods = [name], Layers = ["layer"], Target = target, Parameters = Cheap(method) };
            if (name is "cam" or "finercam")
            {
                var error = Assert.Throws<SalientException>(() => Explainer.Explain(model, items, request));
                Assert.Contains("class logits only", error.Message);
                continue;
            }
            if (name == "rollout")
            {
                // Attention rollout reads attention probabilities, not a score: no target changes it, and these models have no attention.
                var error = Assert.Throws<SalientException>(() => Explainer.Explain(model, items, request));
                Assert.Contains("needs a vision transformer", error.Message);
                continue;
            }
            var r = Explainer.Explain(model, items, request);
            Assert.Equal(ReferenceEquals(model, emb) ? 2 : 4, r.Explanations.Count);
            foreach (var e in r.Explanations)
            {
                Assert.All(e.RawMap, v => Assert.True(float.IsFinite(v)));
                Assert.True(e.RawMap.Max() > e.RawMap.Min() || (method.Normalization == MapNormalization.Max || method.Composes.Count > 0) && e.RawMap.All(v => v == 0),
                    $"{name} {target}: constant map");
                Assert.Equal(target!.ToString(), e.Target);
            }
        }
    }
}
