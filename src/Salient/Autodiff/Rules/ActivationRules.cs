namespace Salient.Autodiff.Rules;

// Smooth activations and unary math ops. Each keeps its standard derivative under every ReluMode.

/// <summary>Sigmoid: dX = dY · y · (1 − y).</summary>
internal sealed class SigmoidRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Sigmoid"];

    public override void Backward(RuleContext c)
    {
        string y = c.Forward(c.Out(0));
        c.AddGrad(0, c.Mul(c.G, c.Mul(y, c.Sub(c.Scalar(1f), y))));
    }
}

/// <summary>Tanh: dX = dY · (1 − y²).</summary>
internal sealed class TanhRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Tanh"];

    public override void Backward(RuleContext c)
    {
        string y = c.Forward(c.Out(0));
        c.AddGrad(0, c.Mul(c.G, c.Sub(c.Scalar(1f), c.Mul(y, y))));
    }
}

/// <summary>Elu (alpha 1): dX = dY where y &gt; 0, else dY · (y + alpha).</summary>
internal sealed class EluRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Elu"];

    public override void Backward(RuleContext c)
    {
        float alpha = c.Node.GetFloat("alpha", 1f);
        string y = c.Forward(c.Out(0));
        string neg = c.Mul(c.G, c.Add(y, c.Scalar(alpha)));
        c.AddGrad(0, c.Op("Where", c.Op("Greater", y, c.Scalar(0f)), c.G, neg));
    }
}

/// <summary>Selu: dX = dY · gamma where y &gt; 0, else dY · (y + gamma·alpha).</summary>
internal sealed class SeluRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Selu"];

    public override void Backward(RuleContext c)
    {
        float alpha = c.Node.GetFloat("alpha", 1.67326319217681884765625f);
        float gamma = c.Node.GetFloat("gamma", 1.05070102214813232421875f);
        string y = c.Forward(c.Out(0));
        string neg = c.Mul(c.G, c.Add(y, c.Scalar(gamma * alpha)));
        c.AddGrad(0, c.Op("Where", c.Op("Greater", y, c.Scalar(0f)), c.Scale(c.G, gamma), neg));
    }
}

/// <summary>HardSigmoid (alpha 0.2, beta 0.5): dX = alpha · dY where 0 &lt; y &lt; 1.</summary>
internal sealed class HardSigmoidRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["HardSigmoid"];

    public override void Backward(RuleContext c)
    {
        float alpha = c.Node.GetFloat("alpha", 0.2f);
        string y = c.Forward(c.Out(0));
        string pass = c.Op("And", c.Op("Greater", y, c.Scalar(0f)), c.Op("Less", y, c.Scalar(1f)));
        c.AddGrad(0, c.Mask(pass, c.Scale(c.G, alpha)));
    }
}

/// <summary>HardSwish y = x·max(0, min(1, x/6 + 1/2)): dX = dY · (0 if x &lt; −3; x/3 + 1/2 if x ≤ 3; 1 above).</summary>
internal sealed class HardSwishRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["HardSwish"];

    public override void Backward(RuleContext c)
    {
        string x = c.Forward(c.In(0));
        string mid = c.Add(c.Scale(x, 1f / 3f), c.Scalar(0.5f));
        string slope = c.Op("Where", c.Op("Less", x, c.Scalar(-3f)), c.Scalar(0f),
            c.Op("Where", c.Op("Greater", x, c.Scalar(3f)), c.Scalar(1f), mid));
        c.AddGrad(0, c.Mul(c.G, slope));
    }
}

/// <summary>Softplus y = ln(1 + eˣ): dX = dY · sigmoid(x).</summary>
internal sealed class SoftplusRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Softplus"];

    public override void Backward(RuleContext c) =>
        c.AddGrad(0, c.Mul(c.G, c.Op("Sigmoid", c.Forward(c.In(0)))));
}

/// <summary>Erf: dX = dY · 2/√π · exp(−x²).</summary>
internal sealed class ErfRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Erf"];

    public override void Backward(RuleContext c)
    {
        string x = c.Forward(c.In(0));
        string e = c.Op("Exp", c.Neg(c.Mul(x, x)));
        c.AddGrad(0, c.Mul(c.G, c.Scale(e, (float)(2 / Math.Sqrt(Math.PI)))));
    }
}

