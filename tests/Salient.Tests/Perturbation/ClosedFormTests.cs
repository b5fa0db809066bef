using Salient.Explain;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Perturbation;
using Salient.Rendering;
using Xunit;

namespace Salient.Tests.Perturbation;

/// <summary>Each method on tiny hand-built models where the answer is known in closed form.</summary>
public class ClosedFormTests
{
    private const int C = TinyModels.C, H = TinyModels.H, W = TinyModels.W, Plane = H * W;

    private static void AssertClose(float[] want, float[] got, double relTol = 1e-4, string what = "")
    {
        Assert.Equal(want.Length, got.Length);
        double scale = Math.Max(1e-6, want.Max(Math.Abs));
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= relTol * scale, $"{what}[{i}]: want {want[i]}, got {got[i]} (scale {scale})");
    }

    // ---------------- occlusion ----------------

    [Theory]
    [InlineData(1, 1, "zero")]  // every pixel alone: its own contribution Σ_ch W·x
    [InlineData(2, 2, "zero")]  // non-overlapping 2×2 patches
    [InlineData(3, 2, "mean")]  // overlapping, plus a last patch flush with the edge; mean fill
    [InlineData(2, 2, "0.25")]  // a constant fill
    public void Occlusion_on_a_linear_model_equals_the_analytic_contributions(int patch, int stride, string fill)
    {
        var (path, w, _) = TinyModels.Linear(2, seed: 11);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(12);
        var x = item.Tensor;
        var r = TinyModels.Explain(m, item, "occlusion", ["0", "1"], new() { ["patch"] = patch.ToString(), ["stride"] = stride.ToString(), ["fill"] = fill });
        Assert.Equal(2, r.Explanations.Count);
        var fillValue = new float[C];
        for (int ch = 0; ch < C; ch++)
            fillValue[ch] = fill == "mean" ? (float)x.Skip(ch * Plane).Take(Plane).Average() : fill == "zero" ? 0f : float.Parse(fill, System.Globalization.CultureInfo.InvariantCulture);
        // Patch origins written out by hand for 8 pixels.
        int[] origins = (patch, stride) switch { (1, 1) => [0, 1, 2, 3, 4, 5, 6, 7], (2, 2) => [0, 2, 4, 6], (3, 2) => [0, 2, 4, 5], _ => throw new InvalidOperationException() };
        foreach (var e in r.Explanations)
        {
            int c = e.ClassIndex;
            Assert.Equal((H, W), (e.Height, e.Width));
            Assert.Equal("input", e.Layer);
            var sum = new double[Plane];
            var count = new int[Plane];
            foreach (int y0 in origins)
                foreach (int x0 in origins)
                {
                    // Linear model: the logit drop is Σ over the patch of W_c,i·(x_i − fill).
                    double drop = 0;
                    for (int ch = 0; ch < C; ch++)
                        for (int y = y0; y < y0 + patch; y++)
                            for (int xx = x0; xx < x0 + patch; xx++)
                            {
                                int i = ch * Plane + y * W + xx;
                                drop += w[c * C * Plane + i] * (x[i] - fillValue[ch]);
                            }
                    for (int y = y0; y < y0 + patch; y++)
                        for (int xx = x0; xx < x0 + patch; xx++) { sum[y * W + xx] += drop; count[y * W + xx]++; }
                }
            var want = sum.Select((s, i) => (float)(s / count[i])).ToArray();
            AssertClose(want, e.RawMap, 1e-4, $"class {c}");
        }
    }

    [Fact]
    public void Occlusion_positions_cover_every_pixel()
    {
        Assert.Equal(new[] { 0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192 }, Occlusion.Positions(224, 32, 16));
        Assert.Equal(new[] { 0, 100, 124 }, Occlusion.Positions(224, 100, 100));
        Assert.Equal(new[] { 0 }, Occlusion.Positions(8, 8, 3));
        Assert.Equal(32, Occlusion.DefaultPatch(224, 224));
    }

    // ---------------- Ablation-CAM ----------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the head also reads a skip connection computed before the layer
    public void Ablationcam_weights_equal_the_analytic_logit_drops(bool skip)
    {
        const int k = 5;
        var (path, w2, _) = TinyModels.ConvHead(k, 3, relu: true, skip: skip, seed: 21);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(22);
        var r = TinyModels.Explain(m, item, "ablationcam", ["0", "2"]);
        var fwd = m.Run([item], "layer");
        var a = fwd["layer"].Data; // [1,k,4,4]
        int plane = 16;
        foreach (var e in r.Explanations)
        {
            int c = e.ClassIndex;
            float y = fwd["logits"].Data[c];
            // Zeroing channel j removes exactly W2[c,j]·mean(A_j) from the logit.
            var wk = new double[k];
            for (int j = 0; j < k; j++) wk[j] = w2[c * k + j] * a.Skip(j * plane).Take(plane).Average() / y;
            var want = new float[plane];
            for (int p = 0; p < plane; p++)
            {
                double s = 0;
                for (int j = 0; j < k; j++) s += wk[j] * a[j * plane + p];
                want[p] = (float)Math.Max(0, s);
            }
            Assert.Equal((4, 4), (e.Height, e.Width));
            AssertClose(want, e.RawMap, 1e-4, $"class {c}");
        }
    }

    [Fact]
    public void The_graph_cut_feeds_skip_connections_from_the_forward_run()
    {
        var (path, _, _) = TinyModels.ConvHead(4, 2, relu: true, skip: true, seed: 31);
        using var m = TinyModels.Load(path);
        var s = m.Structure();
        var cut = GraphCut.After(m.Graph, s.Shapes, "layer", s.LogitsName, 1);
        Assert.Equal(new[] { "skip" }, cut.ExtraInputs);
        Assert.Contains("skip", cut.PerRowExtras);
        Assert.Equal(new[] { "Add", "GlobalAveragePool", "Flatten", "Gemm" }, cut.Head.Nodes.Select(n => n.OpType));
        Assert.Equal(new[] { "layer", "skip" }, cut.Head.Inputs.Select(i => i.Name));
        Assert.DoesNotContain(cut.Head.Initializers.Keys, n => n is "Wc" or "Ws"); // the prefix's weights are not carried
        var e = Assert.Throws<SalientException>(() => GraphCut.After(m.Graph, s.Shapes, "skip", "conv", 1));
        Assert.Contains("does not depend", e.Message);
    }

    // ---------------- Score-CAM ----------------

    [Theory]
    [InlineData("default")]
    [InlineData("paper")]
    public void Scorecam_on_a_one_channel_layer_is_that_channel_normalized(string variant)
    {
        // One channel: the default weight is softmax over one channel = 1 whatever the score, so the
        // map is ReLU(A) = A (after the Relu); for the paper variant the weight is one number, which
        // normalization divides out when it is positive.
        var (path, _, _) = TinyModels.ConvHead(1, 2, relu: true, skip: false, seed: 41);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(42);
        var a = m.Run([item], "layer")["layer"].Data;
        float max = a.Max();
        Assert.True(max > 0 && a.Min() < max, "the test needs a non-constant, positive channel");
        int cls = variant == "paper" ? PaperPositiveClass(m, item, a) : 1;
        var e = Assert.Single(TinyModels.Explain(m, item, "scorecam", [cls.ToString()], new() { ["variant"] = variant }).Explanations);
        AssertClose(a.Select(v => v / max).ToArray(), e.Normalized, 1e-5);
    }

    // The class whose probability rises when the input is masked by the channel (so the paper weight is positive).
    private static int PaperPositiveClass(SalientModel m, PreparedInput item, float[] a)
    {
        var masked = Mask(item, MapMath.NormalizeMinMax(MapMath.ResizeBilinear(a, 4, 4, H, W)));
        var pm = Statistics.Softmax(m.Run([masked])["logits"].Data);
        var p0 = Statistics.Softmax(m.Run([TinyModels.Item(new float[C * Plane])])["logits"].Data);
        return pm[0] - p0[0] > 0 ? 0 : 1;
    }

    private static PreparedInput Mask(PreparedInput item, float[] mask)
    {
        var t = new float[item.Tensor.Length];
        for (int ch = 0; ch < C; ch++)
            for (int p = 0; p < Plane; p++) t[ch * Plane + p] = item.Tensor[ch * Plane + p] * mask[p];
        return TinyModels.Item(t);
    }

    [Theory]
    [InlineData("default")]
    [InlineData("paper")]
    public void Scorecam_weights_follow_the_masked_scores(string variant)
    {
        const int k = 4;
        var (path, _, _) = TinyModels.ConvHead(k, 3, relu: true, skip: false, seed: 51);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(52, 0, 1);
        var a = m.Run([item], "layer")["layer"].Data;
        // Masks from the reference resize/normalize of the renderer, scores from plain model runs.
        var masked = Enumerable.Range(0, k).Select(j => Mask(item, MapMath.NormalizeMinMax(MapMath.ResizeBilinear(a.Skip(j * 16).Take(16).ToArray(), 4, 4, H, W)))).ToList();
        var logits = m.Run(masked)["logits"].Data;
        var constant = Enumerable.Range(0, k).Select(j => a.Skip(j * 16).Take(16).Distinct().Count() == 1).ToArray();
        Assert.Contains(false, constant);
        var baseline = Statistics.Softmax(m.Run([TinyModels.Item(new float[C * Plane])])["logits"].Data);
        var r = TinyModels.Explain(m, item, "scorecam", ["0", "1", "2"], new() { ["variant"] = variant });
        foreach (var e in r.Explanations)
        {
            int c = e.ClassIndex;
            var wk = new double[k];
            if (variant == "default")
            {
                // Softmax over the channels that carry a spatial pattern: a constant channel (here an
                // all-zero one after the Relu) is not scored and weighs 0 (it would only add a uniform term).
                var s = Enumerable.Range(0, k).Select(j => constant[j] ? 0 : Math.Exp(logits[j * 3 + c])).ToArray();
                for (int j = 0; j < k; j++) wk[j] = s[j] / s.Sum();
            }
            else
                for (int j = 0; j < k; j++) wk[j] = Statistics.Softmax(logits.AsSpan(j * 3, 3))[c] - baseline[c];
            var want = new float[16];
            for (int p = 0; p < 16; p++)
            {
                double v = 0;
                for (int j = 0; j < k; j++) v += wk[j] * a[j * 16 + p];
                want[p] = (float)Math.Max(0, v);
            }
            AssertClose(want, e.RawMap, 1e-4, $"{variant} class {c}");
        }
    }

    [Fact]
    public void Scorecam_top_channels_keeps_the_largest_mean_activations()
    {
        // Channel means 1, 5, 3, 4 and a constant channel 9 (skipped: it has no spatial information).
        var data = new float[5 * 4];
        float[] means = [1, 5, 3, 4];
        for (int k = 0; k < 4; k++) { data[k * 4] = means[k] - 1; data[k * 4 + 1] = means[k] + 1; data[k * 4 + 2] = means[k]; data[k * 4 + 3] = means[k]; }
        for (int p = 0; p < 4; p++) data[16 + p] = 9;
        var act = new Activation(data, 5, 2, 2);
        Assert.Equal(new[] { 0, 1, 2, 3 }, ScoreCam.SelectChannels(act, null));
        Assert.Equal(new[] { 1, 3 }, ScoreCam.SelectChannels(act, 3)); // top 3 = 9 (constant, dropped), 5, 4
    }

    // ---------------- RISE ----------------

    [Fact]
    public void Rise_is_deterministic_per_seed()
    {
        var (path, _, _) = TinyModels.ConvHead(3, 2, relu: true, skip: false, seed: 61);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(62);
        float[] Map(int seed) => TinyModels.Explain(m, item, "rise", ["1"], new() { ["masks"] = "200", ["cell"] = "3", ["seed"] = seed.ToString() }).Explanations[0].RawMap;
        var a = Map(5);
        Assert.Equal(a, Map(5));
        Assert.NotEqual(a, Map(6));
        var masks = new RiseMasks(10, 8, 8, 3, 0.5, 7);
        var m1 = new float[64];
        var m2 = new float[64];
        var scratch = new float[masks.ScratchLength];
        new RiseMasks(10, 8, 8, 3, 0.5, 7).Write(9, m1, scratch);
        masks.Write(9, m2, scratch);
        Assert.Equal(m1, m2);
        Assert.All(m1, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void Rise_finds_the_only_region_a_linear_model_reads()
    {
        // The logit reads only the top-left 4×4 block (all channels, positive weights, positive input).
        var w = new float[C * Plane];
        for (int ch = 0; ch < C; ch++) for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) w[ch * Plane + y * W + x] = 1;
        var (path, _, _) = TinyModels.Linear(1, 71, w);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(72, 0.5f, 1);
        var e = TinyModels.Explain(m, item, "rise", ["0"], new() { ["masks"] = "400", ["cell"] = "2" }).Explanations[0];
        double inside = 0, outside = 0;
        for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) { if (y < 4 && x < 4) inside += e.RawMap[y * W + x]; else outside += e.RawMap[y * W + x]; }
        Assert.True(inside / 16 > 3 * Math.Abs(outside / 48), $"inside mean {inside / 16}, outside mean {outside / 48}");
    }

    // ---------------- every method: batching does not change results ----------------

    [Theory]
    [InlineData("scorecam")]
    [InlineData("ablationcam")]
    [InlineData("occlusion")]
    [InlineData("rise")]
    public void Batch_size_does_not_change_the_map(string method)
    {
        var (path, _, _) = TinyModels.ConvHead(6, 3, relu: true, skip: true, seed: 81);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(82);
        var extra = method switch
        {
            "rise" => new Dictionary<string, string> { ["masks"] = "50" },
            "occlusion" => new() { ["patch"] = "3", ["stride"] = "1" },
            _ => new(),
        };
        float[] Map(string batch) => TinyModels.Explain(m, item, method, ["2"], new(extra) { ["batch-size"] = batch }).Explanations[0].RawMap;
        var one = Map("1");
        AssertClose(one, Map("4"), 1e-5, $"{method} batch 4");
        AssertClose(one, Map("1000"), 1e-5, $"{method} batch 1000");
    }

    [Fact]
    public void Pipelined_and_serial_runs_agree()
    {
        var (path, _, _) = TinyModels.Linear(2, 91);
        using var m = TinyModels.Load(path);
        var session = m.Session(["logits"]);
        void Fill(int start, int count, Span<float> dst)
        {
            for (int r = 0; r < count; r++) dst.Slice(r * 192, 192).Fill(start + r);
        }
        var input = new BatchInput("input", [3, 8, 8], Fill);
        var piped = new BatchRunner(session, [input], "logits", 3).Run(10, out int per);
        var serial = new BatchRunner(session, [input], "logits", 7) { Pipelined = false }.Run(10);
        Assert.Equal(2, per);
        Assert.Equal(20, piped.Length);
        AssertClose(piped, serial, 1e-6);
    }

    // ---------------- building blocks ----------------

    [Theory]
    [InlineData(7, 7, 224, 224)]
    [InlineData(4, 4, 8, 8)]
    [InlineData(3, 5, 10, 13)]
    [InlineData(5, 5, 5, 5)]
    public void The_mask_upsampler_matches_the_renderers_bilinear_resize_bit_for_bit(int sh, int sw, int dh, int dw)
    {
        var src = TinyModels.Random(sh * sw, sh * 100 + dw);
        var up = new BilinearUpsampler(sh, sw, dh, dw);
        var dst = new float[dh * dw];
        var (min, max) = up.Resize(src, dst, new float[up.ScratchLength]);
        var want = MapMath.ResizeBilinear(src, sh, sw, dh, dw);
        Assert.Equal(want, dst);
        Assert.Equal(want.Min(), min);
        Assert.Equal(want.Max(), max);
    }

    [Fact]
    public void Aug_smooth_undoes_each_augmentation()
    {
        // A smooth blob off the centre, "explained" by a perfectly equivariant method: the map of an
        // augmented input is the augmented map. Merging must give the blob back.
        const int n = 48;
        var blob = new float[n * n];
        for (int y = 0; y < n; y++) for (int x = 0; x < n; x++) blob[y * n + x] = (float)Math.Exp(-((y - 18.0) * (y - 18.0) + (x - 30.0) * (x - 30.0)) / 60.0);
        var item = new PreparedInput(blob, n, n, 1, TensorLayout.Nchw, CropGeometry.Whole(n, n), new RgbImage(n, n, new float[n * n * 3]));
        var augmented = AugSmooth.AugmentItems([item]);
        Assert.Equal(6, augmented.Count);
        var maps = augmented.Select((a, i) => new RawMap(i, 0, a.Tensor, n, n)).ToList();
        var merged = Assert.Single(AugSmooth.Merge(maps, [item]));
        double worst = 0;
        for (int i = 0; i < blob.Length; i++) worst = Math.Max(worst, Math.Abs(merged.Map[i] - blob[i]));
        Assert.True(worst < 0.03, $"max error {worst}");
        // A flip is its own inverse, exactly.
        var flip = new Augmentation(true, 1.0);
        Assert.Equal(blob, flip.Apply(flip.Apply(blob, 1, n, n, TensorLayout.Nchw), 1, n, n, TensorLayout.Nchw));
    }

    [Fact]
    public void Bad_parameters_fail_with_the_parameter_name()
    {
        SalientException Check(string method, string name, string value) => Assert.ThrowsAny<SalientException>(() =>
            ParameterCheck.Validate([MethodRegistry.Get(method)], new Dictionary<string, string> { [name] = value }));
        var e = Check("occlusion", "patch", "-3");
        Assert.Contains("patch='-3'", e.Message);
        Assert.Contains("integer ≥ 1", e.Message);
        e = Check("scorecam", "variant", "fast");
        Assert.Contains("default, paper", e.Message);
        e = Check("rise", "p", "1.5");
        Assert.Contains("p='1.5'", e.Message);
        Assert.Contains("(0, 1]", e.Message);
        e = Check("occlusion", "fill", "gray");
        Assert.Contains("mean, zero", e.Message);
    }
}
