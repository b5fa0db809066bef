using Salient.Onnx;

namespace Salient.Autodiff.Rules;

/// <summary>Broadcasting helpers shared by the elementwise rules.</summary>
internal static class Elementwise
{
    /// <summary>
    /// Operand <paramref name="i"/>'s dims as numpy broadcasting sees them (right-aligned); before
    /// opset 7 an operand with broadcast=1 is aligned at 'axis' instead, so pad its dims with ones.
    /// </summary>
    public static long[] Aligned(RuleContext c, int i)
    {
        var dims = c.InDims(i);
        int rank = c.OutDims(0).Length;
        if (c.Opset < 7 && i == 1 && c.Node.GetInt("broadcast", 0) == 1 && dims.Length < rank && c.Node.Has("axis"))
        {
            int axis = Shapes.Axis(c.Node.GetInt("axis", 0), rank);
            var a = Enumerable.Repeat(1L, rank - axis).ToArray();
            for (int j = 0; j < dims.Length; j++) a[j] = dims[j];
            return a;
        }
        return dims;
    }

    /// <summary>The forward value of operand i, reshaped so that numpy broadcasting matches the forward op's.</summary>
    public static string Value(RuleContext c, int i) => c.ReshapeTo(c.Forward(c.In(i)), c.InDims(i), Aligned(c, i));

    /// <summary>Sums a gradient of the output's shape down to operand i.</summary>
    public static string ToOperand(RuleContext c, int i, string g) =>
        c.ReshapeTo(c.ReduceTo(g, c.OutDims(0), Aligned(c, i)), Aligned(c, i), c.InDims(i));
}

/// <summary>Add, Sub (broadcasting): dA = ΣdY, dB = ±ΣdY over the broadcast axes, reshaped to each operand.</summary>
internal sealed class AddSubRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Add", "Sub"];

    public override void Backward(RuleContext c)
    {
        if (c.NeedsGrad(0)) c.AddGrad(0, Elementwise.ToOperand(c, 0, c.G));
        if (c.NeedsGrad(1))
        {
            string g = Elementwise.ToOperand(c, 1, c.G);
            c.AddGrad(1, c.Node.OpType == "Sub" ? c.Neg(g) : g);
        }
    }
}

/// <summary>Mul (broadcasting): dA = Σ(dY·B), dB = Σ(dY·A). Mul(x, Sigmoid(x)) (SiLU) works through this and the Sigmoid rule.</summary>
internal sealed class MulRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Mul"];

    public override void Backward(RuleContext c)
    {
        if (c.NeedsGrad(0)) c.AddGrad(0, Elementwise.ToOperand(c, 0, c.Mul(c.G, Elementwise.Value(c, 1))));
        if (c.NeedsGrad(1)) c.AddGrad(1, Elementwise.ToOperand(c, 1, c.Mul(c.G, Elementwise.Value(c, 0))));
    }
}

/// <summary>Div y = a/b (broadcasting): dA = Σ(dY/B), dB = −Σ(dY·y/B).</summary>
internal sealed class DivRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Div"];

    public override void Backward(RuleContext c)
    {
        string b = Elementwise.Value(c, 1);
        string gb = c.Div(c.G, b);
        if (c.NeedsGrad(0)) c.AddGrad(0, Elementwise.ToOperand(c, 0, gb));
        if (c.NeedsGrad(1)) c.AddGrad(1, Elementwise.ToOperand(c, 1, c.Neg(c.Mul(gb, c.Forward(c.Out(0))))));
    }
}

/// <summary>Sum, Mean (variadic, broadcasting): each input gets ΣdY (÷ n for Mean) over its broadcast axes.</summary>
internal sealed class SumMeanRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Sum", "Mean"];

    public override void Backward(RuleContext c)
    {
        int n = c.Node.Inputs.Count;
        string g = c.Node.OpType == "Mean" ? c.Scale(c.G, 1f / n) : c.G;
        for (int i = 0; i < n; i++)
            if (c.NeedsGrad(i)) c.AddGrad(i, c.ReduceTo(g, c.OutDims(0), c.InDims(i)));
    }
}

/// <summary>
/// Max, Min (variadic, broadcasting): the gradient goes to the inputs equal to the result; ties
/// split it evenly (as PyTorch's maximum/minimum do).
/// </summary>
internal sealed class MaxMinRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Max", "Min"];

    public override void Backward(RuleContext c)
    {
        int n = c.Node.Inputs.Count;
        if (n == 1) { c.AddGrad(0, c.G); return; }
        string y = c.Forward(c.Out(0));
        var eq = new string[n];
        for (int i = 0; i < n; i++)
            eq[i] = c.Emit("Cast", c.Op("Equal", c.Forward(c.In(i)), y)).Set("to", 1L).Outputs[0];
        // Counts broadcast to the output shape: Sum broadcasts its inputs.
        string count = c.Op("Sum", eq);
        string share = c.Div(c.G, count);
        for (int i = 0; i < n; i++)
            if (c.NeedsGrad(i)) c.AddGrad(i, c.ReduceTo(c.Mul(share, eq[i]), c.OutDims(0), c.InDims(i)));
    }
}

/// <summary>Where(cond, a, b): dA = Σ(dY where cond), dB = Σ(dY where not cond).</summary>
internal sealed class WhereRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Where"];

    public override void Backward(RuleContext c)
    {
        string cond = c.Forward(c.In(0));
        string zero = c.Scalar(0f);
        var y = c.OutDims(0);
        if (c.NeedsGrad(1)) c.AddGrad(1, c.ReduceTo(c.Op("Where", cond, c.G, zero), y, c.InDims(1)));
        if (c.NeedsGrad(2)) c.AddGrad(2, c.ReduceTo(c.Op("Where", cond, zero, c.G), y, c.InDims(2)));
    }
}
