using Salient.Explain;
using Salient.Methods;
using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Methods;

/// <summary>
/// Eigen-Grad-CAM against a closed form: on <see cref="TinyModels.ConvHead"/> the head after "layer"
/// is GAP → Gemm, so ∂y_c/∂A_k(i,j) = W2[c,k] / (H·W) at every position (the skip branch adds to the
/// pooled sum but does not depend on "layer"). The first principal component of G ⊙ A is computed
/// by <see cref="ReferencePca"/> (Jacobi on the Gram matrix), independently of Salient.
/// </summary>
public class EigenGradCamTests
{
    [Fact]
    public void Jacobi_reference_finds_known_eigenpairs()
    {
        // [[2,1,0],[1,2,0],[0,0,5]]: eigenvalues 5, 3, 1; eigenvector of 3 is (1,1,0)/√2.
        var (values, vectors) = ReferencePca.Jacobi(new double[,] { { 2, 1, 0 }, { 1, 2, 0 }, { 0, 0, 5 } });
        var order = Enumerable.Range(0, 3).OrderByDescending(i => values[i]).ToArray();
        Assert.Equal(5, values[order[0]], 10);
        Assert.Equal(3, values[order[1]], 10);
        Assert.Equal(1, values[order[2]], 10);
        Assert.Equal(1 / Math.Sqrt(2), Math.Abs(vectors[0, order[1]]), 10);
        Assert.Equal(vectors[0, order[1]], vectors[1, order[1]], 10);
        Assert.Equal(0, vectors[2, order[1]], 10);
        // A rank-one centred matrix: the scores are ±|c|·(s − mean s), with the sign of Σc.
        float[] s = [3, -1, 0, 2];
        float[] c = [1, 2, -0.5f];
        var chw = new float[12];
        for (int k = 0; k < 3; k++) for (int p = 0; p < 4; p++) chw[k * 4 + p] = 7 + c[k] * s[p];
        var (scores, _, l2) = ReferencePca.FirstComponent(chw, 3, 4);
        double norm = Math.Sqrt(c.Sum(v => v * v));
        for (int p = 0; p < 4; p++) Assert.Equal(norm * (s[p] - s.Average()), scores[p], 5);
        Assert.Equal(0, l2, 5);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Eigengradcam_is_the_first_principal_component_of_the_closed_form_gradient_times_activation(bool relu, bool skip)
    {
        const int k = 6, classes = 4;
        var (path, w2, _) = TinyModels.ConvHead(k, classes, relu, skip, seed: 21);
        using var m = TinyModels.Load(path);
        var items = new[] { TinyModels.RandomItem(5), TinyModels.RandomItem(6) };
        int[] cls = [1, 3];
        var result = Explainer.Explain(m, items, new ExplainRequest { Methods = ["eigengradcam"], Layers = ["layer"], Classes = cls.Select(c => c.ToString()).ToArray() });
        Assert.Equal(4, result.Explanations.Count);
        var layer = m.Run(items, "layer")["layer"];
        Assert.Equal(new long[] { 2, k, 4, 4 }, layer.Shape);
        const int plane = 16;
        foreach (var e in result.Explanations)
        {
            Assert.Equal((4, 4), (e.Height, e.Width));
            var ga = new float[k * plane];
            for (int ch = 0; ch < k; ch++)
                for (int p = 0; p < plane; p++)
                    ga[ch * plane + p] = w2[e.ClassIndex * k + ch] / plane * layer.Data[(e.Item * k + ch) * plane + p];
            var (want, l1, l2) = ReferencePca.FirstComponent(ga, k, plane);
            Assert.True(l1 > 1.2 * l2, $"item {e.Item} class {e.ClassIndex}: eigengap too small (λ1 {l1:g4}, λ2 {l2:g4})");
            var raw = ReferencePca.D(e.RawMap);
            double r = ReferencePca.Correlation(raw, want);
            Assert.True(r >= 0.999, $"item {e.Item} class {e.ClassIndex}: correlation {r:F6}");
            double range = want.Max() - want.Min();
            for (int p = 0; p < plane; p++) Assert.True(Math.Abs(raw[p] - want[p]) <= 1e-3 * range, $"item {e.Item} class {e.ClassIndex} position {p}: {raw[p]:g6} vs {want[p]:g6}");
            // Sign: positively correlated with Σ_k G^k ⊙ A^k.
            var sum = new double[plane];
            for (int ch = 0; ch < k; ch++) for (int p = 0; p < plane; p++) sum[p] += ga[ch * plane + p];
            Assert.True(ReferencePca.Correlation(raw, sum) > 0, $"item {e.Item} class {e.ClassIndex}: not positively correlated with Σ G⊙A");
        }
        // Class-discriminative: the two classes weight the channels differently, so their maps differ.
        var item0 = result.Explanations.Where(e => e.Item == 0).ToList();
        Assert.True(ReferencePca.Correlation(ReferencePca.D(item0[0].RawMap), ReferencePca.D(item0[1].RawMap)) < 0.999);
    }
}
