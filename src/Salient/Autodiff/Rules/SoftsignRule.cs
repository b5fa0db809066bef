namespace Salient.Autodiff.Rules;

/// <summary>Softsign y = x / (1 + |x|): dX = dY / (1 + |x|)².</summary>
internal sealed class SoftsignRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Softsign"];

    public override void Backward(RuleContext c)
    {
        string d = c.Add(c.Scalar(1f), c.Op("Abs", c.Forward(c.In(0))));
        c.AddGrad(0, c.Div(c.G, c.Mul(d, d)));
    }
}
