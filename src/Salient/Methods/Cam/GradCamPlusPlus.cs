namespace Salient.Methods;

/// <summary>
/// Grad-CAM++ (Chattopadhyay et al. 2018) with the closed-form α for an exponential score S = exp(y^c):
/// α_kij = g² / (2g² + Σ_ab A_kab g³), w_k = Σ_ij α_kij ReLU(g_kij), g = ∂y^c/∂A. The common factor
/// exp(y^c) of ∂S/∂A is dropped (it only scales the map, which is normalized).
/// </summary>
internal sealed class GradCamPlusPlus : GradientCam
{
    public override string Name => "gradcam++";
    public override string Summary => "Grad-CAM++: pixel-weighted gradients, closed-form α for exp scores (Chattopadhyay et al. 2018)";
    protected override CamTerms Terms(int item, int cls, Activation a, Activation g)
    {
        var w = new float[a.C];
        for (int k = 0; k < a.C; k++)
        {
            double sumA = 0;
            for (int p = 0; p < a.Plane; p++) sumA += a.Data[k * a.Plane + p];
            double wk = 0;
            for (int p = 0; p < a.Plane; p++)
            {
                double gv = g.Data[k * a.Plane + p];
                double g2 = gv * gv, g3 = g2 * gv;
                double denom = 2 * g2 + sumA * g3;
                double alpha = denom != 0 ? g2 / denom : 0;
                wk += alpha * Math.Max(0, gv);
            }
            w[k] = (float)wk;
        }
        return new CamTerms(item, cls, a, w);
    }
}
