namespace Salient.Autodiff.Rules;

/// <summary>
/// Gemm Y = α·A'·B' + β·C (A' = Aᵀ if transA, B' = Bᵀ if transB):
/// dA = α·dY·B'ᵀ (transposed back if transA), dB = α·A'ᵀ·dY (likewise), dC = β·dY summed to C's shape.
/// Each is one Gemm with suitable trans flags.
/// </summary>
internal sealed class GemmRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Gemm"];

    public override void Backward(RuleContext c)
    {
        var n = c.Node;
        float alpha = n.GetFloat("alpha", 1f), beta = n.GetFloat("beta", 1f);
        long ta = n.GetInt("transA", 0), tb = n.GetInt("transB", 0);
        string g = c.G;
        if (c.NeedsGrad(0))
        {
            string b = c.Forward(c.In(1));
            var node = ta == 0
                ? c.Emit("Gemm", g, b).Set("transB", 1 - tb)      // dA = dY · B'ᵀ
                : c.Emit("Gemm", b, g).Set("transA", tb).Set("transB", 1L); // dA = B' · dYᵀ
            if (alpha != 1f) node.Set("alpha", alpha);
            c.AddGrad(0, node.Outputs[0]);
        }
        if (c.NeedsGrad(1))
        {
            string a = c.Forward(c.In(0));
            var node = tb == 0
                ? c.Emit("Gemm", a, g).Set("transA", 1 - ta)      // dB = A'ᵀ · dY
                : c.Emit("Gemm", g, a).Set("transA", 1L).Set("transB", ta); // dB = dYᵀ · A'
            if (alpha != 1f) node.Set("alpha", alpha);
            c.AddGrad(1, node.Outputs[0]);
        }
        if (c.HasIn(2) && c.NeedsGrad(2))
        {
            var cDims = c.InDims(2);
            string gc = c.ReduceTo(c.Scale(g, beta), c.OutDims(0), cDims);
            c.AddGrad(2, gc);
        }
    }
}
