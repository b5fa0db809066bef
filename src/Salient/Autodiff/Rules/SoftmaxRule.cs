namespace Salient.Autodiff.Rules;

/// <summary>
/// Softmax: dX = y ⊙ (dY − Σ(dY ⊙ y)); LogSoftmax: dX = dY − exp(y) ⊙ ΣdY; the sums over the
/// softmax axis. Before opset 13 the input is coerced to 2-D [∏dims[:axis], ∏dims[axis:]] (default
/// axis 1) and the softmax runs over the whole second part; from 13 on it is one axis (default −1).
/// </summary>
internal sealed class SoftmaxRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Softmax", "LogSoftmax"];

    public override void Backward(RuleContext c)
    {
        var x = c.InDims(0);
        int rank = x.Length;
        string g = c.G;
        string y = c.Forward(c.Out(0));
        long axis;
        long[] shape = x;
        if (c.Opset < 13)
        {
            int a = Salient.Onnx.Shapes.Axis(c.Node.GetInt("axis", 1), rank);
            long rows = 1, cols = 1;
            for (int i = 0; i < rank; i++) { if (i < a) rows *= x[i]; else cols *= x[i]; }
            shape = [rows, cols];
            g = c.ReshapeTo(g, x, shape);
            y = c.ReshapeTo(y, x, shape);
            axis = 1;
        }
        else axis = Salient.Onnx.Shapes.Axis(c.Node.GetInt("axis", -1), rank);
        string dx = c.Node.OpType == "Softmax"
            ? c.Mul(y, c.Sub(g, c.ReduceSum(c.Mul(g, y), [axis], keepDims: true)))
            : c.Sub(g, c.Mul(c.Op("Exp", y), c.ReduceSum(g, [axis], keepDims: true)));
        c.AddGrad(0, c.ReshapeTo(dx, shape, x));
    }
}
