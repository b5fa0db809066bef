using Salient.Onnx;

namespace Salient.Autodiff.Rules;

/// <summary>
/// Flatten, Reshape (any opset; the shape attribute of opset &lt; 5 too), Squeeze, Unsqueeze, Identity,
/// Dropout (inference, or training mode with ratio 0 — torchvision's Swin exports its attention dropout so): dX = Reshape(dY, shape of X).
/// </summary>
internal sealed class ReshapeLikeRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout"];

    public override void Backward(RuleContext c)
    {
        if (c.Node.OpType == "Dropout" && c.Opset >= 12 && c.Ints(c.In(2)) is { Length: 1 } t && t[0] != 0
            && !(c.FloatValues(c.In(1)) is { Length: 1 } ratio && ratio[0] == 0))
            throw c.Fail("Dropout in training mode is random; export the model in eval mode");
        c.AddGrad(0, c.ReshapeTo(c.G, c.OutDims(0), c.InDims(0)));
    }
}

/// <summary>Cast between floating types on the path: dX = dY (the engine differentiates float32 tensors, so it is an identity).</summary>
internal sealed class CastRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Cast", "CastLike"];

    public override void Backward(RuleContext c) => c.AddGrad(0, c.G);
}

/// <summary>Transpose: dX = Transpose(dY, inverse permutation).</summary>
internal sealed class TransposeRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Transpose"];

    public override void Backward(RuleContext c)
    {
        int rank = c.InRank(0);
        var perm = c.Node.GetInts("perm") is { Length: > 0 } p ? p : Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        var inv = new long[rank];
        for (int i = 0; i < rank; i++) inv[perm[i]] = i;
        c.AddGrad(0, c.Transpose(c.G, inv));
    }
}

/// <summary>Concat: dY is split along the axis into the inputs' sizes (one Split node).</summary>
internal sealed class ConcatRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Concat"];

    public override void Backward(RuleContext c)
    {
        int k = c.Node.Inputs.Count;
        int axis = Shapes.Axis(c.Node.GetInt("axis", 1), c.OutDims(0).Length);
        if (k == 1) { c.AddGrad(0, c.G); return; }
        var sizes = Enumerable.Range(0, k).Select(i => c.InDims(i)[axis]).ToArray();
        var split = c.EmitN("Split", k, c.G, c.IntsConst(sizes)).Set("axis", (long)axis);
        for (int i = 0; i < k; i++) c.AddGrad(i, split.Outputs[i]);
    }
}

/// <summary>Split (split sizes as attribute or input, or num_outputs — the known output shapes decide): dX = Concat of the outputs' gradients (zeros where none flows).</summary>
internal sealed class SplitRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Split"];

    public override void Backward(RuleContext c)
    {
        int axis = Shapes.Axis(c.Node.GetInt("axis", 0), c.InRank(0));
        var parts = Enumerable.Range(0, c.Node.Outputs.Count).Where(i => c.Out(i) != "").Select(c.OutGradOrZeros).ToArray();
        c.AddGrad(0, parts.Length == 1 ? parts[0] : c.Emit("Concat", parts).Set("axis", (long)axis).Outputs[0]);
    }
}

