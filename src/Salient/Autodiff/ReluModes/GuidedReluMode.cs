namespace Salient.Autodiff;

/// <summary>
/// guided (Springenberg et al. 2015, "Striving for simplicity"): dX = max(g, 0) · d(x) — only
/// positive gradients pass, and only where the forward passes (LeakyRelu/PRelu keep their slope on
/// the negative side).
/// </summary>
internal sealed class GuidedReluMode : ReluMode
{
    public override string Name => "guided";
    public override string Description => "guided backprop (Springenberg et al. 2015): max(g,0) · d(x)";
    internal override string Backward(ReluSite s) => s.TimesDerivative(s.PositivePart(s.G));
}
