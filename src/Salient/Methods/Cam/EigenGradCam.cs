namespace Salient.Methods;

/// <summary>
/// Eigen-Grad-CAM: the first principal component of G ⊙ A (sign fixed to correlate positively with
/// Σ_k G^k ⊙ A^k), as in Eigen-CAM but class-discriminative through the gradient.
/// </summary>
internal sealed class EigenGradCam : GradientCam
{
    public override string Name => "eigengradcam";
    public override string Summary => "Eigen-Grad-CAM: first principal component of G ⊙ A (class-discriminative Eigen-CAM)";
    protected override bool ReluMap => false;
    protected override CamTerms Terms(int item, int cls, Activation a, Activation g)
    {
        // Present G⊙A as the activation with unit weights so Eigen-CAM's sign rule (positive
        // correlation with the plain sum) applies to the class-weighted sum.
        var ga = new float[a.Data.Length];
        for (int i = 0; i < ga.Length; i++) ga[i] = a.Data[i] * g.Data[i];
        var ones = new float[a.C];
        Array.Fill(ones, 1f);
        return new CamTerms(item, cls, a with { Data = ga }, ones);
    }

    protected override bool AlwaysEigen => true;
}
