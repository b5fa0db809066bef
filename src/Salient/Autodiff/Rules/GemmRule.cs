namespace Salient.Autodiff.Rules;

/// <summary>
/// Gemm Y = α·A'·B' + β·C (A' = Aᵀ if transA, B' = Bᵀ if transB):
/// dA = α·dY·B'ᵀ (transposed back if transA), dB = α·A'ᵀ·dY (likewise), dC = β·dY summed to C's shape.
/// Each is one Gemm with suitable trans flags. With an index seed on the score (the Gemm computes
/// the class scores), dA is a Gather of the classes' weight rows.
/// </summary>
internal sealed class GemmRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Gemm"];

    public override void Backward(RuleContext c)
    {
        var n = c.Node;
        float alpha = n.GetFloat("alpha", 1f), beta = n.GetFloat("beta", 1f);
        long ta = n.GetInt("transA", 0), tb = n.GetInt("transB", 0);
        // Index seed on the score: dA = α · (rows of B' for the seeded classes) — a Gather, not a
        // one-hot matrix times all of B (a 1000×1280 GEMV per item on an ImageNet head).
        if (ta == 0 && c.SeedIndicesFor(0) is { } idx && c.OutDims(0).Length == 2 && !c.NeedsGrad(1) && !(c.HasIn(2) && c.NeedsGrad(2)))
        {
            string b = c.Forward(c.In(1));
            string rows = tb == 1
                ? c.Emit("Gather", b, idx).Set("axis", 0L).Outputs[0]                       // B [K, F] → [N, F]
                : c.Transpose(c.Emit("Gather", b, idx).Set("axis", 1L).Outputs[0], [1, 0]);  // B [F, K] → [F, N] → [N, F]
            c.AddGrad(0, c.Scale(rows, alpha));
            return;
        }
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
