namespace Salient.Visualization;

/// <summary>
/// A DeepVis regularizer r_θ, applied to every image between gradient-ascent steps (Yosinski et al.
/// 2015): <c>x</c> is the image minus the model's neutral colour (3 planes of
/// height × width, 0–255 pixel units), <c>gradient</c> the objective's pixel gradient of
/// this step, <c>step</c> the 0-based step index. Works in place.
/// </summary>
internal interface IImageRegularizer
{
    void Apply(Span<float> x, ReadOnlySpan<float> gradient, int step, int height, int width);
}

/// <summary>
/// A penalty P(u) subtracted from the objective of the lucid recipe, on one colour plane of the
/// [0, 1] image u = pixels / 255 (height × width), scaled by its <see cref="Weight"/>.
/// </summary>
internal interface IPenalty
{
    /// <summary>The weight w of the penalty (0: the penalty is skipped).</summary>
    float Weight { get; }

    /// <summary>w·P(u) of one plane, u = pixels / 255.</summary>
    double Value(ReadOnlySpan<float> pixels, int height, int width);

    /// <summary>Adds w·∂P/∂u of one plane (u = pixels / 255) to <paramref name="gradient"/>.</summary>
    void AddGradient(ReadOnlySpan<float> pixels, Span<float> gradient, int height, int width);
}

/// <summary>
/// A random transform of the image the model sees each step (transformation robustness). Every
/// transform of a list folds its random draw into one <see cref="View"/>, which becomes one bilinear
/// <see cref="Warp"/>. The draws happen per <see cref="TransformPhase"/> (all transforms' shape
/// draws, then all x shifts, then all y shifts, each phase in list order), so a seed gives the same
/// images whatever transform a list adds after the existing ones.
/// </summary>
internal interface ITransform
{
    void Sample(Random rng, TransformPhase phase, ref View view);
}

/// <summary>When a transform draws (see <see cref="ITransform"/>).</summary>
internal enum TransformPhase
{
    /// <summary>Size, scale and rotation.</summary>
    Shape,
    /// <summary>Horizontal shift.</summary>
    X,
    /// <summary>Vertical shift.</summary>
    Y,
}

/// <summary>
/// The composed transform of one step: the viewed window is (size + <see cref="Extra"/>) / <see cref="Scale"/>
/// pixels per side, rotated by <see cref="Angle"/> degrees and centred at the image centre plus (Dx, Dy).
/// </summary>
internal struct View
{
    public double Extra;
    public float Scale;
    public int Angle;
    public double Dx, Dy;

    public View() => Scale = 1f;

    /// <summary>Draws every transform of <paramref name="transforms"/> (phase by phase) into one view.</summary>
    public static View Sample(IReadOnlyList<ITransform> transforms, Random rng)
    {
        var view = new View();
        foreach (var phase in (ReadOnlySpan<TransformPhase>)[TransformPhase.Shape, TransformPhase.X, TransformPhase.Y])
            foreach (var t in transforms) t.Sample(rng, phase, ref view);
        return view;
    }

    /// <summary>The warp from a width × height image to the model's input.</summary>
    public readonly Warp ToWarp(int width, int height, int modelWidth, int modelHeight) =>
        new(width, height, modelWidth, modelHeight, (width + Extra) / Scale, (height + Extra) / Scale, Angle, Dx, Dy);
}
