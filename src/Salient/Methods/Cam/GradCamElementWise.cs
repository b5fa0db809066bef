namespace Salient.Methods;

/// <summary>
/// Grad-CAM element-wise (pytorch-grad-cam's GradCAMElementWise): Σ_k ReLU(∂y^c/∂A^k ⊙ A^k) — each
/// position's activation-times-gradient terms are rectified before the channel sum, so negative
/// evidence in one channel cannot cancel positive evidence in another.
/// </summary>
internal sealed class GradCamElementWise : GradientCam
{
    public override string Name => "gradcam-elementwise";
    public override string Summary => "Grad-CAM element-wise: Σ_k ReLU(G^k ⊙ A^k), rectified before the channel sum";

    protected override CamTerms Terms(int item, int cls, Activation a, Activation g)
    {
        // Element weights e with e ⊙ A = ReLU(G ⊙ A): the gradient where the product is positive, else 0.
        var e = new float[g.Data.Length];
        for (int i = 0; i < e.Length; i++) e[i] = g.Data[i] * a.Data[i] > 0 ? g.Data[i] : 0f;
        return new CamTerms(item, cls, a, null, e);
    }
}
