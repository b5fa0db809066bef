using Salient.Autodiff;
using Salient.Imaging;

namespace Salient.Methods;

/// <summary>
/// Base of the gradient CAM family: one engine run gives, per (item, class), the target layer's
/// activation A and the gradient G = ∂y^c/∂A of the pre-softmax logit; subclasses turn (A, G) into
/// channel or element weights.
/// </summary>
public abstract class GradientCam : WeightedCam
{
    protected abstract CamTerms Terms(int item, int cls, Activation a, Activation g);

    /// <summary>
    /// The layer, plus — when the backward program is cheap to feed — every forward value it reads,
    /// so the pipeline's single forward run serves the backward pass too (no second forward).
    /// </summary>
    public override IEnumerable<string> ForwardTensors(MethodContext ctx)
    {
        var layer = ctx.RequireLayer(Name);
        var program = FastProgram(ctx, layer);
        return program is null ? [layer.Name] : [layer.Name, .. program.BackwardForwardInputs];
    }

    /// <summary>The backward program for the items' batch when it can run from float forward values of modest size; else null.</summary>
    private static BackwardProgram? FastProgram(MethodContext ctx, Models.LayerInfo layer)
    {
        var model = ctx.Model;
        if (!model.Input.DynamicBatch && ctx.Items.Count != model.Input.FixedBatch) return null;
        var relu = GradientRuns.ParseRelu(ctx.Parameter("relu"), ReluMode.Standard);
        var shape = model.Input.ShapeFor(ctx.Items.Count, model.InputSize.Height, model.InputSize.Width);
        var program = model.Gradients.Build(new GradientRequest { ScoreTensor = ctx.Structure.LogitsName, Wrt = [layer.Name], Relu = relu, SeedIndices = true }, shape);
        if (!program.CanRunBackwardFromFloats) return null;
        long layerSize = Onnx.Tensor.ElementCount(layer.Shape);
        long needed = program.BackwardForwardInputs.Sum(t => ctx.Structure.Shapes.TryGetValue(t, out var s) ? s.Count : long.MaxValue / 64);
        return needed <= Math.Max(4 * layerSize, 1L << 20) ? program : null;
    }

    protected override IReadOnlyList<CamTerms> ComputeTerms(MethodContext ctx)
    {
        var layer = ctx.RequireLayer(Name);
        if (FastProgram(ctx, layer) is { } program) return ComputeFromForward(ctx, layer, program);
        var pairs = GradientRuns.ItemClassPairs(ctx);
        var rows = pairs.Select(p => new GradientRow(ctx.Items[p.Item].Tensor, p.Class)).ToList();
        var relu = GradientRuns.ParseRelu(ctx.Parameter("relu"), ReluMode.Standard);
        var results = GradientRuns.Run(ctx, rows, [layer.Name], relu);
        var layout = layer.Layout ?? TensorLayout.Nchw;
        var terms = new List<CamTerms>(pairs.Count);
        for (int i = 0; i < pairs.Count; i++)
        {
            var a = GradientRuns.AsChw(results[i].Forward[layer.Name], layer.Shape, layout);
            var g = GradientRuns.AsChw(results[i].Gradients[layer.Name], layer.Shape, layout);
            terms.Add(Terms(pairs[i].Item, pairs[i].Class, a, g));
        }
        return terms;
    }

    /// <summary>One backward run per class slot, all reusing the pipeline's forward values.</summary>
    private List<CamTerms> ComputeFromForward(MethodContext ctx, Models.LayerInfo layer, BackwardProgram program)
    {
        var model = ctx.Model;
        var input = program.BackwardReadsModelInput ? model.Pack(ctx.Items) : null;
        var forward = new Dictionary<string, Runtime.TensorValue>(StringComparer.Ordinal);
        var needed = program.BackwardForwardInputs.Append(ctx.Structure.LogitsName).Append(layer.Name).Distinct().ToList();
        ctx.Prefetch(needed);
        foreach (var t in needed) forward[t] = ctx.Forward(t);
        var layout = layer.Layout ?? TensorLayout.Nchw;
        return GradientRuns.PerClassSlot(ctx, seed => program.RunBackward(input, forward, seed),
            (grads, i, cls) => Terms(i, cls, Activation.FromTensor(forward[layer.Name], i, layout), Activation.FromTensor(grads[layer.Name], i, layout)));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    protected static float[] SpatialMean(Activation g)
    {
        var w = new float[g.C];
        for (int k = 0; k < g.C; k++)
        {
            double s = 0;
            var plane = g.Data.AsSpan(k * g.Plane, g.Plane);
            foreach (var v in plane) s += v;
            w[k] = (float)(s / g.Plane);
        }
        return w;
    }
}

/// <summary>Grad-CAM (Selvaraju et al.): ReLU(Σ_k α_k A^k), α_k = spatial mean of ∂y^c/∂A^k.</summary>
public sealed class GradCam : GradientCam
{
    public override string Name => "gradcam";
    public override string Summary => "Grad-CAM: ReLU(Σ_k α_k A^k), α_k = mean of ∂y^c/∂A^k (Selvaraju et al. 2017); any layer";
    protected override CamTerms Terms(int item, int cls, Activation a, Activation g) => new(item, cls, a, SpatialMean(g));
}

/// <summary>
/// Grad-CAM++ (Chattopadhyay et al. 2018) with the closed-form α for an exponential score S = exp(y^c):
/// α_kij = g² / (2g² + Σ_ab A_kab g³), w_k = Σ_ij α_kij ReLU(g_kij), g = ∂y^c/∂A. The common factor
/// exp(y^c) of ∂S/∂A is dropped (it only scales the map, which is normalized).
/// </summary>
public sealed class GradCamPlusPlus : GradientCam
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

/// <summary>XGrad-CAM (Fu et al. 2020): w_k = Σ_ij (A_kij / Σ_ab A_kab) · ∂y^c/∂A_kij.</summary>
public sealed class XGradCam : GradientCam
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

/// <summary>HiResCAM (Draelos &amp; Carin 2020): ReLU(Σ_k ∂y^c/∂A^k ⊙ A^k) — element-wise gradient weights.</summary>
public sealed class HiResCam : GradientCam
{
    public override string Name => "hirescam";
    public override string Summary => "HiResCAM: ReLU(Σ_k G^k ⊙ A^k), faithful element-wise weights (Draelos & Carin 2020)";
    protected override CamTerms Terms(int item, int cls, Activation a, Activation g) => new(item, cls, a, null, g.Data);
}

/// <summary>LayerCAM (Jiang et al. 2021): ReLU(Σ_k ReLU(∂y^c/∂A^k) ⊙ A^k).</summary>
public sealed class LayerCam : GradientCam
{
    public override string Name => "layercam";
    public override string Summary => "LayerCAM: ReLU(Σ_k ReLU(G^k) ⊙ A^k), good on shallow layers (Jiang et al. 2021)";
    protected override CamTerms Terms(int item, int cls, Activation a, Activation g) =>
        new(item, cls, a, null, Array.ConvertAll(g.Data, v => Math.Max(0, v)));
}

/// <summary>
/// Eigen-Grad-CAM: the first principal component of G ⊙ A (sign fixed to correlate positively with
/// Σ_k G^k ⊙ A^k), as in Eigen-CAM but class-discriminative through the gradient.
/// </summary>
public sealed class EigenGradCam : GradientCam
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
