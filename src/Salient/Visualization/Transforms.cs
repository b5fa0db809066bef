using static System.FormattableString;

namespace Salient.Visualization;

// The random transforms of the two recipes, as objects for a preset's list (see ITransform).

/// <summary>DeepVis jitter: a random shift of the whole image by a whole number of pixels in [−Pixels, Pixels] per axis.</summary>
internal sealed record Shift(int Pixels) : ITransform
{
    public void Sample(Random rng, TransformPhase phase, ref View view)
    {
        if (Pixels <= 0) return;
        if (phase == TransformPhase.X) view.Dx += rng.Next(-Pixels, Pixels + 1);
        else if (phase == TransformPhase.Y) view.Dy += rng.Next(-Pixels, Pixels + 1);
    }

    public override string ToString() => Invariant($"jitter {Pixels}");
}

/// <summary>Lucid's pad(n): gray padding of <c>Pixels</c> around the image (the view grows by 2·Pixels).</summary>
internal sealed record Pad(int Pixels) : ITransform
{
    public void Sample(Random rng, TransformPhase phase, ref View view)
    {
        if (phase == TransformPhase.Shape) view.Extra += 2.0 * Pixels;
    }

    public override string ToString() => Invariant($"pad {Pixels}");
}

/// <summary>Lucid's jitter(n): a random crop n pixels smaller, i.e. a shift of up to ±n/2 pixels per axis.</summary>
internal sealed record Jitter(int Pixels) : ITransform
{
    public void Sample(Random rng, TransformPhase phase, ref View view)
    {
        if (Pixels <= 0) return;
        switch (phase)
        {
            case TransformPhase.Shape: view.Extra -= Pixels; break;
            case TransformPhase.X: view.Dx += rng.Next(0, Pixels + 1) - Pixels / 2.0; break;
            case TransformPhase.Y: view.Dy += rng.Next(0, Pixels + 1) - Pixels / 2.0; break;
        }
    }

    public override string ToString() => Invariant($"jitter {Pixels}");
}

/// <summary>Lucid's random_scale: one of the factors, drawn per step.</summary>
internal sealed record RandomScale(IReadOnlyList<float> Factors) : ITransform
{
    public void Sample(Random rng, TransformPhase phase, ref View view)
    {
        if (phase == TransformPhase.Shape && Factors.Count > 0) view.Scale = Factors[rng.Next(Factors.Count)];
    }

    public override string ToString() => Invariant($"scale {Factors.Min()}–{Factors.Max()}");
}

/// <summary>Lucid's random_rotate: whole degrees in [−MaxDegrees, MaxDegrees].</summary>
internal sealed record RandomRotation(int MaxDegrees) : ITransform
{
    public void Sample(Random rng, TransformPhase phase, ref View view)
    {
        if (phase == TransformPhase.Shape && MaxDegrees > 0) view.Angle = rng.Next(-MaxDegrees, MaxDegrees + 1);
    }

    public override string ToString() => Invariant($"rotate ±{MaxDegrees}°");
}
