using Salient.Imaging;
using Salient.Rendering;
using Salient.Visualization;
using Xunit;

namespace Salient.Tests.Visualization;

/// <summary>The regularizers, penalties and image parameterizations on hand-made cases.</summary>
public class RegularizerTests
{
    [Fact]
    public void Gaussian_kernel_is_normalized_and_symmetric_with_radius_three_sigma()
    {
        var k = Blur.GaussianKernel(1f);
        Assert.Equal(7, k.Length); // radius ⌈3σ⌉ = 3
        Assert.Equal(1.0, k.Sum(), 5);
        for (int i = 0; i < 3; i++) Assert.Equal(k[i], k[6 - i]);
        // Unnormalized weights e^(−i²/2): 1, 0.606531, 0.135335, 0.011109; sum over −3…3 = 2.505950.
        Assert.Equal(1 / 2.505950, k[3], 5);
        Assert.Equal(0.606531 / 2.505950, k[2], 5);
        Assert.Equal(0.011109 / 2.505950, k[0], 5);
        Assert.Equal([1f], Blur.GaussianKernel(0f));
    }

    [Fact]
    public void Gaussian_kernel_of_half_sigma_has_radius_two()
    {
        var k = Blur.GaussianKernel(0.5f);
        Assert.Equal(5, k.Length);
        Assert.True(k[2] > 0.78 && k[2] < 0.80); // e^0 / (1 + 2e^−2 + 2e^−8) = 0.7870
        Assert.Equal(0.7870, k[2], 3);
    }

