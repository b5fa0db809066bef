using Salient.Autodiff;
using Salient.Explain;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Runtime;
using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Targets;

/// <summary>
/// Every target kind through the engine against finite differences: the score is computed here,
/// independently, from the model's ORT outputs at x ± εv (own softmax, cosine, mask sums…), and
/// compared with the input gradient the pipeline gives — via the shared forward pass (saliency) and
/// via the batched gradient runs (smoothgrad with one noise-free sample) — along the gradient itself
/// and along a random direction. Two images per batch, so per-row seeds are checked too.
/// </summary>
public class TargetGradientTests
{
    private static readonly PreparedInput[] Items = [TinyModels.RandomItem(101), TinyModels.RandomItem(202)];

    private static Dictionary<string, TensorValue> Outputs(SalientModel m, float[] x, params string[] names) =>
        m.Run([TinyModels.Item(x)], names);

    /// <summary>Checks every explanation's input gradient against central differences of <paramref name="score"/>(item, slot class, outputs).</summary>
    private static void Check(SalientModel m, Target target, string[] classes, string[] outputs,
        Func<int, Explanation, Dictionary<string, TensorValue>, double> score, int expectedMaps)
    {
        foreach (var (method, parameters) in new[]
        {
            ("saliency", new Dictionary<string, string>()),
            ("smoothgrad", new Dictionary<string, string> { ["samples"] = "1", ["sigma"] = "0" }),
        })
        {
            var result = Explainer.Explain(m, Items, new ExplainRequest { Methods = [method], Target = target, Classes = classes, Parameters = parameters });
            Assert.Equal(expectedMaps, result.Explanations.Count);
            foreach (var e in result.Explanations)
            {
                var x = Items[e.Item].Tensor;
                var g = e.RawChannels!;
                double gNorm = Math.Sqrt(g.Sum(v => (double)v * v));
                Assert.True(gNorm > 1e-6, $"{target} {method}: zero gradient");
                // The reported score is the target's score of the image as given.
                Assert.Equal(score(e.Item, e, Outputs(m, x, outputs)), e.Score, 4);
                var rng = new Random(7 + e.Item);
                var random = Enumerable.Range(0, x.Length).Select(_ => rng.NextDouble() - 0.5).ToArray();
                double rNorm = Math.Sqrt(random.Sum(v => v * v));
                foreach (var dir in new[] { g.Select(v => v / gNorm).ToArray(), random.Select(v => v / rNorm).ToArray() })
                {
                    const double eps = 1e-2;
                    var plus = x.Select((v, i) => (float)(v + eps * dir[i])).ToArray();
                    var minus = x.Select((v, i) => (float)(v - eps * dir[i])).ToArray();
                    double fd = (score(e.Item, e, Outputs(m, plus, outputs)) - score(e.Item, e, Outputs(m, minus, outputs))) / (2 * eps);
                    double analytic = g.Select((v, i) => v * dir[i]).Sum();
                    Assert.True(Math.Abs(fd - analytic) <= 3e-3 * gNorm + 1e-6,
                        $"{target} {method} item {e.Item} slot '{e.Label}': finite difference {fd} vs gradient {analytic} (|g| {gNorm})");
                }
            }
        }
    }

