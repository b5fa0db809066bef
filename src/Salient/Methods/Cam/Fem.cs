namespace Salient.Methods;

/// <summary>
/// FEM, the Feature Explanation Method (Fuad et al. 2020), as pytorch-grad-cam computes it: a channel's
/// weight is the fraction of its positions whose activation exceeds the channel's mean plus k standard
/// deviations (population σ over the positions) — how often the channel fires unusually strongly — and the
/// map is ReLU(Σ_k w_k A_k). No gradients; class-agnostic.
/// </summary>
internal sealed class Fem : WeightedCam, IExplanationMethod
{
    public static readonly NumberParameter K = new("k", 2, "threshold in standard deviations above a channel's mean (the k-sigma rule)");

    public override string Name => "fem";
    public override string Summary => "FEM: channel weight = fraction of positions above mean + k·σ (k-sigma rule; Fuad et al. 2020); class-agnostic, no gradients";
    public bool ClassAgnostic => true;
    public override IReadOnlyList<Parameter> Parameters => [.. base.Parameters, K];

    protected override IReadOnlyList<CamTerms> ComputeTerms(MethodContext ctx)
    {
        double k = ctx.Get(K);
        var terms = new List<CamTerms>();
        for (int item = 0; item < ctx.Items.Count; item++)
        {
            var a = ctx.LayerActivation(item);
            var w = Weights(a, k);
            foreach (int cls in ctx.Classes[item]) terms.Add(new CamTerms(item, cls, a, w));
        }
        return terms;
    }

    /// <summary>Per channel: the fraction of positions where A_k &gt; mean(A_k) + k·σ(A_k).</summary>
    internal static float[] Weights(Activation a, double k)
    {
        var w = new float[a.C];
        int plane = a.Plane;
        for (int c = 0; c < a.C; c++)
        {
            var x = a.Data.AsSpan(c * plane, plane);
            double mean = 0;
            foreach (var v in x) mean += v;
            mean /= plane;
            double var = 0;
            foreach (var v in x) var += (v - mean) * (v - mean);
            double threshold = mean + k * Math.Sqrt(var / plane);
            int above = 0;
            foreach (var v in x) if (v > threshold) above++;
            w[c] = (float)above / plane;
        }
        return w;
    }
}
