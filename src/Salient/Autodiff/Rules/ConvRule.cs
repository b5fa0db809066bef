namespace Salient.Autodiff.Rules;

/// <summary>
/// Conv (any rank, groups incl. depthwise, strides, dilations, pads, auto_pad): the input gradient
/// is the adjoint of the convolution.
/// <list type="bullet">
/// <item>Strided (any stride &gt; 1): dX = ConvTranspose(dY, W) with the same weights, group, strides
/// and dilations, and pads / output_padding computed from the known shapes so dX has exactly X's
/// shape (<see cref="ConvGeometry.TransposedWindowSum"/>).</item>
/// <item>Stride 1: dX = Conv(dY, W') with W' the spatially flipped, per-group channel-transposed
/// kernel ([M, C/g, k…] → [C, M/g, k…]) and pads k_eff − 1 − pad: the same adjoint, written as a
/// Conv because ORT runs Conv much faster than ConvTranspose (NCHWc kernels, fused layouts). W' is
/// built from W by Reshape/Transpose/Slice nodes on the initializer, which ORT constant-folds when
/// the session is created (no managed loop over weights).</item>
/// </list>
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
        if (geo.Strides.All(s => s == 1) && FlippedPads(geo, x[2..], y[2..]) is { } pads)
        {
            c.AddGrad(0, c.Emit("Conv", c.G, FlippedKernel(c, weights, w, group))
                .Set("kernel_shape", kernel).Set("dilations", geo.Dilations).Set("pads", pads).Set("group", group).Outputs[0]);
            return;
        }
        c.AddGrad(0, geo.TransposedWindowSum(c, c.G, weights, group, x[2..], y[2..]));
    }

    /// <summary>Pads of the stride-1 adjoint Conv (k_eff − 1 − pad at each end), or null when one would be negative.</summary>
    private static long[]? FlippedPads(ConvGeometry geo, long[] inSpatial, long[] outSpatial)
    {
        int r = geo.Rank;
        var pads = new long[2 * r];
        for (int i = 0; i < r; i++)
        {
            long keff = geo.EffectiveKernel(i);
            long begin = keff - 1 - geo.PadBegin[i];
            long end = inSpatial[i] - outSpatial[i] - begin + keff - 1;   // makes the output exactly inSpatial
            if (begin < 0 || end < 0) return null;
            pads[i] = begin;
            pads[r + i] = end;
        }
        return pads;
    }

    /// <summary>W [M, C/g, k…] → [C, M/g, k…] with every spatial axis reversed.</summary>
    private static string FlippedKernel(RuleContext c, string weights, long[] w, long group)
    {
        long m = w[0], cg = w[1];
        int spatial = w.Length - 2;
        var k = w[2..];
        string t = weights;
        if (!(cg == 1 && m == group))      // depthwise (one in, one out channel per group): no transposition
        {
            var grouped = new[] { group, m / group, cg }.Concat(k).ToArray();
            var perm = new long[] { 0, 2, 1 }.Concat(Enumerable.Range(3, spatial).Select(i => (long)i)).ToArray();
            t = c.Transpose(c.Reshape(t, grouped), perm);
            t = c.Reshape(t, new[] { cg * group, m / group }.Concat(k).ToArray());
        }
        var axes = Enumerable.Range(2, spatial).Select(i => (long)i).ToArray();
        var minusOne = Enumerable.Repeat(-1L, spatial).ToArray();
        var lowest = Enumerable.Repeat(long.MinValue, spatial).ToArray();
        return c.Emit("Slice", t, c.IntsConst(minusOne), c.IntsConst(lowest), c.IntsConst(axes), c.IntsConst(minusOne)).Outputs[0];
    }
}
