using Salient.Autodiff;

namespace Salient.Methods;

/// <summary>
/// Finer-CAM (Zhang et al. 2025), as pytorch-grad-cam's FinerCAM with its default Grad-CAM base: Grad-CAM
/// of a score that compares the target class c with the classes whose logits are closest to its own
/// (the <c>compare</c> nearest by |y_j − y_c|, c itself excluded):
/// S = Σ_j p_j (y_c − α y_j) / (Σ_j p_j + 10⁻⁹), p = softmax of the logits. The softmax weights are
/// differentiated too (they are part of the reference's score), so the seed on the logits is ∂S/∂y,
/// computed here in closed form and run as a dense seed through the engine. Map = ReLU(Σ_k α_k A^k),
/// α_k = spatial mean of ∂S/∂A^k. It keeps what tells c apart from its look-alikes.
/// </summary>
internal sealed class FinerCam : WeightedCam
{
    public static readonly IntParameter Compare = new("compare", 3, "how many of the most similar classes (closest logits) the target is compared with", 1, 1000);
    public static readonly NumberParameter Strength = new("strength", 1, "comparison strength α in y_c − α·y_j (the reference's alpha)");

    public override string Name => "finercam";
    public override bool NeedsGradients => true;
    public override string Summary => "Finer-CAM: Grad-CAM of the target's logit minus its most similar classes', softmax-weighted (Zhang et al. 2025); compare, strength";
    public override IReadOnlyList<Parameter> Parameters => [.. base.Parameters, Compare, Strength, CommonParameters.Relu, CommonParameters.BatchSize];

    protected override IReadOnlyList<CamTerms> ComputeTerms(MethodContext ctx)
    {
        var layer = ctx.RequireLayer(Name);
        ctx.RequireClassLogit(Name, "compares the class's logit with the logits of its most similar classes");
        var model = ctx.Model;
        int classes = ctx.Structure.ClassCount, compare = ctx.Get(Compare) ?? 3;
        double alpha = ctx.Get(Strength);
        var relu = GradientRuns.Relu(ctx.Get(CommonParameters.Relu));
        var request = new GradientRequest { ScoreTensor = ctx.Structure.LogitsName, Wrt = [layer.Name], Relu = relu };
        int n = ctx.Items.Count;
        if (!model.Input.DynamicBatch && n != model.Input.FixedBatch)
            throw new SalientException($"the model takes batches of exactly {model.Input.FixedBatch}; Finer-CAM got {n} images");
        var program = model.Gradients.Build(request, model.Input.ShapeFor(n, model.InputSize.Height, model.InputSize.Width));
        using var pass = program.Forward(model.Pack(ctx.Items));
        var logits = pass.Value(ctx.Structure.LogitsName).Data;
        var layout = layer.Layout ?? TensorLayout.Nchw;
        var activation = pass.Value(layer.Name);
        return GradientRuns.PerClassSlot(ctx, cls =>
        {
            var seed = new float[n * classes];
            for (int i = 0; i < n; i++)
                Seed(logits.AsSpan(i * classes, classes), (int)cls[i], compare, alpha).CopyTo(seed.AsSpan(i * classes, classes));
            return pass.Backward(seed);
        }, (grads, i, cls) =>
        {
            var g = Activation.FromTensor(grads[layer.Name], i, layout);
            var a = Activation.FromTensor(activation, i, layout);
            var w = new float[g.C];
            for (int k = 0; k < g.C; k++)
            {
                double s = 0;
                foreach (var v in g.Data.AsSpan(k * g.Plane, g.Plane)) s += v;
                w[k] = (float)(s / g.Plane);
            }
            return new CamTerms(i, cls, a, w);
        });
    }

    /// <summary>The classes compared with <paramref name="target"/>: the <paramref name="count"/> others with the closest logits (stable order).</summary>
    internal static int[] Similar(ReadOnlySpan<float> logits, int target, int count)
    {
        float yc = logits[target];
        var diff = new float[logits.Length];
        for (int j = 0; j < diff.Length; j++) diff[j] = Math.Abs(logits[j] - yc);
        return Enumerable.Range(0, logits.Length).Where(j => j != target).OrderBy(j => diff[j]).ThenBy(j => j).Take(count).ToArray();
    }

    /// <summary>∂S/∂y for S = Σ_j p_j (y_c − α y_j) / (Σ_j p_j + 10⁻⁹), p = softmax(y), j over the compared classes.</summary>
    internal static float[] Seed(ReadOnlySpan<float> logits, int target, int compare, double alpha)
    {
        int m = logits.Length;
        var p = Statistics.SoftmaxPrecise(logits);
        var js = Similar(logits, target, Math.Min(compare, m - 1));
        double yc = logits[target], num = 0, den = 1e-9;
        foreach (int j in js)
        {
            num += p[j] * (yc - alpha * logits[j]);
            den += p[j];
        }
        // ∂p_j/∂y_l = p_j (δ_jl − p_l).
        var grad = new float[m];
        for (int l = 0; l < m; l++)
        {
            double dNum = 0, dDen = 0;
            foreach (int j in js)
            {
                double dp = p[j] * ((j == l ? 1 : 0) - p[l]);
                dNum += dp * (yc - alpha * logits[j]) + p[j] * ((l == target ? 1 : 0) - (l == j ? alpha : 0));
                dDen += dp;
            }
            grad[l] = (float)((dNum * den - num * dDen) / (den * den));
        }
        return grad;
    }
}
