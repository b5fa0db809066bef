namespace Salient.Methods;

/// <summary>
/// CAM (Zhou et al. 2016): L^c = Σ_k w_k^c A^k, with w^c the class row of the linear layer reached
/// from the target layer through global average pooling. No ReLU and no bias (as in the paper);
/// normalized min–max for display.
/// </summary>
public sealed class Cam : IExplanationMethod
{
    public string Name => "cam";
    public string Summary => "class activation map: Σ_k w_k^c A^k through a GAP → linear head (Zhou et al. 2016)";
    public bool UsesLayer => true;
    public MapNormalization Normalization => MapNormalization.MinMax;

    public IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        var layer = ctx.RequireLayer(Name);
        var head = LinearHead.Find(ctx.Model.Graph, ctx.Structure, layer);
        var maps = new List<RawMap>();
        for (int item = 0; item < ctx.Items.Count; item++)
        {
            var a = ctx.LayerActivation(item);
            foreach (int cls in ctx.Classes[item])
            {
                var w = head.Row(cls);
                var map = new float[a.Plane];
                for (int k = 0; k < a.C; k++)
                {
                    float wk = w[k];
                    if (wk == 0) continue;
                    var plane = a.Data.AsSpan(k * a.Plane, a.Plane);
                    for (int p = 0; p < map.Length; p++) map[p] += wk * plane[p];
                }
                maps.Add(new RawMap(item, cls, map, a.H, a.W));
            }
        }
        return maps;
    }
}
