using Salient.Onnx;

namespace Salient.Autodiff.Rules;

/// <summary>
/// ReduceSum/Mean/Max/Min/SumSquare/L1/L2/LogSumExp (axes as attribute before opset 18 — 13 for
/// ReduceSum — and as input from then on; keepdims; noop_with_empty_axes). dY is reshaped to the
/// keepdims shape and broadcast back: Sum → dY, Mean → dY/count, Max/Min → dY on the positions
/// equal to the result (ties split evenly), SumSquare → 2x·dY, L1 → sign(x)·dY, L2 → x/y·dY,
/// LogSumExp → exp(x − y)·dY.
/// </summary>
internal sealed class ReduceRule : GradientRule
{
    public override IReadOnlyList<string> Ops =>
        ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSumExp"];

    public override void Backward(RuleContext c)
    {
        var n = c.Node;
        var x = c.InDims(0);
        int rank = x.Length;
        long since = n.OpType == "ReduceSum" ? 13 : 18;
        long[]? axes = c.AttrOrInput("axes", 1, since, "axes");
        if (axes is null || axes.Length == 0)
        {
            if (c.Opset >= since && n.GetInt("noop_with_empty_axes", 0) != 0) { c.AddGrad(0, c.G); return; }
            axes = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        }
        var norm = axes.Select(a => (long)Shapes.Axis(a, rank)).Distinct().ToArray();
        var kept = (long[])x.Clone();
        foreach (var a in norm) kept[a] = 1;
        string g = c.ReshapeTo(c.G, c.OutDims(0), kept);
        string Y() => c.ReshapeTo(c.Forward(c.Out(0)), c.OutDims(0), kept);
        string dx;
        switch (n.OpType)
        {
            case "ReduceSum":
                dx = c.BroadcastScaled(g, kept, x, 1f);
                break;
            case "ReduceMean":
                long count = norm.Aggregate(1L, (p, a) => p * x[a]);
                dx = c.BroadcastScaled(g, kept, x, 1f / count);
                break;
            case "ReduceMax" or "ReduceMin":
                {
                    string mask = c.Emit("Cast", c.Op("Equal", c.Forward(c.In(0)), Y())).Set("to", 1L).Outputs[0];
                    string cnt = c.ReduceSum(mask, norm, keepDims: true);
                    dx = c.Mul(mask, c.Div(g, cnt));
                    break;
                }
            case "ReduceSumSquare":
                dx = c.Mul(c.Scale(c.Forward(c.In(0)), 2f), g);
                break;
            case "ReduceL1":
                dx = c.Mul(c.Op("Sign", c.Forward(c.In(0))), g);
                break;
            case "ReduceL2":
                {
                    string y = Y();
                    string safe = c.Op("Where", c.Op("Greater", y, c.Scalar(0f)), c.Div(g, y), c.Scalar(0f));
                    dx = c.Mul(c.Forward(c.In(0)), safe);
                    break;
                }
            default: // ReduceLogSumExp
                dx = c.Mul(c.Op("Exp", c.Sub(c.Forward(c.In(0)), Y())), g);
                break;
        }
        c.AddGrad(0, dx);
    }
}
