namespace Salient.Methods;

/// <summary>LayerCAM (Jiang et al. 2021): ReLU(Σ_k ReLU(∂y^c/∂A^k) ⊙ A^k).</summary>
internal sealed class LayerCam : GradientCam
{
    public override string Name => "layercam";
    public override string Summary => "LayerCAM: ReLU(Σ_k ReLU(G^k) ⊙ A^k), good on shallow layers (Jiang et al. 2021)";
    protected override CamTerms Terms(int item, int cls, Activation a, Activation g) =>
        new(item, cls, a, null, Array.ConvertAll(g.Data, v => Math.Max(0, v)));
}
