using Salient.Core;
using Salient.Methods;
using Xunit;

namespace Salient.Tests.Methods;

/// <summary>Kernel PCA's pieces against closed forms; FEM's channel weights by counting.</summary>
public class KernelPcaTests
{
    private static double[] Rows(int n, int d, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n * d).Select(_ => r.NextDouble() * 2 - 1).ToArray();
    }

    [Fact]
    public void Centring_a_linear_kernel_gives_the_gram_matrix_of_the_centred_rows()
    {
        const int n = 7, d = 3;
        var x = Rows(n, d, 1);
        var k = KernelPca.KernelMatrix(x, n, d, PcaKernel.Linear, 1);
        KernelPca.Centre(k, n);
        var mean = Enumerable.Range(0, d).Select(c => Enumerable.Range(0, n).Average(i => x[i * d + c])).ToArray();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double want = 0;
                for (int c = 0; c < d; c++) want += (x[i * d + c] - mean[c]) * (x[j * d + c] - mean[c]);
                Assert.Equal(want, k[i * n + j], 12);
            }
    }

    [Fact]
    public void Kernels_are_the_documented_formulas()
    {
        double[] x = [1, 2, -1, 0.5];   // two rows of d = 2
        double dot = 1 * -1 + 2 * 0.5, sq = 4 + 2.25;
        Assert.Equal(Math.Tanh(0.3 * dot + 1), KernelPca.KernelMatrix(x, 2, 2, PcaKernel.Sigmoid, 0.3)[1], 12);
        Assert.Equal(Math.Exp(-0.3 * sq), KernelPca.KernelMatrix(x, 2, 2, PcaKernel.Rbf, 0.3)[1], 12);
        Assert.Equal(Math.Pow(0.3 * dot + 1, 3), KernelPca.KernelMatrix(x, 2, 2, PcaKernel.Poly, 0.3)[1], 12);
        Assert.Equal(dot / (Math.Sqrt(5) * Math.Sqrt(1.25)), KernelPca.KernelMatrix(x, 2, 2, PcaKernel.Cosine, 0.3)[1], 12);
    }

    [Fact]
    public void Top_eigenpair_is_the_largest_algebraic_one_even_when_a_negative_one_is_larger_in_magnitude()
    {
        // diag(−5, 2, 1) rotated: the power iteration alone would find −5.
        double c = Math.Cos(0.4), s = Math.Sin(0.4);
        double[,] q = { { c, -s, 0 }, { s, c, 0 }, { 0, 0, 1 } };
        double[] l = [-5, 2, 1];
        var a = new double[9];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 3; k++) a[i * 3 + j] += q[i, k] * l[k] * q[j, k];
        var (value, v) = KernelPca.TopEigenpair(a, 3);
        Assert.Equal(2, value, 9);
        Assert.Equal(1, Math.Abs(v[0] * -s + v[1] * c), 9);
    }

    [Fact]
    public void Linear_kernel_pca_is_ordinary_pca_with_the_largest_entry_positive()
    {
        const int n = 12, d = 4;
        var x = Rows(n, d, 3);
        var got = KernelPca.FirstComponent(x, n, d, PcaKernel.Linear, 1);
        var chw = new float[d * n];
        for (int i = 0; i < n; i++) for (int c = 0; c < d; c++) chw[c * n + i] = (float)x[i * d + c];
        var (want, _, _) = ReferencePca.FirstComponent(chw, d, n);   // Jacobi on the Gram matrix; sign: correlates with the channel sum
        int big = Enumerable.Range(0, n).MaxBy(i => Math.Abs(want[i]));
        double sign = want[big] < 0 ? -1 : 1;
        for (int i = 0; i < n; i++) Assert.Equal(sign * want[i], got[i], 4);
        Assert.True(got[Enumerable.Range(0, n).MaxBy(i => Math.Abs(got[i]))] > 0);
    }

    [Fact]
    public void Fem_weight_is_the_fraction_of_positions_above_mean_plus_k_sigma()
    {
        // Channel 0: 0,0,0,4 → mean 1, σ √3: 1 + 2√3 ≈ 4.46 > 4, so k=2 gives 0 and k=1 (2.73) gives 1/4.
        // Channel 1: constant → nothing is above its mean.
        var a = new Activation([0, 0, 0, 4, 3, 3, 3, 3], 2, 2, 2);
        Assert.Equal([0f, 0f], Fem.Weights(a, 2));
        Assert.Equal([0.25f, 0f], Fem.Weights(a, 1));
        Assert.Equal([0.25f, 0f], Fem.Weights(a, 0));
    }

    [Fact]
    public void Kpcacam_refuses_a_layer_whose_kernel_matrix_would_be_huge_in_one_line()
    {
        KpcaCam.CheckSize(new Activation(new float[64 * 64], 1, 64, 64), "ok");   // 4096 positions: at the limit
        var e = Assert.Throws<SalientException>(() => KpcaCam.CheckSize(new Activation(new float[65 * 64], 1, 65, 64), "features.1"));
        Assert.Equal("KPCA-CAM builds a positions × positions kernel matrix and layer 'features.1' has 65×64 = 4160 positions (at most 4096); choose a later layer", e.Message);
    }
}
