using System.Runtime.CompilerServices;
using Salient.Imaging;

namespace Salient.Visualization;

/// <summary>
/// The diversity term of Olah et al. 2017 for a batch of images: each image's style is the Gram matrix
/// G_b = A_b·A_bᵀ / (H·W) of a layer's activations (C × C), and the term is minus the mean cosine
/// similarity of the styles over all ordered pairs of distinct images. Maximizing it pushes the
/// images of a batch apart.
/// </summary>
internal static class Diversity
{
    /// <summary>
    /// The term's value for a batch tensor (B items of C channels × H × W in <paramref name="layout"/>),
    /// and adds weight · ∂term/∂activations to <paramref name="gradient"/> (same shape). Zero for B &lt; 2.
    /// </summary>
    public static double Compute(ReadOnlySpan<float> activations, int batch, int channels, int height, int width, TensorLayout? layout,
        float weight, Span<float> gradient)
    {
        if (batch < 2) return 0;
        int hw = height * width;
        int per = channels * hw;
        // Per item: activations as a C × HW matrix.
        var mats = new float[batch][];
        for (int b = 0; b < batch; b++)
        {
            var a = new float[per];
            var src = activations.Slice(b * per, per);
            if (layout == TensorLayout.Nhwc)
            {
                for (int p = 0; p < hw; p++)
                    for (int c = 0; c < channels; c++) a[c * hw + p] = src[p * channels + c];
            }
            else src.CopyTo(a);
            mats[b] = a;
        }
        var grams = new double[batch][];
        Parallel.For(0, batch, b => grams[b] = Gram(mats[b], channels, hw));
        var norms = grams.Select(g => Math.Sqrt(g.Sum(v => v * v)) + 1e-12).ToArray();
        var cos = new double[batch, batch];
        double total = 0;
        for (int a = 0; a < batch; a++)
            for (int b = 0; b < batch; b++)
            {
                if (a == b) continue;
                double dot = 0;
                var ga = grams[a];
                var gb = grams[b];
                for (int i = 0; i < ga.Length; i++) dot += ga[i] * gb[i];
                cos[a, b] = dot / (norms[a] * norms[b]);
                total += cos[a, b];
            }
        double pairs = batch * (batch - 1);
        double value = -total / pairs;
        if (weight == 0) return value;
        // d value / d G_a = −(2/pairs)·Σ_{b≠a} (G_b/(|G_a||G_b|) − cos_ab·G_a/|G_a|²)
        var localGrad = new float[batch][];
        Parallel.For(0, batch, a =>
        {
            int cc = channels * channels;
            var dG = new double[cc];
            for (int b = 0; b < batch; b++)
            {
                if (b == a) continue;
                double k1 = 1.0 / (norms[a] * norms[b]);
                double k2 = cos[a, b] / (norms[a] * norms[a]);
                var ga = grams[a];
                var gb = grams[b];
                for (int i = 0; i < cc; i++) dG[i] += k1 * gb[i] - k2 * ga[i];
            }
            double f = -2.0 / pairs * weight;
            // G = A·Aᵀ/hw and dG symmetric ⇒ dA = 2·dG·A/hw.
            var A = mats[a];
            var dA = new float[per];
            for (int c = 0; c < channels; c++)
            {
                for (int d = 0; d < channels; d++)
                {
                    float coef = (float)(f * dG[c * channels + d] * 2.0 / hw);
                    if (coef == 0) continue;
                    for (int p = 0; p < hw; p++) dA[c * hw + p] += coef * A[d * hw + p];
                }
            }
            localGrad[a] = dA;
        });
        for (int b = 0; b < batch; b++)
        {
            var dst = gradient.Slice(b * per, per);
            var dA = localGrad[b];
            if (layout == TensorLayout.Nhwc)
            {
                for (int p = 0; p < hw; p++)
                    for (int c = 0; c < channels; c++) dst[p * channels + c] += dA[c * hw + p];
            }
            else for (int i = 0; i < per; i++) dst[i] += dA[i];
        }
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double[] Gram(float[] a, int channels, int hw)
    {
        var g = new double[channels * channels];
        for (int c = 0; c < channels; c++)
        {
            var rc = a.AsSpan(c * hw, hw);
            for (int d = c; d < channels; d++)
            {
                var rd = a.AsSpan(d * hw, hw);
                double s = Dot(rc, rd);
                g[c * channels + d] = s / hw;
                g[d * channels + c] = s / hw;
            }
        }
        return g;
    }

    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, i = 0;
        var acc = System.Numerics.Vector<float>.Zero;
        int width = System.Numerics.Vector<float>.Count;
        for (; i <= n - width; i += width)
            acc += new System.Numerics.Vector<float>(a.Slice(i, width)) * new System.Numerics.Vector<float>(b.Slice(i, width));
        float s = System.Numerics.Vector.Sum(acc);
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }
}
