using static System.FormattableString;

namespace Salient.Visualization;

/// <summary>
/// Lucid's <c>objectives.L1(constant=0.5)</c>: Weight · mean |u − Center| on the [0, 1] image
/// u = pixels / 255 — a sparsity prior that pulls pixels towards mid-gray, leaving colour only where
/// the objective needs it. Gradient Weight · sign(u − Center) / (H·W) (0 at u = Center).
/// </summary>
internal sealed record L1Penalty(float Weight, float Center = 0.5f) : IPenalty
{
    public double Value(ReadOnlySpan<float> pixels, int height, int width)
    {
        double total = 0;
        for (int o = 0; o < height * width; o++) total += Math.Abs(pixels[o] * (1f / 255f) - Center);
        return Weight * total / (height * width);
    }

    public void AddGradient(ReadOnlySpan<float> pixels, Span<float> gradient, int height, int width)
    {
        float k = Weight / (height * width);
        for (int o = 0; o < height * width; o++) gradient[o] += k * MathF.Sign(pixels[o] * (1f / 255f) - Center);
    }

    public override string ToString() => Invariant($"L1 {Weight}");
}
