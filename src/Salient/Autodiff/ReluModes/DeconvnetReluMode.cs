namespace Salient.Autodiff;

/// <summary>
/// deconvnet (Zeiler &amp; Fergus 2014): dX = max(g, 0) — the gradient is rectified, the forward
/// is ignored.
/// </summary>
internal sealed class DeconvnetReluMode : ReluMode
{
    public override string Name => "deconvnet";
    public override string Description => "deconvnet (Zeiler & Fergus 2014): max(g,0), ignoring the forward";
    internal override string Backward(ReluSite s) => s.PositivePart(s.G);
}
