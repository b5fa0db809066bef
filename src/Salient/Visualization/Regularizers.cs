using System.Runtime.CompilerServices;
namespace Salient.Visualization;

/// <summary>
/// The image regularizers of activation maximization, on planar images (C × H × W, row-major):
/// the four of Yosinski et al. 2015 (L2 decay, Gaussian blur, clipping pixels of small norm,
/// clipping pixels of small contribution) and the penalties of the transformation-robustness recipe
/// (total variation, Lp), each with its gradient: the arithmetic behind the regularizer and penalty
/// objects of a preset (ImageRegularizers.cs, Penalties.cs).
/// </summary>
internal static class Regularizers
{
    /// <summary>L2 decay r(x) = (1 − θ_decay)·x, in place (x is the image minus its neutral colour).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Decay(Span<float> x, float decay)
    {
        if (decay == 0) return;
        float k = 1f - decay;
        for (int i = 0; i < x.Length; i++) x[i] *= k;
    }

    /// <summary>
    /// θ_n_pct: sets every pixel (all C channels) whose Euclidean norm over channels is below the
    /// <paramref name="percent"/>-th percentile of the pixel norms to zero, in place. Returns the
    /// number of pixels cleared. x is the image minus its neutral colour, so zero is that colour.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int ClipSmallNorm(Span<float> x, int c, int h, int w, float percent)
    {
        if (percent <= 0) return 0;
        int plane = h * w;
        var norms = new float[plane];
        for (int k = 0; k < c; k++)
        {
            var p = x.Slice(k * plane, plane);
            for (int i = 0; i < plane; i++) norms[i] += p[i] * p[i];
        }
        for (int i = 0; i < plane; i++) norms[i] = MathF.Sqrt(norms[i]);
        return ClearBelow(x, c, plane, norms, Statistics.Percentile(norms, percent));
    }

    /// <summary>
    /// θ_c_pct: the contribution of a pixel is the linearized change of the objective when that
    /// pixel is set to zero, |Σ_c x·∂a/∂x| (Yosinski et al. 2015); pixels whose contribution is below
    /// the <paramref name="percent"/>-th percentile are set to zero, in place. Returns the number cleared.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int ClipSmallContribution(Span<float> x, ReadOnlySpan<float> gradient, int c, int h, int w, float percent)
    {
        if (percent <= 0) return 0;
        int plane = h * w;
        if (gradient.Length != x.Length) throw new ArgumentException("gradient and image sizes differ");
        var contribution = new float[plane];
        for (int k = 0; k < c; k++)
        {
            var p = x.Slice(k * plane, plane);
            var g = gradient.Slice(k * plane, plane);
            for (int i = 0; i < plane; i++) contribution[i] += p[i] * g[i];
        }
        for (int i = 0; i < plane; i++) contribution[i] = Math.Abs(contribution[i]);
        return ClearBelow(x, c, plane, contribution, Statistics.Percentile(contribution, percent));
    }

    private static int ClearBelow(Span<float> x, int c, int plane, float[] score, float threshold)
    {
        int cleared = 0;
        for (int i = 0; i < plane; i++)
        {
            if (!(score[i] < threshold)) continue;
            cleared++;
            for (int k = 0; k < c; k++) x[k * plane + i] = 0;
        }
        return cleared;
    }

    /// <summary>
    /// Total variation (1/HW)·Σ_c Σ_(y,x) (dx² + dy² + ε)^(β/2) of planar images, with forward
    /// differences (zero past the last row/column); adds weight · ∂TV/∂x to <paramref name="gradient"/>
    /// and returns the value. β = 1 is the (smoothed) isotropic TV norm, β = 2 the squared gradient.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double TotalVariation(ReadOnlySpan<float> x, int c, int h, int w, float beta, float weight, Span<float> gradient, float epsilon = 1e-6f)
    {
        int plane = h * w;
        double total = 0;
        float norm = 1f / plane;
        for (int k = 0; k < c; k++)
        {
            var p = x.Slice(k * plane, plane);
            var g = gradient.Slice(k * plane, plane);
            for (int y = 0; y < h; y++)
            {
                for (int i = 0; i < w; i++)
                {
                    int o = y * w + i;
                    float dx = i + 1 < w ? p[o + 1] - p[o] : 0f;
                    float dy = y + 1 < h ? p[o + w] - p[o] : 0f;
                    float q = dx * dx + dy * dy + epsilon;
                    float v = beta == 2f ? q : beta == 1f ? MathF.Sqrt(q) : MathF.Pow(q, beta / 2f);
                    total += v;
                    if (weight == 0) continue;
                    // d v/d dx = β·q^(β/2−1)·dx
                    float common = weight * norm * (beta == 2f ? 2f : beta * v / q);
                    float gx = common * dx, gy = common * dy;
                    if (i + 1 < w) { g[o + 1] += gx; g[o] -= gx; }
                    if (y + 1 < h) { g[o + w] += gy; g[o] -= gy; }
                }
            }
        }
        return total * norm;
    }

    /// <summary>
    /// Lp penalty (1/HW)·Σ |x − center|^p; adds weight · its gradient to <paramref name="gradient"/>
    /// and returns the value (p ≥ 1; at x = center the subgradient 0 is used).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double LpPenalty(ReadOnlySpan<float> x, int c, int h, int w, float p, float center, float weight, Span<float> gradient)
    {
        int plane = h * w;
        double total = 0;
        float norm = 1f / plane;
        for (int i = 0; i < c * plane; i++)
        {
            float d = x[i] - center;
            float a = Math.Abs(d);
            float v = p switch
            {
                1f => a,
                2f => a * a,
                4f => a * a * a * a,
                6f => a * a * a * a * a * a,
                _ => MathF.Pow(a, p),
            };
            total += v;
            if (weight == 0 || a == 0) continue;
            float dv = p == 2f ? 2 * a : p == 1f ? 1f : p * v / a;
            gradient[i] += weight * norm * dv * MathF.Sign(d);
        }
        return total * norm;
    }
}
