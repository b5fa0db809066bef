namespace Salient.Methods;

/// <summary>
/// Eigen-CAM (Muhammad &amp; Yeasin 2020): the projection of the layer's activations (positions ×
/// channels, each channel centred over positions) on their first principal component. Class-agnostic.
/// The sign of a principal component is arbitrary; it is fixed so that the map correlates
/// positively with the plain activation sum Σ_k A^k.
/// </summary>
internal sealed class EigenCam : IExplanationMethod
{
    public string Name => "eigencam";
    public string Summary => "first principal component of the layer's activations (class-agnostic; Muhammad & Yeasin 2020)";
    public bool UsesLayer => true;
    public MapNormalization Normalization => MapNormalization.MinMax;
    public bool ClassAgnostic => true;

    public IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        ctx.RequireLayer(Name);
        var maps = new List<RawMap>();
        for (int item = 0; item < ctx.Items.Count; item++)
        {
            var a = ctx.LayerActivation(item);
            var map = FirstComponentProjection(a.Data, a.C, a.Plane);
            foreach (int cls in ctx.Classes[item]) maps.Add(new RawMap(item, cls, map, a.H, a.W));
        }
        return maps;
    }

    /// <summary>
    /// Projection of the centred positions×channels matrix M on its first right singular vector,
    /// found by power iteration on MᵀM (never forming it). Returns one value per position.
    /// </summary>
    public static float[] FirstComponentProjection(float[] chw, int channels, int positions)
    {
        // Centre each channel over positions (PCA).
        var m = new double[channels * positions];
        for (int k = 0; k < channels; k++)
        {
            double mean = 0;
            for (int p = 0; p < positions; p++) mean += chw[k * positions + p];
            mean /= positions;
            for (int p = 0; p < positions; p++) m[k * positions + p] = chw[k * positions + p] - mean;
        }
        var v = new double[channels];
        var rng = new Random(12345);
        for (int k = 0; k < channels; k++) v[k] = rng.NextDouble() - 0.5;
        Normalize(v);
        var u = new double[positions];
        for (int iter = 0; iter < 500; iter++)
        {
            // u = M v ; v' = Mᵀ u
            Array.Clear(u);
            for (int k = 0; k < channels; k++)
            {
                double vk = v[k];
                if (vk == 0) continue;
                for (int p = 0; p < positions; p++) u[p] += m[k * positions + p] * vk;
            }
            var next = new double[channels];
            for (int k = 0; k < channels; k++)
            {
                double s = 0;
                for (int p = 0; p < positions; p++) s += m[k * positions + p] * u[p];
                next[k] = s;
            }
            if (Normalize(next) == 0) break;
            double diff = 0;
            for (int k = 0; k < channels; k++) diff = Math.Max(diff, Math.Abs(next[k] - v[k]));
            v = next;
            if (diff < 1e-9) break;
        }
        var proj = new float[positions];
        Array.Clear(u);
        for (int k = 0; k < channels; k++)
            for (int p = 0; p < positions; p++) u[p] += m[k * positions + p] * v[k];
        // Sign: correlate positively with the activation sum.
        var sum = new double[positions];
        for (int k = 0; k < channels; k++)
            for (int p = 0; p < positions; p++) sum[p] += chw[k * positions + p];
        double meanU = u.Average(), meanS = sum.Average(), cov = 0;
        for (int p = 0; p < positions; p++) cov += (u[p] - meanU) * (sum[p] - meanS);
        double sign = cov < 0 ? -1 : 1;
        for (int p = 0; p < positions; p++) proj[p] = (float)(sign * u[p]);
        return proj;
    }

    private static double Normalize(double[] v)
    {
        double n = Math.Sqrt(v.Sum(x => x * x));
        if (n == 0) return 0;
        for (int i = 0; i < v.Length; i++) v[i] /= n;
        return n;
    }
}
