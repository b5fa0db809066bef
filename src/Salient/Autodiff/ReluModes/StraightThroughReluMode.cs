namespace Salient.Autodiff;

/// <summary>
/// straight-through: dX = g — every ReLU-like op is treated as the identity in the backward (the
/// identity straight-through estimator of Bengio, Léonard &amp; Courville 2013, "Estimating or
/// propagating gradients through stochastic neurons"; Yin et al. 2019 compare it with ReLU STEs).
/// The gradient then shows how the score depends on the input through the linear parts of the
/// network alone, with every rectifier's gating removed.
/// </summary>
internal sealed class StraightThroughReluMode : ReluMode
{
    public override string Name => "straight-through";
    public override string Description => "identity straight-through estimator (Bengio et al. 2013): g, ignoring the forward";
    internal override string Backward(ReluSite s) => s.G;
}
