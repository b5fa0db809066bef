namespace Salient.Methods;

/// <summary>Grad-CAM (Selvaraju et al.): ReLU(Σ_k α_k A^k), α_k = spatial mean of ∂y^c/∂A^k.</summary>
internal sealed class GradCam : GradientCam
{
    public override string Name => "gradcam";
    public override string Summary => "Grad-CAM: ReLU(Σ_k α_k A^k), α_k = mean of ∂y^c/∂A^k (Selvaraju et al. 2017); any layer";
    protected override CamTerms Terms(int item, int cls, Activation a, Activation g) => new(item, cls, a, SpatialMean(g));
}