    [Fact]
    public void Gaussian_blur_of_an_impulse_gives_the_separable_kernel_and_a_constant_stays_constant()
    {
        int h = 9, w = 9;
        var img = new float[h * w];
        img[4 * w + 4] = 1f;
        Blur.Gaussian(img, h, w, 1f);
        var k = Blur.GaussianKernel(1f);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int dy = y - 4 + 3, dx = x - 4 + 3;
                float expected = dy is >= 0 and < 7 && dx is >= 0 and < 7 ? k[dy] * k[dx] : 0f;
                Assert.Equal(expected, img[y * w + x], 6);
            }
        var flat = Enumerable.Repeat(3.5f, 2 * 5 * 4).ToArray(); // two planes, mirrored borders
        Blur.Gaussian(flat, 5, 4, 1.3f);
        Assert.All(flat, v => Assert.Equal(3.5f, v, 5));
    }

    [Fact]
    public void Gaussian_blur_mirrors_at_the_border()
    {
        // A 1×3 row [0, 0, 3] blurred horizontally with σ = 0.5 (taps at ±1, ±2, mirror … c b a | a b c | c b a …).
        var k = Blur.GaussianKernel(0.5f);
        var row = new float[] { 0, 0, 3 };
        Blur.Gaussian(row, 1, 3, 0.5f);
        // Last pixel: neighbours right of it mirror back onto itself (index 3 → 2, 4 → 1).
        float expectedLast = 3 * (k[2] + k[3]);
        Assert.Equal(expectedLast, row[2], 5);
        Assert.Equal(3 * (k[3] + k[4]), row[1], 5);
        Assert.Equal(3 * k[4], row[0], 5);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(25, 1.75)]
    [InlineData(50, 2.5)]
    [InlineData(90, 3.7)]
    [InlineData(100, 4.0)]
    public void Percentile_InterpolatesLinearlyLikeNumpy(double pct, double expected)
    {
        Assert.Equal(expected, Statistics.Percentile(new float[] { 4, 1, 3, 2 }, pct), 5);
    }

    [Fact]
    public void Percentile_OnManyValuesMatchesSorting()
    {
        var rng = new Random(3);
        var v = Enumerable.Range(0, 1001).Select(_ => (float)rng.NextDouble()).ToArray();
        var sorted = v.OrderBy(x => x).ToArray();
        Assert.Equal(sorted[500], Statistics.Percentile(v, 50));
        Assert.Equal(sorted[900], Statistics.Percentile(v, 90));
        Assert.Equal(sorted[0], Statistics.Percentile(v, 0));
        Assert.Equal(0.5f * (sorted[2] + sorted[3]), Statistics.Percentile(v, 0.25), 6);
    }

    [Fact]
    public void Clip_small_norm_clears_pixels_below_the_percentile_of_norms()
    {
        // 2 channels, 1×4 pixels; norms 5, 1, 0, 2.
        var x = new float[] { 3, 1, 0, 2, /* second channel */ 4, 0, 0, 0 };
        int cleared = Regularizers.ClipSmallNorm(x, 2, 1, 4, 50); // median of {0,1,2,5} = 1.5
        Assert.Equal(2, cleared);
        Assert.Equal(new float[] { 3, 0, 0, 2, 4, 0, 0, 0 }, x);
        var y = new float[] { 3, 1, 0, 2, 4, 0, 0, 0 };
        Assert.Equal(0, Regularizers.ClipSmallNorm(y, 2, 1, 4, 0));
    }

    [Fact]
    public void Clip_small_contribution_uses_the_absolute_sum_over_channels_of_x_times_gradient()
    {
        // 2 channels, 1×3 pixels. Contributions |Σ_c x·g|: pixel0 |1·1 + 1·(−1)| = 0, pixel1 |2·2| = 4, pixel2 |−3·1 + 0| = 3.
        var x = new float[] { 1, 2, -3, 1, 0, 0 };
        var g = new float[] { 1, 2, 1, -1, 0, 5 };
        int cleared = Regularizers.ClipSmallContribution(x, g, 2, 1, 3, 50); // median 3: only pixel0 (0 < 3)
        Assert.Equal(1, cleared);
        Assert.Equal(new float[] { 0, 2, -3, 0, 0, 0 }, x);
        x = [1, 2, -3, 1, 0, 0];
        Regularizers.ClipSmallContribution(x, g, 2, 1, 3, 90); // 90th pct = 3.8: pixels 0 and 2
        Assert.Equal(new float[] { 0, 2, 0, 0, 0, 0 }, x);
    }

    [Fact]
    public void Decay_ShrinksTowardsZero()
    {
        var x = new float[] { 10, -4, 0 };
        Regularizers.Decay(x, 0.25f);
        Assert.Equal(new float[] { 7.5f, -3f, 0f }, x);
        Regularizers.Decay(x, 0f);
        Assert.Equal(new float[] { 7.5f, -3f, 0f }, x);
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(2f)]
    public void Total_variation_gradient_matches_finite_differences(float beta)
    {
        int c = 2, h = 4, w = 5;
        var rng = new Random(11);
        var x = Enumerable.Range(0, c * h * w).Select(_ => (float)rng.NextDouble()).ToArray();
        var g = new float[x.Length];
        double v0 = Regularizers.TotalVariation(x, c, h, w, beta, 1f, g);
        Assert.True(v0 > 0);
        // TV of a constant image is (almost) zero.
        var flat = Enumerable.Repeat(0.3f, x.Length).ToArray();
        Assert.Equal(0, Regularizers.TotalVariation(flat, c, h, w, beta, 0f, new float[x.Length], epsilon: 0f));
        foreach (int i in new[] { 0, 7, 13, 22, 39 })
        {
            double FD(float eps)
            {
                var xp = (float[])x.Clone(); xp[i] += eps;
                var xm = (float[])x.Clone(); xm[i] -= eps;
                return (Regularizers.TotalVariation(xp, c, h, w, beta, 0f, new float[x.Length]) - Regularizers.TotalVariation(xm, c, h, w, beta, 0f, new float[x.Length])) / (2 * eps);
            }
            double fd = FD(1e-2f);
            Assert.True(Math.Abs(fd - g[i]) < 2e-3 * Math.Max(1, Math.Abs(fd)), $"element {i}: finite difference {fd}, gradient {g[i]}");
        }
    }

    [Fact]
    public void Total_variation_equals_a_hand_computed_case()
    {
        // One 2×2 plane [[0, 1], [0, 1]], β = 2: differences dx = 1 (top-left, bottom-left), dy = 0 → Σ = 2, ÷HW = 0.5.
        var x = new float[] { 0, 1, 0, 1 };
        Assert.Equal(0.5, Regularizers.TotalVariation(x, 1, 2, 2, 2f, 0f, new float[4], epsilon: 0f), 6);
    }

    [Fact]
    public void Lp_penalty_value_and_gradient()
    {
        var x = new float[] { 0.5f, 1f, 0f, 0.75f };
        var g = new float[4];
        double v = Regularizers.LpPenalty(x, 1, 2, 2, 2f, 0.5f, 1f, g);
        Assert.Equal((0 + 0.25 + 0.25 + 0.0625) / 4, v, 6);
        Assert.Equal(new float[] { 0, 0.25f, -0.25f, 0.125f }, g); // 2(x − ½)/4
        var g6 = new float[4];
        Regularizers.LpPenalty(x, 1, 2, 2, 6f, 0.5f, 2f, g6);
        Assert.Equal(2f * 6 * MathF.Pow(0.5f, 5) / 4, g6[1], 6);
    }

    [Theory]
    [InlineData(1f, 6f)]
    [InlineData(2f, 2f)]
    public void Penalty_objects_match_total_variation_plus_Lp(float beta, float p)
    {
        int h = 6, w = 7;
        var rng = new Random(21);
        var pixels = Enumerable.Range(0, h * w).Select(_ => (float)(255 * rng.NextDouble())).ToArray();
        var unit = pixels.Select(v => v / 255f).ToArray();
        var reference = new float[h * w];
        Regularizers.TotalVariation(unit, 1, h, w, beta, 3f, reference);
        Regularizers.LpPenalty(unit, 1, h, w, p, 0.5f, 2f, reference);
        // The penalty objects of a preset add w·∂P/∂u at u = pixels/255, one plane at a time.
        var fused = new float[h * w];
        new TotalVariationPenalty(3f, beta).AddGradient(pixels, fused, h, w);
        new LpPenalty(2f, p).AddGradient(pixels, fused, h, w);
        for (int i = 0; i < h * w; i++) Assert.Equal(reference[i], fused[i], 5);
        Assert.Equal(3 * Regularizers.TotalVariation(unit, 1, h, w, beta, 0f, new float[h * w]), new TotalVariationPenalty(3f, beta).Value(pixels, h, w), 5);
        Assert.Equal(2 * Regularizers.LpPenalty(unit, 1, h, w, p, 0.5f, 0f, new float[h * w]), new LpPenalty(2f, p).Value(pixels, h, w), 5);
    }

    [Fact]
    public void L1Penalty_ValueAndGradientByHand_AndFiniteDifferences()
    {
        // One 2×2 plane, u = pixels/255 = [0, 1, 0.2, 0.8]: |u − ½| = [½, ½, 0.3, 0.3], mean 0.4; weight 2 → 0.8.
        var pixels = new float[] { 0, 255, 51, 204 };
        var penalty = new L1Penalty(2f);
        Assert.Equal(0.8, penalty.Value(pixels, 2, 2), 5);
        var g = new float[4];
        penalty.AddGradient(pixels, g, 2, 2);
        Assert.Equal(new float[] { -0.5f, 0.5f, -0.5f, 0.5f }, g); // 2·sign(u − ½)/4
        // Finite differences in u (= pixels/255) on a random plane away from ½.
        var rng = new Random(6);
        var px = Enumerable.Range(0, 12).Select(_ => (float)(rng.NextDouble() < 0.5 ? 20 + 90 * rng.NextDouble() : 145 + 90 * rng.NextDouble())).ToArray();
        var grad = new float[12];
        penalty.AddGradient(px, grad, 3, 4);
        for (int i = 0; i < 12; i++)
        {
            var up = (float[])px.Clone(); up[i] += 2.55f;   // u + 0.01
            var dn = (float[])px.Clone(); dn[i] -= 2.55f;
            double fd = (penalty.Value(up, 3, 4) - penalty.Value(dn, 3, 4)) / 0.02;
            Assert.Equal(fd, grad[i], 4);
        }
        Assert.Contains(VisualizationPresets.Get("lucid-l1").Lucid!.Penalties, p => p is L1Penalty { Weight: 2f });
    }

    [Fact]
    public void Fft_MatchesTheDefinitionAndInverts()
    {
        int n = 16;
        var rng = new Random(5);
        var re = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var im = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var fr = (float[])re.Clone();
        var fi = (float[])im.Clone();
        var fft = new Fft(n);
        fft.Forward(fr, fi);
        for (int k = 0; k < n; k++)
        {
            double sr = 0, si = 0;
            for (int j = 0; j < n; j++)
            {
                double a = -2 * Math.PI * j * k / n;
                sr += re[j] * Math.Cos(a) - im[j] * Math.Sin(a);
                si += re[j] * Math.Sin(a) + im[j] * Math.Cos(a);
            }
            Assert.Equal(sr, fr[k], 4);
            Assert.Equal(si, fi[k], 4);
        }
        fft.Inverse(fr, fi);
        for (int j = 0; j < n; j++) { Assert.Equal(re[j], fr[j] / n, 5); Assert.Equal(im[j], fi[j] / n, 5); }
        Assert.Throws<ArgumentOutOfRangeException>(() => new Fft(12));
        Assert.Equal(256, Fft.NextPowerOfTwo(224));
    }

    [Fact]
    public void Fourier_image_round_trips_an_image()
    {
        int w = 20, h = 14;
        var f = new FourierImage(2, w, h);
        Assert.Equal(32, f.GridSize);
        var rng = new Random(8);
        var px = new float[3 * w * h];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) px[(c * h + y) * w + x] = (float)(40 + 170 * rng.NextDouble());
        f.SetImage(1, px);
        var back = f.Render()[1];
        for (int i = 0; i < px.Length; i++) Assert.Equal(px[i], back[i], 1); // within 0.1 of 255
        // Noise initialization renders near mid-gray (sigmoid(≈0) = ½).
        f.InitializeRandom(0, 7, 0.01f);
        Assert.All(f.Render()[0], v => Assert.InRange(v, 100f, 155f));
    }

    [Fact]
    public void Fourier_image_backward_matches_finite_differences()
    {
        int w = 6, h = 5;
        var f = new FourierImage(3, w, h, amplitude: 1f); // 3 images → 9 planes: exercises the paired transforms and the odd one out
        for (int i = 0; i < 3; i++) f.InitializeRandom(i, 100 + i, 0.3f);
        var rng = new Random(9);
        var weights = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 3 * w * h).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray()).ToArray();
        double Loss() => f.Render().Select((p, b) => p.Select((v, k) => (double)v * weights[b][k]).Sum()).Sum();
        var pixels = f.Render();
        var grads = f.Backward(weights, pixels);
        // (coefficient array, element): array 2·(3·image + plane) + (0 real | 1 imaginary); P = 8, so 64 elements each.
        var probes = new[] { (0, 0), (1, 5), (2 * 4 + 1, 9), (2 * 7, 17), (2 * 8 + 1, 1), (2 * 8, 63), (2 * 5 + 1, 36) };
        foreach (var (b, k) in probes)
        {
            float eps = 1e-2f;
            var c = f.Coefficients[b];
            float keep = c[k];
            c[k] = keep + eps; double lp = Loss();
            c[k] = keep - eps; double lm = Loss();
            c[k] = keep;
            double fd = (lp - lm) / (2 * eps);
            Assert.True(Math.Abs(fd - grads[b][k]) <= 2e-2 * Math.Max(1, Math.Abs(fd)), $"array {b} coefficient {k}: finite difference {fd}, backward {grads[b][k]}");
        }
    }

    [Fact]
    public void Warp_AdjointSatisfiesTheDotProductTest_AndShiftsWholePixels()
    {
        var rng = new Random(2);
        foreach (var warp in new[]
        {
            new Warp(10, 8, 10, 8, 10, 8, 0, 2, -1),
            new Warp(12, 12, 9, 9, 13.5, 13.5, 7, 0.7, 1.3),
            Warp.Resize(7, 5, 14, 10),
        })
        {
            int sn = 2 * warp.SourceWidth * warp.SourceHeight, on = 2 * warp.OutputWidth * warp.OutputHeight;
            var x = Enumerable.Range(0, sn).Select(_ => (float)rng.NextDouble()).ToArray();
            var g = Enumerable.Range(0, on).Select(_ => (float)rng.NextDouble()).ToArray();
            var ax = new float[on];
            warp.Apply(x, ax, 2, 0f);
            var atg = new float[sn];
            warp.AddAdjoint(g, atg, 2);
            Assert.Equal(x.Zip(atg).Sum(p => (double)p.First * p.Second), g.Zip(ax).Sum(p => (double)p.First * p.Second), 3);
        }
        // A shift by (+2, −1): output (u, v) shows source (u + 2, v − 1); rows/columns from outside take the fill.
        var shift = new Warp(4, 3, 4, 3, 4, 3, 0, 2, -1);
        var src = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        var dst = new float[12];
        shift.Apply(src, dst, 1, -1f);
        Assert.Equal(new float[] { -1, -1, -1, -1, 2, 3, -1, -1, 6, 7, -1, -1 }, dst);
        Assert.True(Warp.Resize(5, 5, 5, 5).IsIdentity);
    }

    [Fact]
    public void Diversity_GradientMatchesFiniteDifferences()
    {
        int b = 3, c = 4, h = 2, w = 3;
        var rng = new Random(4);
        var a = Enumerable.Range(0, b * c * h * w).Select(_ => (float)rng.NextDouble()).ToArray();
        foreach (var layout in new TensorLayout?[] { TensorLayout.Nchw, TensorLayout.Nhwc })
        {
            var g = new float[a.Length];
            double v = Diversity.Compute(a, b, c, h, w, layout, 1f, g);
            Assert.InRange(v, -1, 0); // minus a mean cosine similarity of non-negative Gram matrices
            foreach (int i in new[] { 0, 5, 31, 50, 71 })
            {
                float eps = 1e-3f;
                var ap = (float[])a.Clone(); ap[i] += eps;
                var am = (float[])a.Clone(); am[i] -= eps;
                double fd = (Diversity.Compute(ap, b, c, h, w, layout, 0f, new float[a.Length]) - Diversity.Compute(am, b, c, h, w, layout, 0f, new float[a.Length])) / (2 * eps);
                Assert.Equal(fd, g[i], 3);
            }
        }
        // Identical images are as similar as possible: diversity −1.
        var same = new float[2 * c * h * w];
        for (int i = 0; i < c * h * w; i++) same[i] = same[c * h * w + i] = a[i];
        Assert.Equal(-1, Diversity.Compute(same, 2, c, h, w, TensorLayout.Nchw, 0f, new float[same.Length]), 5);
    }

    [Fact]
    public void Adam_FirstStepMovesEachParameterByTheLearningRate()
    {
        var p = new[] { new float[] { 0, 0, 0 } };
        var adam = new Adam(p, 0.05f);
        adam.Ascend([[3f, -0.001f, 0f]]);
        Assert.Equal(0.05f, p[0][0], 4);
        Assert.Equal(-0.05f, p[0][1], 3);
        Assert.Equal(0f, p[0][2]);
    }

    [Fact]
    public void Presets_HoldThePublishedHyperparameters()
    {
        var rows = new[] { VisualizationPresets.Yosinski1, VisualizationPresets.Yosinski2, VisualizationPresets.Yosinski3, VisualizationPresets.Yosinski4 }
            .Select(p => p.DeepVis!.Regularizers).Select(r => (r.OfType<Decay>().Single().Rate, r.OfType<PeriodicBlur>().Single().Every,
                r.OfType<PeriodicBlur>().Single().Width, r.OfType<NormClip>().Single().Percentile, r.OfType<ContributionClip>().Single().Percentile)).ToArray();
        Assert.Equal((0f, 4, 0.5f, 50f, 0f), rows[0]);
        Assert.Equal((0.3f, 0, 0f, 20f, 0f), rows[1]);
        Assert.Equal((0.0001f, 4, 1.0f, 0f, 0f), rows[2]);
        Assert.Equal((0f, 4, 0.5f, 0f, 90f), rows[3]);
        Assert.Same(VisualizationPresets.Default, VisualizationPresets.Get("DEEPVIS"));
        Assert.True(VisualizationPresets.Get("lucid").IsLucid);
        var e = Assert.Throws<SalientException>(() => VisualizationPresets.Get("nope"));
        Assert.Contains("deepvis-3", e.Message);
    }

    [Fact]
    public void Neutral_color_is_the_pixel_that_preprocesses_to_zero()
    {
        var n = InputMapping.NeutralColor(Preprocessing.Imagenet, 3);
        Assert.Equal(0.485f * 255, n[0], 3);
        Assert.Equal(0.406f * 255, n[2], 3);
        Assert.All(InputMapping.NeutralColor(Preprocessing.Raw, 3), v => Assert.Equal(127.5f, v));
    }

    [Fact]
    public void Tile_grid_lays_out_rows_with_captions_and_title()
    {
        var tile = new RgbImage(10, 8, new float[240]);
        var grid = TileGrid.Compose([new Tile(tile, "a"), new Tile(tile, "b", true), new Tile(tile, "c")], columns: 2, gap: 2);
        Assert.Equal(2 * 10 + 3 * 2, grid.Width);
        Assert.True(grid.Height > 2 * 8 + 3 * 2);
        var big = TileGrid.Enlarge(new RgbImage(2, 1, [1, 2, 3, 4, 5, 6]), 3);
        Assert.Equal((6, 3), (big.Width, big.Height));
        Assert.Equal((4f, 5f, 6f), big.GetPixel(5, 2));
    }
}
