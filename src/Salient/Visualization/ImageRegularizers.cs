using static System.FormattableString;

namespace Salient.Visualization;

// The four regularizers of Yosinski et al. 2015 (Table 1), as objects for a preset's list; the
// arithmetic is in Regularizers (and Core's Blur).

/// <summary>θ_decay: x ← (1 − θ_decay)·x each step.</summary>
internal sealed record Decay(float Rate) : IImageRegularizer
{
    public void Apply(Span<float> x, ReadOnlySpan<float> gradient, int step, int height, int width) => Regularizers.Decay(x, Rate);
    public override string ToString() => Invariant($"decay {Rate}");
}

/// <summary>θ_b_width, θ_b_every: a Gaussian blur of standard deviation <c>Width</c> pixels every <c>Every</c> steps (0: never).</summary>
internal sealed record PeriodicBlur(int Every, float Width) : IImageRegularizer
{
    public void Apply(Span<float> x, ReadOnlySpan<float> gradient, int step, int height, int width)
    {
        if (Every > 0 && Width > 0 && (step + 1) % Every == 0) Blur.Gaussian(x, height, width, Width);
    }

    public override string ToString() => Invariant($"blur σ {Width} every {Every}");
}

/// <summary>θ_n_pct: pixels whose norm is below this percentile are set to the neutral colour (0: off).</summary>
internal sealed record NormClip(float Percentile) : IImageRegularizer
{
    public void Apply(Span<float> x, ReadOnlySpan<float> gradient, int step, int height, int width) =>
        Regularizers.ClipSmallNorm(x, x.Length / (height * width), height, width, Percentile);

    public override string ToString() => Invariant($"norm pct {Percentile}");
}

/// <summary>θ_c_pct: pixels whose contribution |Σ_c x·∂a/∂x| is below this percentile are set to the neutral colour (0: off).</summary>
internal sealed record ContributionClip(float Percentile) : IImageRegularizer
{
    public void Apply(Span<float> x, ReadOnlySpan<float> gradient, int step, int height, int width) =>
        Regularizers.ClipSmallContribution(x, gradient, x.Length / (height * width), height, width, Percentile);

    public override string ToString() => Invariant($"contribution pct {Percentile}");
}
