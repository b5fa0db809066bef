using System.Runtime.CompilerServices;
using static System.FormattableString;

namespace Salient.Visualization;

// The penalties of the lucid recipe, as objects for a preset's list (see IPenalty). Values use the
// reference functions of Regularizers; gradients are computed in pixel units (u = pixels / 255) in
// one pass per plane, the arithmetic the optimizer has always used.

/// <summary>
/// Weight · total variation mean (dx² + dy² + ε)^(β/2) on the [0, 1] image (forward differences).
/// The weight must match the objective's scale: ~300 suits class logits, a channel mean ~100× less.
/// </summary>
internal sealed record TotalVariationPenalty(float Weight, float Beta = 1f, float Epsilon = 1e-6f) : IPenalty
{
    public double Value(ReadOnlySpan<float> pixels, int height, int width)
    {
        var u = new float[height * width];
        for (int i = 0; i < u.Length; i++) u[i] = pixels[i] * (1f / 255f);
        return Weight * Regularizers.TotalVariation(u, 1, height, width, Beta, 0f, new float[u.Length], Epsilon);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddGradient(ReadOnlySpan<float> pixels, Span<float> gradient, int height, int width)
    {
        int h = height, w = width, plane = h * w;
        float k = Weight * (1f / plane), inv = 1f / 255f, beta = Beta;
        var gx = new float[plane];
        var gy = new float[plane];
        for (int y = 0; y < h; y++)
        {
            int row = y * w;
            for (int x = 0; x < w; x++)
            {
                int o = row + x;
                float u = pixels[o] * inv;
                float dx = x + 1 < w ? pixels[o + 1] * inv - u : 0f;
                float dy = y + 1 < h ? pixels[o + w] * inv - u : 0f;
                float q = dx * dx + dy * dy + Epsilon;
                float c = beta == 1f ? k / MathF.Sqrt(q) : beta == 2f ? 2f * k : k * beta * MathF.Pow(q, beta / 2f - 1f);
                gx[o] = c * dx;
                gy[o] = c * dy;
            }
        }
        for (int y = 0; y < h; y++)
        {
            int row = y * w;
            for (int x = 0; x < w; x++)
            {
                int o = row + x;
                float tv = -gx[o] - gy[o];
                if (x > 0) tv += gx[o - 1];
                if (y > 0) tv += gy[o - w];
                gradient[o] += tv;
            }
        }
    }

    public override string ToString() => Invariant($"TV {Weight}");
}

/// <summary>Weight · mean |u − Center|^Power on the [0, 1] image (p = 6: discourages saturated pixels).</summary>
internal sealed record LpPenalty(float Weight, float Power = 6f, float Center = 0.5f) : IPenalty
{
    public double Value(ReadOnlySpan<float> pixels, int height, int width)
    {
        var u = new float[height * width];
        for (int i = 0; i < u.Length; i++) u[i] = pixels[i] * (1f / 255f);
        return Weight * Regularizers.LpPenalty(u, 1, height, width, Power, Center, 0f, new float[u.Length]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddGradient(ReadOnlySpan<float> pixels, Span<float> gradient, int height, int width)
    {
        int plane = height * width;
        float inv = 1f / 255f, p = Power, lk = Weight * (1f / plane) * p;
        for (int o = 0; o < plane; o++)
        {
            float d = pixels[o] * inv - Center, a = Math.Abs(d);
            if (a == 0) continue;
            float pw = p switch { 2f => a, 4f => a * a * a, 6f => a * a * a * a * a, 1f => 1f, _ => MathF.Pow(a, p - 1f) };
            gradient[o] += lk * pw * MathF.Sign(d);
        }
    }

    public override string ToString() => Invariant($"L{Power} {Weight}");
}