/// <summary>
/// Slice (attribute form before opset 10; starts/ends/axes/steps inputs, negative steps, clamping):
/// the selected positions along each axis are s, s+step, …; dY is put back with exact cheap ops —
/// reversed (Slice step −1) for negative steps, zeros interleaved (Reshape+Pad) for |step| &gt; 1,
/// then one Pad (negative end pads crop) to X's shape.
/// </summary>
internal sealed class SliceRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Slice"];

    public override void Backward(RuleContext c)
    {
        var x = c.InDims(0);
        var y = c.OutDims(0);
        int rank = x.Length;
        long[] starts, axes, steps;
        if (c.Opset < 10)
        {
            starts = c.Node.GetInts("starts") ?? throw c.Fail("starts is missing");
            axes = c.Node.GetInts("axes") is { Length: > 0 } a ? a : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps = Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        else
        {
            starts = c.RequireInts(1, "starts");
            axes = c.HasIn(3) ? c.RequireInts(3, "axes") : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps = c.HasIn(4) ? c.RequireInts(4, "steps") : Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        if (Tensor.ElementCount(y) == 0) return; // nothing selected: no gradient flows
        var start = new long[rank];
        var step = Enumerable.Repeat(1L, rank).ToArray();
        for (int j = 0; j < axes.Length; j++)
        {
            int ax = Shapes.Axis(axes[j], rank);
            long d = x[ax], s = starts[j], st = steps[j];
            if (st == 0) throw c.Fail("a slice step of 0 is invalid");
            if (s < 0) s += d;
            s = st > 0 ? Math.Clamp(s, 0, d) : Math.Clamp(s, 0, d - 1);
            start[ax] = s;
            step[ax] = st;
        }
        string g = c.G;
        var cur = (long[])y.Clone();
        var pads = new long[2 * rank];
        for (int ax = 0; ax < rank; ax++)
        {
            long n = y[ax], st = step[ax];
            long lowest = st > 0 ? start[ax] : start[ax] + (n - 1) * st;
            long k = Math.Abs(st);
            if (st < 0 && n > 1)
                g = c.Emit("Slice", g, c.IntsConst(-1), c.IntsConst(long.MinValue), c.IntsConst(ax), c.IntsConst(-1)).Outputs[0];
            long covered = n;
            if (k > 1 && n > 1)
            {
                // [.., n, ..] → [.., n, 1, ..] → pad to [.., n, k, ..] → [.., n·k, ..]
                var withUnit = cur.Take(ax + 1).Append(1L).Concat(cur.Skip(ax + 1)).ToArray();
                g = c.Reshape(g, withUnit);
                var p = new long[2 * (rank + 1)];
                p[rank + 1 + ax + 1] = k - 1;
                g = c.Emit("Pad", g, c.IntsConst(p)).Set("mode", "constant").Outputs[0];
                cur[ax] = n * k;
                g = c.Reshape(g, cur);
                covered = n * k;
            }
            pads[ax] = lowest;
            pads[rank + ax] = x[ax] - lowest - covered;
        }
        if (pads.Any(v => v != 0)) g = c.Emit("Pad", g, c.IntsConst(pads)).Set("mode", "constant").Outputs[0];
        c.AddGrad(0, g);
    }
}

/// <summary>
/// Pad (pads as attribute before opset 11, input from 11, axes input from 18). constant mode:
/// dX = Pad(dY, −pads) (negative pads crop). edge and reflect: the border rows' gradients are
/// folded back onto the rows they copy, axis by axis. wrap: not supported.
/// </summary>
internal sealed class PadRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Pad"];

    public override void Backward(RuleContext c)
    {
        var x = c.InDims(0);
        int rank = x.Length;
        long[] pads;
        if (c.Opset < 11) pads = c.Node.GetInts("pads") ?? c.Node.GetInts("paddings") ?? throw c.Fail("pads is missing");
        else
        {
            var given = c.RequireInts(1, "pads");
            if (c.Opset >= 18 && c.HasIn(3))
            {
                var ax = c.RequireInts(3, "axes");
                pads = new long[2 * rank];
                for (int j = 0; j < ax.Length; j++)
                {
                    int a = Shapes.Axis(ax[j], rank);
                    pads[a] = given[j];
                    pads[rank + a] = given[ax.Length + j];
                }
            }
            else pads = given;
        }
        if (pads.Length != 2 * rank) throw c.Fail($"pads has {pads.Length} values for rank {rank}");
        string mode = c.Node.GetString("mode", "constant");
        if (mode == "constant")
        {
            c.AddGrad(0, c.Emit("Pad", c.G, c.IntsConst(pads.Select(p => -p).ToArray())).Set("mode", "constant").Outputs[0]);
            return;
        }
        if (mode is not ("edge" or "reflect"))
            throw c.Fail($"Pad mode '{mode}' has no gradient rule (constant, edge and reflect do)");
        if (pads.Any(p => p < 0)) throw c.Fail($"negative pads in {mode} mode are not supported");
        string g = c.G;
        var cur = c.OutDims(0).ToArray();
        for (int a = 0; a < rank; a++)
        {
            long pb = pads[a], pe = pads[rank + a], d = x[a];
            if (pb == 0 && pe == 0) continue;
            if (mode == "reflect" && (pb >= d || pe >= d)) throw c.Fail("reflect pads as large as the input are not supported");
            string Part(long from, long to) =>
                c.Emit("Slice", g, c.IntsConst(from), c.IntsConst(to), c.IntsConst(a)).Outputs[0];
            var next = (long[])cur.Clone();
            next[a] = d;
            string center = Part(pb, pb + d);
            var terms = new List<string> { center };
            string PadAxis(string t, long before, long after)
            {
                var p = new long[2 * rank];
                p[a] = before;
                p[rank + a] = after;
                return c.Emit("Pad", t, c.IntsConst(p)).Set("mode", "constant").Outputs[0];
            }
            string Reverse(string t) =>
                c.Emit("Slice", t, c.IntsConst(-1), c.IntsConst(long.MinValue), c.IntsConst(a), c.IntsConst(-1)).Outputs[0];
            if (pb > 0)
            {
                string head = Part(0, pb);
                terms.Add(mode == "edge"
                    ? PadAxis(c.ReduceSum(head, [a], keepDims: true), 0, d - 1)
                    : PadAxis(Reverse(head), 1, d - 1 - pb));   // y[j] = x[pb − j] for j < pb
            }
            if (pe > 0)
            {
                string tail = Part(pb + d, pb + d + pe);
                terms.Add(mode == "edge"
                    ? PadAxis(c.ReduceSum(tail, [a], keepDims: true), d - 1, 0)
                    : PadAxis(Reverse(tail), d - 1 - pe, 1));   // y[pb + d + t] = x[d − 2 − t]
            }
            g = c.Op("Sum", terms.ToArray());
            cur = next;
        }
        c.AddGrad(0, g);
    }
}

