namespace Salient.Autodiff.Rules;

// The ReLU-like ops. Each rule describes its op's local derivative to the request's ReluMode
// (RuleContext.ReluBackward): where it passes (a bool mask, built only if the mode asks) and the
// slope elsewhere (none for Relu and Clip). The mode decides what flows back.

/// <summary>
/// Relu: passes where y &gt; 0 (y &gt; 0 ⇔ x &gt; 0; the output is used so ORT can still fuse
/// Conv+Relu), slope 0 elsewhere.
/// </summary>
internal sealed class ReluGradientRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Relu"];

    public override void Backward(RuleContext c) =>
        c.AddGrad(0, c.ReluBackward(() => c.Op("Greater", c.Forward(c.Out(0)), c.Scalar(0f))));
}

/// <summary>
/// LeakyRelu (alpha, default 0.01): passes where x &gt; 0 (read from the output when alpha &gt; 0),
/// slope alpha elsewhere.
/// </summary>
internal sealed class LeakyReluRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["LeakyRelu"];

    public override void Backward(RuleContext c)
    {
        float alpha = c.Node.GetFloat("alpha", 0.01f);
        c.AddGrad(0, c.ReluBackward(
            () => alpha > 0
                ? c.Op("Greater", c.Forward(c.Out(0)), c.Scalar(0f))
                : c.Op("Greater", c.Forward(c.In(0)), c.Scalar(0f)),
            g => c.Scale(g, alpha)));
    }
}

/// <summary>
/// PRelu: passes where x &gt; 0, the slope tensor (broadcast as in the forward) elsewhere. The
/// slope's own gradient is not computed.
/// </summary>
internal sealed class PReluRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["PRelu"];

    public override void Backward(RuleContext c)
    {
        c.RequireOffPath(1, "the slope");
        c.AddGrad(0, c.ReluBackward(() => c.Op("Greater", c.Forward(c.In(0)), c.Scalar(0f)), g => c.Mul(g, Slope(c))));
    }

    private static string Slope(RuleContext c)
    {
        var slopeDims = c.InDims(1);
        string slope = c.Forward(c.In(1));
        if (c.Opset < 7 && slopeDims.Length == 1 && c.InRank(0) > 2)
        {
            // PRelu-6 broadcasts a per-channel slope along axis 1.
            var dims = Enumerable.Repeat(1L, c.InRank(0) - 1).ToArray();
            dims[0] = slopeDims[0];
            slope = c.Reshape(slope, dims);
        }
        return slope;
    }
}

/// <summary>
/// Clip (min/max as attributes before opset 11, optional inputs from 11): dX = dY where
/// min &lt; y &lt; max (read from the output). With min = 0 (ReLU6 and friends) it is ReLU-like and
/// the ReluMode decides (pass region 0 &lt; y &lt; max, slope 0 elsewhere); with another minimum
/// the standard derivative is used under every mode.
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
        c.AddGrad(0, reluLike ? c.ReluBackward(Pass) : c.Mask(Pass(), c.G));
    }
}
