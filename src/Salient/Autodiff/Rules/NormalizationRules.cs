namespace Salient.Autodiff.Rules;

/// <summary>
/// BatchNormalization (inference: running statistics are constants): dX = dY · scale/√(var + ε),
/// per channel (axis 1). The coefficient is computed by graph ops on the constants, which ORT folds
/// at session creation. The old per-activation form (spatial=0, opset &lt; 9: statistics of shape
/// [C, D1, …]) broadcasts the same way.
/// </summary>
internal sealed class BatchNormRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["BatchNormalization"];

    public override void Backward(RuleContext c)
    {
        for (int i = 1; i <= 4; i++) c.RequireOffPath(i, "the scale, bias or statistics");
        if (c.Node.GetInt("training_mode", 0) != 0)
            throw c.Fail("training_mode=1 (batch statistics) is not supported; export the model in eval mode");
        float eps = c.Node.GetFloat("epsilon", 1e-5f);
        string scale = c.Forward(c.In(1));
        string var = c.Forward(c.In(4));
        string coef = c.Div(scale, c.Op("Sqrt", c.Add(var, c.Scalar(eps))));
        var sDims = c.InDims(1);
        int rank = c.InRank(0);
        if (sDims.Length == 1 && rank > 2)
        {
            var dims = Enumerable.Repeat(1L, rank - 1).ToArray();
            dims[0] = sDims[0];
            coef = c.Reshape(coef, dims);
        }
        c.AddGrad(0, c.Mul(c.G, coef));
    }
}

/// <summary>Shared Jacobian-vector product of "normalize over some axes, then scale".</summary>
internal static class Normalize
{
    /// <summary>
    /// y = x̂·γ + β with x̂ = (x − μ)/σ over <paramref name="axes"/>, σ = √(var + ε) (biased var):
    /// dX = (1/σ)·(gγ − mean(gγ) − x̂·mean(gγ·x̂)), the means over the same axes. μ and σ are
    /// recomputed from x in the backward graph.
    /// </summary>
    public static string Backward(RuleContext c, string x, string gScaled, long[] axes, float eps)
    {
        string mu = c.ReduceMean(x, axes, keepDims: true);
        string d = c.Sub(x, mu);
        string var = c.ReduceMean(c.Mul(d, d), axes, keepDims: true);
        string inv = c.Op("Reciprocal", c.Op("Sqrt", c.Add(var, c.Scalar(eps))));
        string xhat = c.Mul(d, inv);
        string m1 = c.ReduceMean(gScaled, axes, keepDims: true);
        string m2 = c.ReduceMean(c.Mul(gScaled, xhat), axes, keepDims: true);
        return c.Mul(inv, c.Sub(c.Sub(gScaled, m1), c.Mul(xhat, m2)));
    }
}

/// <summary>InstanceNormalization: the full input gradient (statistics over the spatial axes of each item and channel).</summary>
internal sealed class InstanceNormRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["InstanceNormalization"];

    public override void Backward(RuleContext c)
    {
        c.RequireOffPath(1, "the scale");
        c.RequireOffPath(2, "the bias");
        int rank = c.InRank(0);
        float eps = c.Node.GetFloat("epsilon", 1e-5f);
        var dims = Enumerable.Repeat(1L, rank - 1).ToArray();
        dims[0] = c.InDims(1)[0];
        string scale = c.Reshape(c.Forward(c.In(1)), dims);
        var axes = Enumerable.Range(2, rank - 2).Select(i => (long)i).ToArray();
        c.AddGrad(0, Normalize.Backward(c, c.Forward(c.In(0)), c.Mul(c.G, scale), axes, eps));
    }
}

/// <summary>LayerNormalization (opset 17): the full input gradient over the axes [axis, rank). Mean/InvStdDev outputs carry no gradient.</summary>
internal sealed class LayerNormRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["LayerNormalization"];

    public override void Backward(RuleContext c)
    {
        c.RequireOffPath(1, "the scale");
        c.RequireOffPath(2, "the bias");
        if (c.OutGrad(1) is not null || c.OutGrad(2) is not null)
            throw c.Fail("gradients through its Mean/InvStdDev outputs are not supported");
        int rank = c.InRank(0);
        int axis = Salient.Onnx.Shapes.Axis(c.Node.GetInt("axis", -1), rank);
        float eps = c.Node.GetFloat("epsilon", 1e-5f);
        var axes = Enumerable.Range(axis, rank - axis).Select(i => (long)i).ToArray();
        string gs = c.Mul(c.G, c.Forward(c.In(1)));
        c.AddGrad(0, Normalize.Backward(c, c.Forward(c.In(0)), gs, axes, eps));
    }
}

/// <summary>
/// LRN: y = x·d^−β, d = bias + α/n·Σ_window x² (window over channels [c − ⌊(n−1)/2⌋, c + ⌈(n−1)/2⌉]).
/// dX = dY·d^−β − (2αβ/n)·x·Wᵀ(dY·x·d^(−β−1)), where W is the channel-window sum and Wᵀ its
/// adjoint (the same window with the pads swapped); window sums are Convs with a ones kernel.
/// </summary>
internal sealed class LrnRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["LRN"];

    public override void Backward(RuleContext c)
    {
        var n = c.Node;
        long size = n.GetInt("size", 0);
        if (size <= 0) throw c.Fail("size must be positive");
        float alpha = n.GetFloat("alpha", 1e-4f), beta = n.GetFloat("beta", 0.75f), bias = n.GetFloat("bias", 1f);
        var dims = c.InDims(0);
        long rest = 1;
        for (int i = 2; i < dims.Length; i++) rest *= dims[i];
        var flat = new[] { dims[0], 1, dims[1], rest };
        long lo = (size - 1) / 2, hi = size - 1 - lo;
        string kernel = c.Emit("ConstantOfShape", c.IntsConst(1, 1, size, 1))
            .Set("value", Salient.Onnx.Tensor.FromFloats("value", [1], [1f])).Outputs[0];
        string Window(string t, long before, long after)
        {
            string r = c.Reshape(t, flat);
            string s = c.Emit("Conv", r, kernel).Set("kernel_shape", new long[] { size, 1 })
                .Set("pads", new long[] { before, 0, after, 0 }).Outputs[0];
            return c.Reshape(s, dims);
        }
        string x = c.Forward(c.In(0));
        string d = c.Add(c.Scalar(bias), c.Scale(Window(c.Mul(x, x), lo, hi), alpha / size));
        string term1 = c.Mul(c.G, c.Op("Pow", d, c.Scalar(-beta)));
        string t = c.Mul(c.Mul(c.G, x), c.Op("Pow", d, c.Scalar(-beta - 1)));
        string term2 = c.Mul(x, c.Scale(Window(t, hi, lo), 2 * alpha * beta / size));
        c.AddGrad(0, c.Sub(term1, term2));
    }
}
