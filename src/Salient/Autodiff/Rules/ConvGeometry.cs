using Salient.Onnx;

namespace Salient.Autodiff.Rules;

/// <summary>Strides, dilations, kernel and the resolved begin/end pads of a Conv/Pool-like node, per spatial axis.</summary>
internal sealed record ConvGeometry(long[] Kernel, long[] Strides, long[] Dilations, long[] PadBegin, long[] PadEnd)
{
    public int Rank => Kernel.Length;

    public long EffectiveKernel(int i) => (Kernel[i] - 1) * Dilations[i] + 1;

    /// <summary>
    /// Resolves the geometry of a forward window op (Conv, MaxPool, AveragePool) from its attributes
    /// and the known input/output spatial sizes; auto_pad SAME_UPPER/SAME_LOWER/VALID as in the spec
    /// (SAME: total = max(0, (out−1)·s + k_eff − in), the odd pixel at the end for SAME_UPPER).
    /// </summary>
    public static ConvGeometry ForWindow(RuleContext c, long[] kernel, long[] inSpatial, long[] outSpatial, bool hasDilations = true)
    {
        var n = c.Node;
        int r = kernel.Length;
        long[] strides = n.GetInts("strides") is { Length: > 0 } s ? s : Ones(r);
        long[] dil = hasDilations && n.GetInts("dilations") is { Length: > 0 } d ? d : Ones(r);
        if (strides.Length != r || dil.Length != r) throw c.Fail($"strides/dilations do not match the {r}-D kernel");
        var pb = new long[r];
        var pe = new long[r];
        string autoPad = n.GetString("auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "NOTSET" or "":
                if (n.GetInts("pads") is { Length: > 0 } pads)
                {
                    if (pads.Length != 2 * r) throw c.Fail($"pads has {pads.Length} values for a {r}-D window");
                    for (int i = 0; i < r; i++) { pb[i] = pads[i]; pe[i] = pads[r + i]; }
                }
                break;
            case "VALID":
                break;
            case "SAME_UPPER" or "SAME_LOWER":
                for (int i = 0; i < r; i++)
                {
                    long keff = (kernel[i] - 1) * dil[i] + 1;
                    long total = Math.Max(0, (outSpatial[i] - 1) * strides[i] + keff - inSpatial[i]);
                    long small = total / 2;
                    if (autoPad == "SAME_UPPER") { pb[i] = small; pe[i] = total - small; }
                    else { pe[i] = small; pb[i] = total - small; }
                }
                break;
            default:
                throw c.Fail($"unknown auto_pad '{autoPad}'");
        }
        return new ConvGeometry(kernel, strides, dil, pb, pe);
    }

    public static long[] Ones(int r)
    {
        var a = new long[r];
        Array.Fill(a, 1L);
        return a;
    }

    /// <summary>
    /// Emits the adjoint of a strided window sum: ConvTranspose(g, w) with this geometry, pads and
    /// output_padding chosen from the known shapes so the result has exactly the forward input's
    /// spatial size. Windows that reach past the input (ceil_mode, large end pads) are cropped by a
    /// larger end pad; rows no window reads get zeros (output_padding, or a Pad node where the spec's
    /// limit output_padding &lt; stride would be exceeded).
    /// </summary>
    public string TransposedWindowSum(RuleContext c, string g, string weights, long group, long[] inSpatial, long[] outSpatial)
    {
        int r = Rank;
        var pads = new long[2 * r];
        var outPad = new long[r];
        var extra = new long[r];
        for (int i = 0; i < r; i++)
        {
            long span = Strides[i] * (outSpatial[i] - 1) + EffectiveKernel(i) - PadBegin[i];
            long endPad = span - inSpatial[i];
            pads[i] = PadBegin[i];
            if (endPad >= 0) pads[r + i] = endPad;
            else
            {
                long missing = -endPad;
                if (missing < Strides[i] || missing < Dilations[i]) outPad[i] = missing;
                else extra[i] = missing;
            }
        }
        var node = c.Emit("ConvTranspose", g, weights)
            .Set("kernel_shape", Kernel).Set("strides", Strides).Set("dilations", Dilations)
            .Set("pads", pads).Set("group", group);
        if (outPad.Any(v => v != 0)) node.Set("output_padding", outPad);
        string dx = node.Outputs[0];
        if (extra.Any(v => v != 0))
        {
            var padAll = new long[2 * (r + 2)];
            for (int i = 0; i < r; i++) padAll[r + 2 + 2 + i] = extra[i];
            dx = c.Emit("Pad", dx, c.IntsConst(padAll)).Set("mode", "constant").Outputs[0];
        }
        return dx;
    }
}
