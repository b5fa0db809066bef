namespace Salient.Methods;

/// <summary>
/// CAM (Zhou et al. 2016): L^c = Σ_k w_k^c A^k, with w^c the class row of the linear layer reached
/// from the target layer through global average pooling. No ReLU and no bias (as in the paper);
/// normalized min–max for display.
/// </summary>
internal sealed class Cam : WeightedCam
{
    public override string Name => "cam";
    public override string Summary => "class activation map: Σ_k w_k^c A^k through a GAP → linear head (Zhou et al. 2016)";
    protected override bool ReluMap => false;

    protected override IReadOnlyList<CamTerms> ComputeTerms(MethodContext ctx)
    {
        var layer = ctx.RequireLayer(Name);
        ctx.RequireClassLogit(Name, "weights activations with the linear head's class row");
        var head = LinearHead.Find(ctx.Model.Graph, ctx.Structure, layer);
        var terms = new List<CamTerms>();
        for (int item = 0; item < ctx.Items.Count; item++)
        {
            var a = ctx.LayerActivation(item);
            foreach (int cls in ctx.Classes[item])
                terms.Add(new CamTerms(item, cls, a, head.Row(cls)));
        }
        return terms;
    }
}
