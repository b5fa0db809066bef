namespace Salient.Methods;

/// <summary>XGrad-CAM (Fu et al. 2020): w_k = Σ_ij (A_kij / Σ_ab A_kab) · ∂y^c/∂A_kij.</summary>
internal sealed class XGradCam : GradientCam
{
    public override string Name => "xgradcam";
    public override string Summary => "XGrad-CAM: activation-weighted gradient sums (Fu et al. 2020)";
    protected override CamTerms Terms(int item, int cls, Activation a, Activation g)
    {
        var w = new float[a.C];
        for (int k = 0; k < a.C; k++)
        {
            double sumA = 0, s = 0;
            for (int p = 0; p < a.Plane; p++) sumA += a.Data[k * a.Plane + p];
            if (sumA == 0) continue;
            for (int p = 0; p < a.Plane; p++) s += a.Data[k * a.Plane + p] * g.Data[k * a.Plane + p];
            w[k] = (float)(s / sumA);
        }
        return new CamTerms(item, cls, a, w);
    }
}
