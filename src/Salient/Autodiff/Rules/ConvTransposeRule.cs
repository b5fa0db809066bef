namespace Salient.Autodiff.Rules;

/// <summary>
/// ConvTranspose: its adjoint is a Conv with the same weights, group, strides, dilations and the
/// transposed conv's pads (explicit, or derived from output_shape/auto_pad as in the spec: the
/// total padding s·(in−1) + output_padding + k_eff − out split SAME_UPPER = more at the end).
/// </summary>
internal sealed class ConvTransposeRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["ConvTranspose"];

    public override void Backward(RuleContext c)
    {
        c.RequireOffPath(1, "the weights");
        c.RequireOffPath(2, "the bias");
        if (!c.NeedsGrad(0)) return;
        var n = c.Node;
        var x = c.InDims(0);
        var w = c.InDims(1);
        var y = c.OutDims(0);
        int r = x.Length - 2;
        var kernel = n.GetInts("kernel_shape") is { Length: > 0 } k ? k : w[2..];
        long[] strides = n.GetInts("strides") is { Length: > 0 } s ? s : ConvGeometry.Ones(r);
        long[] dil = n.GetInts("dilations") is { Length: > 0 } d ? d : ConvGeometry.Ones(r);
        long[] outPad = n.GetInts("output_padding") is { Length: > 0 } op ? op : new long[r];
        var pads = new long[2 * r];
        string autoPad = n.GetString("auto_pad", "NOTSET");
        bool explicitPads = n.GetInts("pads") is { Length: > 0 } && !n.Has("output_shape") && autoPad is "NOTSET" or "";
        if (explicitPads) pads = n.GetInts("pads")!;
        else if (autoPad != "VALID" || n.Has("output_shape"))
        {
            for (int i = 0; i < r; i++)
            {
                long keff = (kernel[i] - 1) * dil[i] + 1;
                long total = strides[i] * (x[2 + i] - 1) + outPad[i] + keff - y[2 + i];
                if (total < 0) throw c.Fail("output_shape larger than the transposed convolution produces is not supported");
                long small = total / 2;
                if (autoPad == "SAME_LOWER") { pads[i] = total - small; pads[r + i] = small; }
                else { pads[i] = small; pads[r + i] = total - small; }
            }
        }
        long group = n.GetInt("group", 1);
        string weights = c.Forward(c.In(1));
        string dx = c.Emit("Conv", c.G, weights)
            .Set("kernel_shape", kernel).Set("strides", strides).Set("dilations", dil)
            .Set("pads", pads).Set("group", group).Outputs[0];
        c.AddGrad(0, dx);
    }
}
