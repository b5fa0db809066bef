namespace Salient.Autodiff.Rules;

/// <summary>
/// MatMul (numpy semantics: batched, broadcast batch dims, 1-D operands):
/// with A,B promoted to ≥2-D, dA = dY·Bᵀ and dB = Aᵀ·dY, each summed over broadcast batch axes
/// and reshaped to the operand's shape.
/// </summary>
internal sealed class MatMulRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["MatMul"];

    public override void Backward(RuleContext c)
    {
        var a = c.InDims(0);
        var b = c.InDims(1);
        var aE = a.Length == 1 ? new[] { 1L, a[0] } : a;
        var bE = b.Length == 1 ? new[] { b[0], 1L } : b;
        // dY with the dims MatMul removed for 1-D operands restored: batch + [n, m].
        var batch = Broadcast(aE[..^2], bE[..^2]);
        var yE = batch.Concat(new[] { aE[^2], bE[^1] }).ToArray();
        string g = c.ReshapeTo(c.G, c.OutDims(0), yE);
        if (c.NeedsGrad(0))
        {
            string bv = c.ReshapeTo(c.Forward(c.In(1)), b, bE);
            string bt = c.Transpose(bv, SwapLast(bE.Length));
            string da = c.Op("MatMul", g, bt);
            var daDims = batch.Concat(new[] { aE[^2], aE[^1] }).ToArray();
            da = c.ReduceTo(da, daDims, aE);
            c.AddGrad(0, c.ReshapeTo(da, aE, a));
        }
        if (c.NeedsGrad(1))
        {
            string av = c.ReshapeTo(c.Forward(c.In(0)), a, aE);
            string at = c.Transpose(av, SwapLast(aE.Length));
            string db = c.Op("MatMul", at, g);
            var dbDims = batch.Concat(new[] { bE[^2], bE[^1] }).ToArray();
            db = c.ReduceTo(db, dbDims, bE);
            c.AddGrad(1, c.ReshapeTo(db, bE, b));
        }
    }

    private static long[] SwapLast(int rank)
    {
        var p = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (p[^1], p[^2]) = (p[^2], p[^1]);
        return p;
    }

    internal static long[] Broadcast(long[] x, long[] y)
    {
        int r = Math.Max(x.Length, y.Length);
        var o = new long[r];
        for (int i = 0; i < r; i++)
        {
            long dx = i - (r - x.Length) >= 0 ? x[i - (r - x.Length)] : 1;
            long dy = i - (r - y.Length) >= 0 ? y[i - (r - y.Length)] : 1;
            o[i] = dx == 1 ? dy : dx;
        }
        return o;
    }
}
