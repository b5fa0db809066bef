namespace Salient.Methods;

/// <summary>HiResCAM (Draelos &amp; Carin 2020): ReLU(Σ_k ∂y^c/∂A^k ⊙ A^k) — element-wise gradient weights.</summary>
internal sealed class HiResCam : GradientCam
{
    public override string Name => "hirescam";
    public override string Summary => "HiResCAM: ReLU(Σ_k G^k ⊙ A^k), faithful element-wise weights (Draelos & Carin 2020)";
    protected override CamTerms Terms(int item, int cls, Activation a, Activation g) => new(item, cls, a, null, g.Data);
}
