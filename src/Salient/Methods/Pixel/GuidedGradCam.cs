using Salient.Autodiff;

namespace Salient.Methods;

/// <summary>
/// Guided Grad-CAM (Selvaraju et al.): the guided-backprop gradient multiplied pointwise by the
/// Grad-CAM map — which the pipeline computes (<see cref="MethodContext.Compose"/>: the request's
/// layers, normalized to [0,1], averaged over layers, on the input grid) from the same forward pass.
/// The <c>relu</c> parameter applies to the Grad-CAM factor; the gradient factor is always guided.
/// </summary>
internal sealed class GuidedGradCam : PixelGradientMethod
{
    public override string Name => "guided-gradcam";
    public override string Summary => "guided Grad-CAM: guided backprop ⊙ upsampled Grad-CAM (class-discriminative, high resolution)";
    public override bool ImageValued => true;
    public override IReadOnlyList<string> Composes => ["gradcam"];
    protected override ReluMode? DirectRelu(MethodContext ctx) => ReluMode.Guided;

    public override IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        int h = H(ctx), w = W(ctx), c = C(ctx), plane = h * w;
        var pairs = GradientRuns.ItemClassPairs(ctx);
        var cams = ctx.Compose("gradcam");
        var guided = DirectInputGradients(ctx, ReluMode.Guided);
        var result = new List<RawMap>(pairs.Count);
        for (int i = 0; i < pairs.Count; i++)
        {
            var prod = new float[c * plane];
            for (int k = 0; k < c; k++) for (int p = 0; p < plane; p++) prod[k * plane + p] = guided[i][k * plane + p] * cams[i][p];
            result.Add(new RawMap(pairs[i].Item, pairs[i].Class, MaxAbsOverChannels(prod, c, plane), h, w, prod, c));
        }
        return result;
    }
}
