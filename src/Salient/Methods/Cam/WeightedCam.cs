namespace Salient.Methods;

/// <summary>
/// The weighted activation terms of one CAM-family map: w ⊙ A for one item and class, with either
/// one weight per channel (CAM, Grad-CAM, Grad-CAM++, XGrad-CAM, Score-CAM, Ablation-CAM) or one
/// weight per element (HiResCAM, LayerCAM).
/// </summary>
internal sealed record CamTerms(int Item, int ClassIndex, Activation A, float[]? ChannelWeights, float[]? ElementWeights = null)
{
    /// <summary>The weighted activations w_k·A_k as C×H×W.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public float[] Weighted()
    {
        var r = new float[A.Data.Length];
        int plane = A.Plane;
        for (int k = 0; k < A.C; k++)
            for (int p = 0; p < plane; p++)
            {
                int i = k * plane + p;
                r[i] = A.Data[i] * (ElementWeights is { } e ? e[i] : ChannelWeights![k]);
            }
        return r;
    }

    /// <summary>Σ_k w_k·A_k per position.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public float[] ChannelSum()
    {
        int plane = A.Plane;
        var map = new float[plane];
        for (int k = 0; k < A.C; k++)
        {
            var a = A.Data.AsSpan(k * plane, plane);
            if (ElementWeights is { } e)
            {
                var w = e.AsSpan(k * plane, plane);
                for (int p = 0; p < plane; p++) map[p] += w[p] * a[p];
            }
            else
            {
                float wk = ChannelWeights![k];
                if (wk == 0) continue;
                for (int p = 0; p < plane; p++) map[p] += wk * a[p];
            }
        }
        return map;
    }
}

/// <summary>
/// Base of the CAM family: a method supplies the weighted activation terms; this class combines
/// them into a map — Σ_k (default) or, with the parameter <c>eigen-smooth=true</c>, the first
/// principal component of the weighted activations — and applies the method's ReLU.
/// </summary>
internal abstract class WeightedCam : IExplanationMethod
{
    public abstract string Name { get; }
    public abstract string Summary { get; }
    public bool UsesLayer => true;
    public virtual bool NeedsGradients => false;
    /// <summary>Whether the map is passed through ReLU (Grad-CAM and most of the family) — CAM is not.</summary>
    protected virtual bool ReluMap => true;
    public virtual MapNormalization Normalization => ReluMap ? MapNormalization.Max : MapNormalization.MinMax;

    /// <summary>Tensors the pipeline should fetch in its one forward run (default: the target layer).</summary>
    public virtual IEnumerable<string> ForwardTensors(MethodContext ctx) => ctx.Layer is { } l ? [l.Name] : [];

    /// <summary>The CAM family's parameters: eigen-smooth (plus what each method adds).</summary>
    public virtual IReadOnlyList<Parameter> Parameters => [CommonParameters.EigenSmooth];

    /// <summary>True for methods defined as a principal component (Eigen-Grad-CAM).</summary>
    protected virtual bool AlwaysEigen => false;

    /// <summary>The weighted activation terms for every (item, class) of the context.</summary>
    protected abstract IReadOnlyList<CamTerms> ComputeTerms(MethodContext ctx);

    public IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        ctx.RequireLayer(Name);
        bool eigen = AlwaysEigen || ctx.Get(CommonParameters.EigenSmooth);
        var maps = new List<RawMap>();
        foreach (var t in ComputeTerms(ctx))
        {
            var map = eigen ? EigenCam.FirstComponentProjection(t.Weighted(), t.A.C, t.A.Plane) : t.ChannelSum();
            if (ReluMap) for (int i = 0; i < map.Length; i++) map[i] = Math.Max(0, map[i]);
            maps.Add(new RawMap(t.Item, t.ClassIndex, map, t.A.H, t.A.W));
        }
        return maps;
    }
}
