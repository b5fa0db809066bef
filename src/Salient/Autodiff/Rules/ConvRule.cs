namespace Salient.Autodiff.Rules;

/// <summary>
/// Conv (any rank, groups incl. depthwise, strides, dilations, pads, auto_pad):
/// dX = ConvTranspose(dY, W) with the same weights, group, strides and dilations, and pads /
/// output_padding computed from the known shapes so dX has exactly X's shape.
/// Weight and bias gradients are never computed.
/// </summary>
internal sealed class ConvRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Conv"];

    public override void Backward(RuleContext c)
    {
        c.RequireOffPath(1, "the weights");
        c.RequireOffPath(2, "the bias");
        if (!c.NeedsGrad(0)) return;
        var x = c.InDims(0);
        var w = c.InDims(1);
        var y = c.OutDims(0);
        var kernel = c.Node.GetInts("kernel_shape") is { Length: > 0 } k ? k : w[2..];
        var geo = ConvGeometry.ForWindow(c, kernel, x[2..], y[2..]);
        long group = c.Node.GetInt("group", 1);
        string weights = c.Forward(c.In(1));
        c.AddGrad(0, geo.TransposedWindowSum(c, c.G, weights, group, x[2..], y[2..]));
    }
}
