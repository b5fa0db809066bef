namespace Salient.Autodiff;

/// <summary>standard: the true derivative, dX = g · d(x) (d = 1 where the op passes, the slope elsewhere).</summary>
internal sealed class StandardReluMode : ReluMode
{
    public override string Name => "standard";
    public override string Description => "the true derivative: g · d(x)";
    internal override string Backward(ReluSite s) => s.TimesDerivative(s.G);
}
