namespace Salient.Methods;

/// <summary>
/// KPCA-CAM (Karmani et al. 2024): Eigen-CAM with kernel PCA. The layer's activations as positions ×
/// channels, each channel centred over the positions, are projected on the first kernel principal
/// component (<see cref="KernelPca"/>; default kernel sigmoid tanh(γ⟨x,y⟩ + 1), γ = 1/channels, as
/// pytorch-grad-cam's KPCA_CAM with scikit-learn's KernelPCA defaults); map = ReLU of the projection.
/// The component's sign is scikit-learn's (its largest-magnitude entry positive). Class-agnostic.
/// </summary>
internal sealed class KpcaCam : IExplanationMethod
{
    public static readonly ChoiceParameter Kernel = new("kernel", "sigmoid",
        "kernel of the kernel PCA: sigmoid tanh(γ⟨x,y⟩+1), rbf exp(−γ‖x−y‖²), poly (γ⟨x,y⟩+1)³, linear, cosine",
        "sigmoid", "rbf", "poly", "linear", "cosine");
    public static readonly NumberParameter Gamma = new("gamma", 0, "kernel coefficient γ; 0 = 1/channels (scikit-learn's default)", 0);

    public string Name => "kpcacam";
    public string Summary => "KPCA-CAM: first kernel principal component of the layer's activations (Karmani et al. 2024); kernel, gamma; class-agnostic";
    public bool UsesLayer => true;
    public MapNormalization Normalization => MapNormalization.Max;
    public bool ClassAgnostic => true;
    public IReadOnlyList<Parameter> Parameters => [Kernel, Gamma];

    public IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        ctx.RequireLayer(Name);
        var kernel = Enum.Parse<PcaKernel>(ctx.Get(Kernel), ignoreCase: true);
        double gamma = ctx.Get(Gamma);
        var maps = new List<RawMap>();
        for (int item = 0; item < ctx.Items.Count; item++)
        {
            var a = ctx.LayerActivation(item);
            CheckSize(a, ctx.Layer!.Name);
            var map = Map(a, kernel, gamma > 0 ? gamma : 1.0 / a.C);
            foreach (int cls in ctx.Classes[item]) maps.Add(new RawMap(item, cls, map, a.H, a.W));
        }
        return maps;
    }

    /// <summary>The most positions whose kernel matrix (positions², doubles: 128 MB at the limit) KPCA-CAM builds.</summary>
    internal const int MaxPositions = 4096;

    internal static void CheckSize(Activation a, string layer)
    {
        if (a.Plane > MaxPositions)
            throw new SalientException($"KPCA-CAM builds a positions × positions kernel matrix and layer '{layer}' has {a.H}×{a.W} = {a.Plane} positions (at most {MaxPositions}); choose a later layer");
    }

    /// <summary>ReLU of the first kernel principal component of the centred positions × channels matrix.</summary>
    internal static float[] Map(Activation a, PcaKernel kernel, double gamma)
    {
        int n = a.Plane, d = a.C;
        var x = new double[n * d];
        for (int c = 0; c < d; c++)
        {
            double mean = 0;
            for (int p = 0; p < n; p++) mean += a.Data[c * n + p];
            mean /= n;
            for (int p = 0; p < n; p++) x[p * d + c] = a.Data[c * n + p] - mean;
        }
        var proj = KernelPca.FirstComponent(x, n, d, kernel, gamma);
        return proj.Select(v => (float)Math.Max(0, v)).ToArray();
    }
}
