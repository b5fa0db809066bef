using Salient.Core;
using Salient.Methods;
using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Methods;

/// <summary>
/// NMF on a matrix with a known factorization; numpy's legacy normal draws; and Deep Feature Factorization
/// against pytorch-grad-cam's <c>dff</c> (scikit-learn's NMF) on the fixture model (<see cref="CamFamilyReference"/>).
/// </summary>
public class DeepFeatureFactorizationTests(ITestOutputHelper output)
{
    [Fact]
    public void Legacy_normal_draws_are_numpys_randomstate()
    {
        var want = CamFamilyReference.Json.GetProperty("randomstate0_standard_normal").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var rng = new LegacyNormal(0);
        foreach (var v in want) Assert.Equal(v, rng.Next(), 12);
        Assert.Equal(1.764052345967664, want[0], 12);   // the well-known first draw of RandomState(0)
    }

    /// <summary>
    /// X = W₀H₀ with an identity block in both factors (each concept owns a position and a channel) and
    /// zeros elsewhere in H₀: the non-negative factorization is then unique up to order and scale.
    /// </summary>
    private static (double[] X, double[] W0, double[] H0) Separable(int n, int m, int k)
    {
        var r = new Random(9);
        var w0 = Enumerable.Range(0, n * k).Select(i => i / k < k ? (i / k == i % k ? 1.0 : 0.0) : r.NextDouble()).ToArray();
        var h0 = new double[k * m];
        for (int t = 0; t < k; t++)
            for (int j = 0; j < m; j++) h0[t * m + j] = j < k ? (j == t ? 1 : 0) : r.NextDouble() * (r.NextDouble() < 0.5 ? 0 : 1);
        var x = new double[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) for (int t = 0; t < k; t++) x[i * m + j] += w0[i * k + t] * h0[t * m + j];
        return (x, w0, h0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Nmf_recovers_a_separable_factorization_up_to_order_and_scale(bool multiplicative)
    {
        const int n = 12, m = 20, k = 3;
        var (x, _, h0) = Separable(n, m, k);
        var (w, h) = Nmf.RandomInit(x, n, m, k, 0);
        double before = Nmf.Loss(x, w, h, n, m, k);
        if (multiplicative) Nmf.MultiplicativeUpdate(x, w, h, n, m, k, maxIterations: 5000, tol: 1e-12);
        else Nmf.CoordinateDescent(x, w, h, n, m, k, maxIterations: 2000, tol: 1e-10);
        double after = Nmf.Loss(x, w, h, n, m, k);
        output.WriteLine($"{(multiplicative ? "mu" : "cd")}: loss {before:g3} → {after:g3}");
        Assert.True(after < 1e-6 * before, $"loss {before:g3} → {after:g3}");
        Assert.True(w.All(v => v >= 0) && h.All(v => v >= 0));
        // Every true concept's row of H is matched by one recovered row (correlation ≈ 1).
        var used = new HashSet<int>();
        for (int t = 0; t < k; t++)
        {
            var truth = h0[(t * m)..((t + 1) * m)];
            var (best, r) = Enumerable.Range(0, k).Select(s => (s, CamFamilyReference.Correlation(h[(s * m)..((s + 1) * m)], truth))).MaxBy(p => p.Item2);
            Assert.True(r > 0.999, $"concept {t}: best correlation {r:F6}");
            Assert.True(used.Add(best), "two true concepts matched the same recovered one");
        }
    }

    [Fact]
    public void Multiplicative_updates_never_increase_the_loss()
    {
        const int n = 8, m = 15, k = 4;
        var r = new Random(4);
        var x = Enumerable.Range(0, n * m).Select(_ => r.NextDouble()).ToArray();
        var (w, h) = Nmf.RandomInit(x, n, m, k, 3);
        double previous = Nmf.Loss(x, w, h, n, m, k);
        for (int i = 0; i < 30; i++)
        {
            Nmf.MultiplicativeUpdate(x, w, h, n, m, k, maxIterations: 1);
            double loss = Nmf.Loss(x, w, h, n, m, k);
            Assert.True(loss <= previous * (1 + 1e-12), $"step {i}: {previous} → {loss}");
            previous = loss;
        }
    }

    [Theory]
    [InlineData(false, "maps", "concepts")]
    [InlineData(true, "mu_maps", "mu_concepts")]
    public void Concept_vectors_and_maps_match_pytorch_grad_cams_dff_and_scikit_learns_mu_solver(bool multiplicative, string mapsKey, string conceptsKey)
    {
        using var model = CamFamilyReference.Load();
        var items = CamFamilyReference.Items();
        var layerValues = model.Run(items, CamFamilyReference.Layer)[CamFamilyReference.Layer];
        foreach (var d in CamFamilyReference.Json.GetProperty("dff").EnumerateArray())
        {
            int item = d.GetProperty("item").GetInt32(), k = d.GetProperty("components").GetInt32();
            var a = GradientRuns.AsChw(layerValues.Data.AsSpan(item * 16 * 64, 16 * 64).ToArray(), layerValues.Shape, Salient.Core.TensorLayout.Nchw);
            var f = DeepFeatureFactorization.Factorize(a, k, multiplicative, seed: 0);
            var maps = d.GetProperty(mapsKey).EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
            var vectors = d.GetProperty(conceptsKey).EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
            for (int j = 0; j < k; j++)
            {
                double rm = CamFamilyReference.Correlation(f.Maps[j].Select(v => (double)v).ToArray(), maps[j]);
                double rv = CamFamilyReference.Correlation(f.Vectors[j], vectors[j]);
                output.WriteLine($"{(multiplicative ? "mu" : "cd")} item {item} concept {j}: map corr {rm:F6} (1 − corr {1 - rm:E1}), vector corr {rv:F6}");
                Assert.True(rm >= 0.999 && rv >= 0.999, $"item {item} concept {j}: map {rm:F6}, vector {rv:F6}");
            }
        }
    }

    [Fact]
    public void The_pipeline_map_is_the_reference_concept_whose_logits_favour_the_class_and_all_concepts_ride_along()
    {
        using var model = CamFamilyReference.Load();
        var ours = Salient.Explain.Explainer.Explain(model, CamFamilyReference.Items(), new Salient.Explain.ExplainRequest
        {
            Methods = ["dff"], Layers = [CamFamilyReference.Layer],
            ClassesPerItem = [["0", "3", "5", "7"], ["1", "4", "5", "9"]],
            Parameters = new Dictionary<string, string> { ["concepts"] = "4" },
        }).Explanations;
        var chosen = new HashSet<int>();
        foreach (var d in CamFamilyReference.Json.GetProperty("dff").EnumerateArray())
        {
            int item = d.GetProperty("item").GetInt32();
            var maps = d.GetProperty("maps").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
            var logits = d.GetProperty("concept_logits").EnumerateArray().Select(r => r.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
            foreach (var e in ours.Where(e => e.Item == item))
            {
                int best = Enumerable.Range(0, logits.Length).MaxBy(j => Statistics.SoftmaxPrecise(logits[j])[e.ClassIndex]);
                chosen.Add(item * 10 + best);
                double r = CamFamilyReference.Correlation(e.RawMap.Select(v => (double)v).ToArray(), maps[best]);
                output.WriteLine($"item {item} class {e.ClassIndex}: reference concept {best}, corr {r:F6}");
                Assert.True(r >= 0.999, $"item {item} class {e.ClassIndex}: correlation {r:F6} with the reference's concept {best}");
                Assert.Equal(4, e.ChannelCount);
                // Which concept the map is, and every concept's top classes: the reference's concept logits through a softmax.
                Assert.Equal(best, e.Concept);
                Assert.Equal(4, e.ConceptClasses!.Count);
                for (int j = 0; j < 4; j++)
                {
                    var p = Statistics.SoftmaxPrecise(logits[j]);
                    var expected = Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).Take(3).ToList();
                    Assert.Equal(expected, e.ConceptClasses[j].Select(c => c.ClassIndex));
                    foreach (var c in e.ConceptClasses[j]) Assert.Equal(p[c.ClassIndex], c.Probability, 1e-4);
                }
                for (int j = 0; j < 4; j++)
                    Assert.True(CamFamilyReference.Correlation(e.RawChannels![(j * 64)..((j + 1) * 64)].Select(v => (double)v).ToArray(), maps[j]) >= 0.999);
            }
        }
        Assert.True(chosen.Count >= 4, $"the classes chose only {chosen.Count} concepts: a weak test of the choice");
    }
}