/// <summary>
/// Gelu (opset 20). approximate="none": y = x·Φ(x), dX = dY · (Φ(x) + x·φ(x)).
/// approximate="tanh": y = x/2·(1 + t), t = tanh(√(2/π)(x + 0.044715x³)),
/// dX = dY · (½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)).
/// </summary>
internal sealed class GeluRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Gelu"];

    public override void Backward(RuleContext c)
    {
        string x = c.Forward(c.In(0));
        string approximate = c.Node.GetString("approximate", "none");
        string d;
        if (approximate == "tanh")
        {
            float k = (float)Math.Sqrt(2 / Math.PI);
            string x2 = c.Mul(x, x);
            string inner = c.Scale(c.Mul(x, c.Add(c.Scalar(1f), c.Scale(x2, 0.044715f))), k);
            string t = c.Op("Tanh", inner);
            string dInner = c.Scale(c.Add(c.Scalar(1f), c.Scale(x2, 3 * 0.044715f)), k);
            string a = c.Scale(c.Add(c.Scalar(1f), t), 0.5f);
            string b = c.Mul(c.Scale(x, 0.5f), c.Mul(c.Sub(c.Scalar(1f), c.Mul(t, t)), dInner));
            d = c.Add(a, b);
        }
        else if (approximate == "none")
        {
            string cdf = c.Scale(c.Add(c.Scalar(1f), c.Op("Erf", c.Scale(x, (float)(1 / Math.Sqrt(2))))), 0.5f);
            string pdf = c.Scale(c.Op("Exp", c.Scale(c.Mul(x, x), -0.5f)), (float)(1 / Math.Sqrt(2 * Math.PI)));
            d = c.Add(cdf, c.Mul(x, pdf));
        }
        else throw c.Fail($"unknown approximate '{approximate}'");
        c.AddGrad(0, c.Mul(c.G, d));
    }
}

/// <summary>Mish y = x·tanh(softplus(x)): dX = dY · (t + x·(1 − t²)·sigmoid(x)), t = tanh(softplus(x)).</summary>
internal sealed class MishRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Mish"];

    public override void Backward(RuleContext c)
    {
        string x = c.Forward(c.In(0));
        string t = c.Op("Tanh", c.Op("Softplus", x));
        string d = c.Add(t, c.Mul(x, c.Mul(c.Sub(c.Scalar(1f), c.Mul(t, t)), c.Op("Sigmoid", x))));
        c.AddGrad(0, c.Mul(c.G, d));
    }
}

/// <summary>Exp: dX = dY · y.</summary>
internal sealed class ExpRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Exp"];
    public override void Backward(RuleContext c) => c.AddGrad(0, c.Mul(c.G, c.Forward(c.Out(0))));
}

/// <summary>Log: dX = dY / x.</summary>
internal sealed class LogRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Log"];
    public override void Backward(RuleContext c) => c.AddGrad(0, c.Div(c.G, c.Forward(c.In(0))));
}

/// <summary>Sqrt: dX = dY / (2y).</summary>
internal sealed class SqrtRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Sqrt"];
    public override void Backward(RuleContext c) => c.AddGrad(0, c.Div(c.Scale(c.G, 0.5f), c.Forward(c.Out(0))));
}

/// <summary>Reciprocal: dX = −dY · y².</summary>
internal sealed class ReciprocalRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Reciprocal"];

    public override void Backward(RuleContext c)
    {
        string y = c.Forward(c.Out(0));
        c.AddGrad(0, c.Neg(c.Mul(c.G, c.Mul(y, y))));
    }
}

/// <summary>Neg: dX = −dY.</summary>
internal sealed class NegRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Neg"];
    public override void Backward(RuleContext c) => c.AddGrad(0, c.Neg(c.G));
}

/// <summary>Abs: dX = dY · sign(x).</summary>
internal sealed class AbsRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Abs"];
    public override void Backward(RuleContext c) => c.AddGrad(0, c.Mul(c.G, c.Op("Sign", c.Forward(c.In(0)))));
}

/// <summary>Pow y = aᵇ (broadcasting): dA = dY · b · a^(b−1), dB = dY · y · ln(a), each summed to the operand's shape.</summary>
internal sealed class PowRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Pow"];

    public override void Backward(RuleContext c)
    {
        var yDims = c.OutDims(0);
        if (c.NeedsGrad(0))
        {
            string a = c.Forward(c.In(0));
            string b = c.Forward(c.In(1));
            if (c.TypeOf(c.In(1)) != Salient.Onnx.DataType.Float) b = c.Emit("Cast", b).Set("to", 1L).Outputs[0];
            string d;
            if (c.FloatValues(c.In(1)) is { Length: 1 } e && e[0] == 2f) d = c.Scale(a, 2f);
            else if (c.FloatValues(c.In(1)) is { Length: 1 } e1 && e1[0] == 1f) d = c.Scalar(1f);
            else d = c.Mul(b, c.Op("Pow", a, c.Sub(b, c.Scalar(1f))));
            c.AddGrad(0, c.ReduceTo(c.Mul(c.G, d), yDims, c.InDims(0)));
        }
        if (c.NeedsGrad(1))
        {
            string y = c.Forward(c.Out(0));
            string lna = c.Op("Log", c.Forward(c.In(0)));
            c.AddGrad(1, c.ReduceTo(c.Mul(c.G, c.Mul(y, lna)), yDims, c.InDims(1)));
        }
    }
}
