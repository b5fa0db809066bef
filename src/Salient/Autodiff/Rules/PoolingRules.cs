using Salient.Onnx;

namespace Salient.Autodiff.Rules;

/// <summary>
/// MaxPool (opset ≥ 8): the forward program exposes the node's Indices output (added only to
/// MaxPools on the differentiated path); dX = ScatterElements(zeros, Indices, dY, reduction=add)
/// on the flattened tensor, so overlapping windows sum correctly whatever the pads, ceil_mode,
/// dilations. storage_order=1 (column-major indices) is converted back to row-major first.
/// Ties: ORT's index (the first maximum in scan order) gets the whole gradient.
/// </summary>
internal sealed class MaxPoolRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["MaxPool"];

    public override void Backward(RuleContext c)
    {
        if (c.Opset < 8)
            throw c.Fail("MaxPool before opset 8 has no Indices output, which the gradient needs; convert the model to opset 8 or later");
        var x = c.InDims(0);
        var y = c.OutDims(0);
        string idx = c.ForwardOptionalOutput(1, DataType.Int64, y);
        if (c.Node.GetInt("storage_order", 0) == 1)
        {
            if (x.Length != 4) throw c.Fail("storage_order=1 is supported for 2-D pooling only");
            // Column-major index within the (n, c) plane: h + w·H  →  row-major h·W + w.
            long hw = x[2] * x[3];
            string local = c.Op("Mod", idx, c.IntsConst(hw));
            string basis = c.Op("Sub", idx, local);
            string h = c.Op("Mod", local, c.IntsConst(x[2]));
            string w = c.Op("Div", local, c.IntsConst(x[2]));
            idx = c.Op("Add", basis, c.Op("Add", c.Op("Mul", h, c.IntsConst(x[3])), w));
        }
        long outCount = Tensor.ElementCount(y), inCount = Tensor.ElementCount(x);
        string flatIdx = c.Reshape(idx, [outCount]);
        string flatG = c.Reshape(c.G, [outCount]);
        string dx = c.Emit("ScatterElements", c.Zeros([inCount]), flatIdx, flatG)
            .Set("axis", 0L).Set("reduction", "add").Outputs[0];
        c.AddGrad(0, c.Reshape(dx, x));
    }
}

/// <summary>
/// AveragePool (pads, ceil_mode, auto_pad, count_include_pad 0/1): y = Σ_window x / divisor.
/// dX = ConvTranspose(dY / divisor, ones[C,1,k…], group C) with the pool's strides and pads and an
/// output size fixed to X's. The per-output weight 1/divisor is computed exactly as ORT's forward
/// does: AveragePool(ones)/(number of real input pixels in the window), folded to a constant by ORT
/// at session creation.
/// </summary>
internal sealed class AveragePoolRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["AveragePool"];

    public override void Backward(RuleContext c)
    {
        var n = c.Node;
        var x = c.InDims(0);
        var y = c.OutDims(0);
        int r = x.Length - 2;
        var kernel = n.GetInts("kernel_shape") ?? throw c.Fail("kernel_shape is missing");
        if (n.GetInts("dilations") is { } dl && dl.Any(v => v != 1)) throw c.Fail("dilated AveragePool is not supported");
        var geo = ConvGeometry.ForWindow(c, kernel, x[2..], y[2..], hasDilations: false);

        // Real (non-pad) input pixels per output window, separable per axis.
        var counts = new long[r][];
        for (int i = 0; i < r; i++)
        {
            counts[i] = new long[y[2 + i]];
            for (long o = 0; o < y[2 + i]; o++)
            {
                long start = o * geo.Strides[i] - geo.PadBegin[i];
                long lo = Math.Max(start, 0), hi = Math.Min(start + kernel[i], x[2 + i]);
                counts[i][o] = Math.Max(0, hi - lo);
            }
        }
        var spatial = y[2..];
        long total = Tensor.ElementCount(spatial);
        var invCount = new float[total];
        for (long k = 0; k < total; k++)
        {
            long rem = k, prod = 1;
            for (int i = r - 1; i >= 0; i--) { prod *= counts[i][rem % spatial[i]]; rem /= spatial[i]; }
            invCount[k] = prod > 0 ? 1f / prod : 0f;
        }
        var one = new long[] { 1, 1 };
        string ones = c.Emit("ConstantOfShape", c.IntsConst(one.Concat(x[2..]).ToArray()))
            .Set("value", Tensor.FromFloats("value", [1], [1f])).Outputs[0];
        var pool = c.Emit("AveragePool", ones);
        foreach (var a in new[] { "kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "count_include_pad" })
            if (n.Attributes.TryGetValue(a, out var attr)) pool.Attributes[a] = attr;
        string weight = c.Mul(pool.Outputs[0], c.FloatsConst(one.Concat(spatial).ToArray(), invCount));
        string gw = c.Mul(c.G, weight);
        string kernelOnes = c.Emit("ConstantOfShape", c.IntsConst(new[] { x[1], 1L }.Concat(kernel).ToArray()))
            .Set("value", Tensor.FromFloats("value", [1], [1f])).Outputs[0];
        c.AddGrad(0, geo.TransposedWindowSum(c, gw, kernelOnes, x[1], x[2..], y[2..]));
    }
}

/// <summary>GlobalAveragePool: dX = dY / (number of spatial positions), broadcast over them.</summary>
internal sealed class GlobalAveragePoolRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["GlobalAveragePool"];

    public override void Backward(RuleContext c)
    {
        var x = c.InDims(0);
        long count = Tensor.ElementCount(x[2..]);
        var kept = x.Select((d, i) => i < 2 ? d : 1L).ToArray();
        c.AddGrad(0, c.BroadcastScaled(c.G, kept, x, 1f / count));
    }
}

/// <summary>GlobalMaxPool: dX = dY on the positions equal to the maximum; ties split it evenly.</summary>
internal sealed class GlobalMaxPoolRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["GlobalMaxPool"];

    public override void Backward(RuleContext c)
    {
        var x = c.InDims(0);
        var axes = Enumerable.Range(2, x.Length - 2).Select(i => (long)i).ToArray();
        string mask = c.Emit("Cast", c.Op("Equal", c.Forward(c.In(0)), c.Forward(c.Out(0)))).Set("to", 1L).Outputs[0];
        string count = c.ReduceSum(mask, axes, keepDims: true);
        c.AddGrad(0, c.Mul(mask, c.Div(c.G, count)));
    }
}