/// <summary>Index helpers for Gather-like rules.</summary>
internal static class Indices
{
    /// <summary>Indices as an int64 tensor with negative values wrapped (constant when known, graph ops otherwise).</summary>
    public static string Normalized(RuleContext c, int input, long dim)
    {
        if (c.Ints(c.In(input)) is { } known)
        {
            var v = known.Select(i => i < 0 ? i + dim : i).ToArray();
            return c.Const(new Tensor("indices", DataType.Int64, c.InDims(input), v));
        }
        string idx = c.Forward(c.In(input));
        if (c.TypeOf(c.In(input)) != DataType.Int64) idx = c.Emit("Cast", idx).Set("to", (long)DataType.Int64).Outputs[0];
        return c.Op("Where", c.Op("Less", idx, c.IntsConst(0)), c.Op("Add", idx, c.IntsConst(dim)), idx);
    }
}

/// <summary>
/// Gather (constant, shape-derived or data indices): dX = ScatterElements(zeros, indices broadcast
/// along the other axes, dY reshaped to one index axis, reduction=add); repeated indices add up.
/// </summary>
internal sealed class GatherRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Gather"];

    public override void Backward(RuleContext c)
    {
        var x = c.InDims(0);
        int rank = x.Length;
        int axis = Shapes.Axis(c.Node.GetInt("axis", 0), rank);
        long k = Tensor.ElementCount(c.InDims(1));
        var gDims = x.Take(axis).Append(k).Concat(x.Skip(axis + 1)).ToArray();
        string g = c.ReshapeTo(c.G, c.OutDims(0), gDims);
        var idxDims = Enumerable.Repeat(1L, rank).ToArray();
        idxDims[axis] = k;
        string idx = c.Reshape(Indices.Normalized(c, 1, x[axis]), idxDims);
        idx = c.Expand(idx, gDims);
        c.AddGrad(0, c.Emit("ScatterElements", c.Zeros(x), idx, g).Set("axis", (long)axis).Set("reduction", "add").Outputs[0]);
    }
}

