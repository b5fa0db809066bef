using Salient.Evaluation;
using Salient.Rendering;
using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Evaluation;

/// <summary>
/// ROAD's noisy linear imputation: against pytorch-grad-cam's imputer (tools/make_imputation_fixture.py,
/// noise 0, scipy's direct solver) and against the defining equations on systems as large as a 224×224 image.
/// </summary>
public class ImputationTests(ITestOutputHelper output)
{
    [Fact]
    public void Imputation_equals_pytorch_grad_cams_on_large_removed_regions()
    {
        const int H = 64, W = 64, C = 3, Plane = H * W;
        var (x, _) = Npy.Read(TestPaths.Fixture("eval", "imputation_x.npy"));
        var (masks, _) = Npy.Read(TestPaths.Fixture("eval", "imputation_masks.npy"));
        var (expected, _) = Npy.Read(TestPaths.Fixture("eval", "imputation_out.npy"));
        for (int m = 0; m < 3; m++)
        {
            var removed = masks[(m * Plane)..((m + 1) * Plane)].Select(v => v > 0.5f).ToArray();
            var d = new float[C * Plane];
            Imputation.Impute(x, removed, d, C, H, W, TensorLayout.Nchw, 0, null);
            double worst = 0;
            for (int i = 0; i < d.Length; i++) worst = Math.Max(worst, Math.Abs(d[i] - expected[m * C * Plane + i]));
            output.WriteLine($"mask {m}: {removed.Count(r => r)} removed, largest difference to pytorch-grad-cam {worst:E1}");
            Assert.True(worst <= 1e-5, $"mask {m}: largest difference {worst}");
        }
    }

    public static TheoryData<string, int> Systems => new()
    {
        { "blob90", 3 }, { "blob10", 3 }, { "ring", 3 }, { "random70", 3 }, { "stripes", 3 },
        { "allButOne", 3 }, { "onePixel", 3 }, { "blob90", 1 }, { "random70", 5 },
    };

    [Theory]
    [MemberData(nameof(Systems))]
    public void Every_removed_pixel_is_the_weighted_mean_of_its_neighbours(string pattern, int channels)
    {
        const int H = 224, W = 224, Plane = H * W;
        var rng = new Random(3);
        var x = new float[channels * Plane];
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < Plane; p++)
                x[c * Plane + p] = (float)(Math.Sin(p / W / (4.0 + c)) + Math.Cos(p % W / 9.0) + 0.2 * rng.NextDouble());
        double Blob(int p) => Math.Exp(-(Math.Pow(p / W - 90, 2) + Math.Pow(p % W - 120, 2)) / (2 * 40.0 * 40.0));
        var removed = new bool[Plane];
        for (int p = 0; p < Plane; p++)
            removed[p] = pattern switch
            {
                "blob90" => Blob(p) >= 0.006,
                "blob10" => Blob(p) >= 0.8,
                "ring" => Blob(p) is > 0.2 and < 0.5,
                "random70" => rng.NextDouble() < 0.7,
                "stripes" => p / W % 16 < 12,
                "allButOne" => p != 5 * W + 200,
                _ => p == 77 * W + 13,
            };
        CheckEquations(x, removed, channels, H, W, pattern);
    }

    [Theory]
    [InlineData(1, 7)]
    [InlineData(3, 3)]
    [InlineData(5, 2)]
    [InlineData(33, 17)]
    [InlineData(9, 130)]
    public void Odd_and_tiny_images_are_solved_too(int h, int w)
    {
        var rng = new Random(h * 1000 + w);
        var x = Enumerable.Range(0, 3 * h * w).Select(_ => (float)rng.NextDouble()).ToArray();
        var removed = Enumerable.Range(0, h * w).Select(_ => rng.NextDouble() < 0.8).ToArray();
        removed[rng.Next(h * w)] = false; // at least one known pixel
        CheckEquations(x, removed, 3, h, w, $"{h}×{w}");
    }

    private void CheckEquations(float[] x, bool[] removed, int channels, int h, int w, string pattern)
    {
        int plane = h * w;
        var d = new float[x.Length];
        Imputation.Impute(x, removed, d, channels, h, w, TensorLayout.Nchw, 0, null);

        // The paper's equations: Σ w_q (v_p − v_q) = 0 over the in-image neighbours q of every removed p.
        double worst = 0, scale = 0;
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < plane; p++)
            {
                int i = c * plane + p;
                if (!removed[p]) { Assert.Equal(x[i], d[i]); continue; }
                int y = p / w, xx = p % w;
                double r = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int ny = y + dy, nx = xx + dx;
                        if ((dy, dx) == (0, 0) || ny < 0 || nx < 0 || ny >= h || nx >= w) continue;
                        double wt = dy != 0 && dx != 0 ? 1.0 / 12 : 1.0 / 6;
                        r += wt * ((double)d[i] - d[c * plane + ny * w + nx]);
                    }
                worst = Math.Max(worst, Math.Abs(r));
                scale = Math.Max(scale, Math.Abs(d[i]));
            }
        output.WriteLine($"{pattern}, {channels} channels: {removed.Count(r => r)} removed, largest equation residual {worst:E1} (values up to {scale:F2})");
        // float32 output: each value is exact to ~6e-8 relative, so a residual of a few 1e-7 · scale is the floor.
        Assert.True(worst <= 2e-6 * Math.Max(1, scale), $"largest residual {worst}");
    }
}
