namespace Salient.Autodiff.Rules;

/// <summary>
/// Relu: dX = dY where y &gt; 0 (y &gt; 0 ⇔ x &gt; 0; the output is used so ORT can still fuse Conv+Relu).
/// Guided: max(dY,0) where y &gt; 0. Deconvnet: max(dY,0).
/// </summary>
internal sealed class ReluOpRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Relu"];

    public override void Backward(RuleContext c) =>
        c.AddGrad(0, c.Rectify(c.G, () => c.Op("Greater", c.Forward(c.Out(0)), c.Scalar(0f))));
}

/// <summary>
/// LeakyRelu (alpha, default 0.01): dX = dY · (x &gt; 0 ? 1 : alpha), the mask read from the output
/// when alpha &gt; 0. Guided: max(dY,0) · slope(x); Deconvnet: max(dY,0).
/// </summary>
internal sealed class LeakyReluRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["LeakyRelu"];

    public override void Backward(RuleContext c)
    {
        float alpha = c.Node.GetFloat("alpha", 0.01f);
        string g = c.Relu == ReluRule.Standard ? c.G : c.Op("Relu", c.G);
        if (c.Relu == ReluRule.Deconvnet) { c.AddGrad(0, g); return; }
        string positive = alpha > 0
            ? c.Op("Greater", c.Forward(c.Out(0)), c.Scalar(0f))
            : c.Op("Greater", c.Forward(c.In(0)), c.Scalar(0f));
        c.AddGrad(0, c.Op("Where", positive, g, c.Scale(g, alpha)));
    }
}

/// <summary>
/// PRelu: dX = dY · (x &gt; 0 ? 1 : slope) (slope broadcast as in the forward). Same ReLU-rule
/// treatment as LeakyRelu. The slope's own gradient is not computed.
/// </summary>
internal sealed class PReluRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["PRelu"];

    public override void Backward(RuleContext c)
    {
        c.RequireOffPath(1, "the slope");
        string g = c.Relu == ReluRule.Standard ? c.G : c.Op("Relu", c.G);
        if (c.Relu == ReluRule.Deconvnet) { c.AddGrad(0, g); return; }
        string positive = c.Op("Greater", c.Forward(c.In(0)), c.Scalar(0f));
        var slopeDims = c.InDims(1);
        string slope = c.Forward(c.In(1));
        if (c.Opset < 7 && slopeDims.Length == 1 && c.InRank(0) > 2)
        {
            // PRelu-6 broadcasts a per-channel slope along axis 1.
            var dims = Enumerable.Repeat(1L, c.InRank(0) - 1).ToArray();
            dims[0] = slopeDims[0];
            slope = c.Reshape(slope, dims);
        }
        c.AddGrad(0, c.Op("Where", positive, g, c.Mul(g, slope)));
    }
}

/// <summary>
/// Clip (min/max as attributes before opset 11, optional inputs from 11): dX = dY where
/// min &lt; y &lt; max (read from the output). With min = 0 (ReLU6 and friends) it is ReLU-like:
/// Guided = max(dY,0) where 0 &lt; y &lt; max, Deconvnet = max(dY,0).
/// </summary>
internal sealed class ClipRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Clip"];

    public override void Backward(RuleContext c)
    {
        string? lo, hi;
        bool reluLike;
        if (c.Opset < 11)
        {
            lo = c.Node.Has("min") ? c.Scalar(c.Node.GetFloat("min", 0)) : null;
            hi = c.Node.Has("max") ? c.Scalar(c.Node.GetFloat("max", 0)) : null;
            reluLike = c.Node.Has("min") && c.Node.GetFloat("min", -1) == 0f;
        }
        else
        {
            c.RequireOffPath(1, "the minimum");
            c.RequireOffPath(2, "the maximum");
            lo = c.HasIn(1) ? c.Forward(c.In(1)) : null;
            hi = c.HasIn(2) ? c.Forward(c.In(2)) : null;
            reluLike = c.HasIn(1) && c.FloatValues(c.In(1)) is { Length: 1 } v && v[0] == 0f;
        }
        string Pass()
        {
            string y = c.Forward(c.Out(0));
            string? above = lo is null ? null : c.Op("Greater", y, lo);
            string? below = hi is null ? null : c.Op("Less", y, hi);
            return above is null ? below ?? c.Op("Equal", y, y)
                : below is null ? above
                : c.Op("And", above, below);
        }
        if (lo is null && hi is null) { c.AddGrad(0, c.G); return; }
        c.AddGrad(0, reluLike ? c.Rectify(c.G, Pass) : c.Mask(Pass(), c.G));
    }
}