/// <summary>GatherElements: dX = ScatterElements(zeros, indices, dY, reduction=add).</summary>
internal sealed class GatherElementsRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["GatherElements"];

    public override void Backward(RuleContext c)
    {
        var x = c.InDims(0);
        int axis = Shapes.Axis(c.Node.GetInt("axis", 0), x.Length);
        string idx = Indices.Normalized(c, 1, x[axis]);
        c.AddGrad(0, c.Emit("ScatterElements", c.Zeros(x), idx, c.G).Set("axis", (long)axis).Set("reduction", "add").Outputs[0]);
    }
}

/// <summary>Expand: dX = dY summed over the broadcast axes.</summary>
internal sealed class ExpandRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Expand"];

    public override void Backward(RuleContext c) => c.AddGrad(0, c.ReduceTo(c.G, c.OutDims(0), c.InDims(0)));
}

/// <summary>Tile: dY reshaped to [r0, d0, r1, d1, …] and summed over the repeat axes.</summary>
internal sealed class TileRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Tile"];

    public override void Backward(RuleContext c)
    {
        var x = c.InDims(0);
        var y = c.OutDims(0);
        var split = new long[2 * x.Length];
        var axes = new List<long>();
        for (int i = 0; i < x.Length; i++)
        {
            split[2 * i] = x[i] == 0 ? 0 : y[i] / x[i];
            split[2 * i + 1] = x[i];
            axes.Add(2 * i);
        }
        string g = c.Reshape(c.G, split);
        c.AddGrad(0, c.ReshapeTo(c.ReduceSum(g, axes.ToArray(), keepDims: true), split.Select((v, i) => i % 2 == 0 ? 1 : v).ToArray(), x));
    }
}

/// <summary>DepthToSpace (DCR, CRD), SpaceToDepth: each is Reshape→Transpose→Reshape; dX undoes it (Reshape, inverse Transpose, Reshape).</summary>
internal sealed class DepthToSpaceRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["DepthToSpace", "SpaceToDepth"];

    public override void Backward(RuleContext c)
    {
        var x = c.InDims(0);
        if (x.Length != 4) throw c.Fail("only 4-D inputs are supported");
        long b = c.Node.GetInt("blocksize", 0);
        long n = x[0], ch = x[1], h = x[2], w = x[3];
        long[] transposedShape, inversePerm;
        if (c.Node.OpType == "SpaceToDepth")
        {
            // x → [N,C,H/b,b,W/b,b] → perm [0,3,5,1,2,4] → [N,b,b,C,H/b,W/b]
            transposedShape = [n, b, b, ch, h / b, w / b];
            inversePerm = [0, 3, 4, 1, 5, 2];
        }
        else if (c.Node.GetString("mode", "DCR") == "CRD")
        {
            // x → [N,C/b²,b,b,H,W] → perm [0,1,4,2,5,3] → [N,C/b²,H,b,W,b]
            transposedShape = [n, ch / (b * b), h, b, w, b];
            inversePerm = [0, 1, 3, 5, 2, 4];
        }
        else
        {
            // x → [N,b,b,C/b²,H,W] → perm [0,3,4,1,5,2] → [N,C/b²,H,b,W,b]
            transposedShape = [n, ch / (b * b), h, b, w, b];
            inversePerm = [0, 3, 5, 1, 2, 4];
        }
        string g = c.Reshape(c.G, transposedShape);
        g = c.Transpose(g, inversePerm);
        c.AddGrad(0, c.Reshape(g, x));
    }
}