    private static double[] Softmax(float[] z)
    {
        double max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    [Fact]
    public void Logit_target_is_the_class_logit()
    {
        using var m = TinyModels.Load(TargetModels.Classifier(4, 5, sigmoid: false, seed: 1));
        Check(m, Target.Logit("2", "4"), ["auto"], ["logits"], (_, e, o) => o["logits"].Data[e.ClassIndex], 4);
    }

    [Fact]
    public void Prob_target_is_the_softmax_probability()
    {
        using var m = TinyModels.Load(TargetModels.Classifier(4, 5, sigmoid: false, seed: 2));
        Check(m, Target.Parse("prob"), ["top2"], ["logits"], (_, e, o) => Softmax(o["logits"].Data)[e.ClassIndex], 4);
    }

    [Fact]
    public void Sigmoid_target_is_the_models_sigmoid_output()
    {
        using var m = TinyModels.Load(TargetModels.Classifier(4, 5, sigmoid: true, seed: 3));
        // The score is read from the model's own Sigmoid output: our σ of its input must agree with it.
        Check(m, Target.Parse("sigmoid:1,3"), ["auto"], ["probs"], (_, e, o) => o["probs"].Data[e.ClassIndex], 4);
    }

    [Fact]
    public void Output_target_sums_an_element_or_a_slice()
    {
        using var seg = TinyModels.Load(TargetModels.Segmentation(4, 3, seed: 4));
        // channel 1, rows 2..4, every column of [N, 3, 8, 8]
        Check(seg, Target.Parse("output:seg[1,2:5]"), ["auto"], ["seg"], (_, _, o) =>
        {
            double s = 0;
            for (int y = 2; y < 5; y++) for (int x = 0; x < 8; x++) s += o["seg"].Data[1 * 64 + y * 8 + x];
            return s;
        }, 2);
        using var cls = TinyModels.Load(TargetModels.Classifier(4, 5, sigmoid: false, seed: 5));
        Check(cls, Target.Parse("output:[-1]"), ["auto"], ["logits"], (_, _, o) => o["logits"].Data[4], 2);
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    [Fact]
    public void Similarity_target_is_the_cosine_with_a_reference_embedding()
    {
        using var m = TinyModels.Load(TargetModels.Embedding(4, 6, seed: 6));
        var reference = Outputs(m, TinyModels.Random(192, 99), "embedding")["embedding"].Data;
        Check(m, Target.Similarity(reference), ["auto"], ["embedding"], (_, _, o) => Cosine(o["embedding"].Data, reference), 2);
        // The same reference from a .npy file.
        var npy = Path.Combine(Directory.CreateTempSubdirectory("salient-target").FullName, "ref.npy");
        Salient.Rendering.Npy.Write(npy, reference, reference.Length);
        Check(m, Target.Parse($"similarity:{npy}"), ["auto"], ["embedding"], (_, _, o) => Cosine(o["embedding"].Data, reference), 2);
    }

    [Fact]
    public void Concept_target_is_the_dot_product_with_the_vector()
    {
        using var m = TinyModels.Load(TargetModels.Embedding(4, 6, seed: 7));
        var v = TinyModels.Random(6, 77);
        Check(m, Target.Concept(v), ["auto"], ["embedding"], (_, _, o) => o["embedding"].Data.Select((e, i) => (double)e * v[i]).Sum(), 2);
    }

    [Fact]
    public void Segmentation_target_sums_the_class_over_the_original_argmax_mask()
    {
        using var m = TinyModels.Load(TargetModels.Segmentation(4, 3, seed: 8));
        // The mask of each image: where the class wins on the ORIGINAL output (fixed for x ± εv).
        var masks = Items.Select(it =>
        {
            var seg = Outputs(m, it.Tensor, "seg")["seg"].Data;
            return Enumerable.Range(0, 64).Select(p => Enumerable.Range(0, 3).MaxBy(c => seg[c * 64 + p])).ToArray();
        }).ToArray();
        int cls = Enumerable.Range(0, 3).First(c => masks.All(mk => mk.Contains(c)));
        Check(m, Target.Segmentation(cls.ToString()), ["auto"], ["seg"], (item, e, o) =>
        {
            Assert.Equal(cls, e.ClassIndex);
            return Enumerable.Range(0, 64).Where(p => masks[item][p] == cls).Sum(p => (double)o["seg"].Data[cls * 64 + p]);
        }, 2);
    }

    [Fact]
    public void Segmentation_target_with_a_mask_file()
    {
        using var m = TinyModels.Load(TargetModels.Segmentation(4, 3, seed: 9));
        // Left half white: the mask image is 8×8 like the input (raw preprocessing, used as is).
        var png = Path.Combine(Directory.CreateTempSubdirectory("salient-target").FullName, "mask.png");
        var pixels = new float[8 * 8 * 3];
        for (int y = 0; y < 8; y++) for (int x = 0; x < 4; x++) for (int c = 0; c < 3; c++) pixels[(y * 8 + x) * 3 + c] = 1;
        Salient.Rendering.ImageWriter.SavePng(new RgbImage(8, 8, pixels), png);
        Check(m, Target.Parse($"segmentation:2,{png}"), ["auto"], ["seg"], (_, _, o) =>
        {
            double s = 0;
            for (int y = 0; y < 8; y++) for (int x = 0; x < 4; x++) s += o["seg"].Data[2 * 64 + y * 8 + x];
            return s;
        }, 2);
    }

    [Fact]
    public void Box_target_on_a_yolo_head_is_objectness_times_the_class_score()
    {
        using var m = TinyModels.Load(TargetModels.Yolo(4, 3, seed: 10));
        const int box = 5, stride = 8;
        var best = Items.Select(it =>
        {
            var det = Outputs(m, it.Tensor, "det")["det"].Data;
            return Enumerable.Range(0, 3).MaxBy(c => det[box * stride + 4] * det[box * stride + 5 + c]);
        }).ToArray();
        Check(m, Target.Box(box.ToString()), ["auto"], ["det"], (item, e, o) =>
        {
            Assert.Equal(best[item], e.ClassIndex);
            var det = o["det"].Data;
            return (double)det[box * stride + 4] * det[box * stride + 5 + best[item]];
        }, 2);
    }

    [Fact]
    public void Box_target_on_scores_and_boxes_is_the_class_score_of_the_best_box()
    {
        using var m = TinyModels.Load(TargetModels.ScoresAndBoxes(4, 3, seed: 11));
        var best = Items.Select(it =>
        {
            var s = Outputs(m, it.Tensor, "scores")["scores"].Data;
            int i = Enumerable.Range(0, 48).MaxBy(j => s[j]);
            return (Box: i / 3, Class: i % 3);
        }).ToArray();
        Check(m, Target.Parse("box:auto"), ["auto"], ["scores"], (item, e, o) =>
        {
            Assert.Equal(best[item].Class, e.ClassIndex);
            return o["scores"].Data[best[item].Box * 3 + best[item].Class];
        }, 2);
    }

    [Theory]
    [InlineData("prob:1")]
    [InlineData("output:[3]")]
    public void Gradcam_uses_the_targets_layer_gradient(string spec)
    {
        using var m = TinyModels.Load(TargetModels.Classifier(4, 5, sigmoid: false, seed: 12));
        var target = Target.Parse(spec);
        var result = Explainer.Explain(m, Items, new ExplainRequest { Methods = ["gradcam"], Layers = ["layer"], Target = target });
        // Reference: the layer gradient of the batched gradient runs (finite-difference-checked above through the input).
        var s = m.Structure();
        var binding = target.Bind(m, s);
        var ctx = new MethodContext(m, s, s.ResolveLayer("layer"), Items, [[0], [0]], new Dictionary<string, string>(), new()) { Target = binding };
        var slots = binding.Resolve(new TargetResolution(m, s, Items, Items.Select(it => Outputs(m, it.Tensor, binding.ScoreTensor)[binding.ScoreTensor].Data).ToArray(), [["auto"], ["auto"]]));
        var runs = GradientRuns.Run(ctx, Items.Select((it, i) => new GradientRow(it.Tensor, slots[i][0])).ToList(), ["layer"], ReluMode.Standard);
        foreach (var e in result.Explanations)
        {
            var a = runs[e.Item].Forward["layer"];
            var g = runs[e.Item].Gradients["layer"];
            var want = new float[16];
            for (int k = 0; k < 4; k++)
            {
                double alpha = 0;
                for (int p = 0; p < 16; p++) alpha += g[k * 16 + p] / 16.0;
                for (int p = 0; p < 16; p++) want[p] += (float)(alpha * a[k * 16 + p]);
            }
            for (int p = 0; p < 16; p++) Assert.Equal(Math.Max(0, want[p]), e.RawMap[p], 5);
            Assert.Equal(runs[e.Item].Logit, e.Score, 5);
        }
    }
}
