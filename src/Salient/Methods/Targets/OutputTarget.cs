using System.Globalization;
using Salient.Models;

namespace Salient.Methods;

/// <summary>
/// <c>output:NAME[INDEX]</c>: the sum of the elements INDEX selects in one row of the model output NAME
/// (any tensor of the model works; no name: the first output). INDEX has one item per non-batch axis —
/// an index <c>3</c> (negative counts from the end), a range <c>1:4</c> (end exclusive) or <c>:</c> — and
/// axes left out are taken whole: <c>output:reg[0]</c> is a regression output's first value,
/// <c>output:masks[2]</c> the sum of channel 2 of an [N, K, H, W] output. The score is linear in the
/// row: its seed is 1 on the selected elements (one element: an index seed).
/// </summary>
internal sealed class OutputTarget(string? name, string? index) : Target
{
    internal override string Kind => "output";

    public override string ToString() => $"output:{name}{(index is null ? "" : $"[{index}]")}";

    internal override TargetBinding Bind(SalientModel model, ModelStructure s)
    {
        string spec = ToString();
        string tensor = name ?? model.Graph.Outputs[0].Name;
        if (!s.Shapes.TryGetValue(tensor, out var shape) || shape.Rank == 0)
        {
            var outputs = model.Graph.Outputs.Select(o => o.Name).ToList();
            var near = Names.Suggest(tensor, outputs);
            throw DoesNotFit(spec, $"names no output '{tensor}'{(near is null ? "" : $" (did you mean '{near}'?)")}", model, s);
        }
        if (!Onnx.DataTypes.IsFloating(shape.Type)) throw DoesNotFit(spec, $"names '{tensor}', which is not a float tensor", model, s);
        var dims = shape.Rank == 1 ? shape.Dims : shape.Dims[1..];
        var selected = Select(dims, index, spec, tensor);
        return new Binding(spec, tensor, (int)Onnx.Tensor.ElementCount(dims), selected, $"{tensor}[{index ?? ":"}]");
    }

    /// <summary>The flat row positions an index string selects in a row of shape <paramref name="dims"/>.</summary>
    internal static int[] Select(long[] dims, string? index, string spec, string tensor)
    {
        var items = string.IsNullOrWhiteSpace(index) ? [] : index.Split(',', StringSplitOptions.TrimEntries);
        if (items.Length > dims.Length)
            throw new SalientException($"target '{spec}': '{tensor}' has {dims.Length} axes after the batch ({Onnx.Shapes.Format(dims)}), the index gives {items.Length}");
        var ranges = new (long Start, long End)[dims.Length];
        for (int a = 0; a < dims.Length; a++)
        {
            long d = dims[a];
            if (a >= items.Length || items[a] is "" or ":") { ranges[a] = (0, d); continue; }
            var it = items[a];
            long Bound(string t, long fallback)
            {
                if (t.Trim().Length == 0) return fallback;
                if (!long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v))
                    throw new SalientException($"target '{spec}': index '{it}' must be an integer, a range a:b or ':'");
                return v < 0 ? v + d : v;
            }
            int colon = it.IndexOf(':');
            long start = colon < 0 ? Bound(it, 0) : Bound(it[..colon], 0);
            long end = colon < 0 ? start + 1 : Bound(it[(colon + 1)..], d);
            if (start < 0 || end > d || start >= end)
                throw new SalientException($"target '{spec}': index '{it}' is out of range for axis {a + 1} of '{tensor}' (size {d})");
            ranges[a] = (start, end);
        }
        var result = new List<int>();
        void Walk(int axis, long offset)
        {
            if (axis == dims.Length) { result.Add((int)offset); return; }
            long stride = 1;
            for (int b = axis + 1; b < dims.Length; b++) stride *= dims[b];
            for (long i = ranges[axis].Start; i < ranges[axis].End; i++) Walk(axis + 1, offset + i * stride);
        }
        Walk(0, 0);
        return result.ToArray();
    }

    private sealed class Binding(string spec, string tensor, int rowLength, int[] selected, string label) : TargetBinding(spec, tensor, rowLength)
    {
        public override bool IndexSeeds => selected.Length == 1;
        public override long SeedIndex(int slot) => selected[0];
        public override int SlotCount => 1;
        public override TargetSlot Describe(int slot) => new(-1, label);
        public override int[][] Resolve(TargetResolution r) => r.Items.Select(_ => new[] { 0 }).ToArray();

        public override float Score(ReadOnlySpan<float> row, int slot)
        {
            double s = 0;
            foreach (int i in selected) s += row[i];
            return (float)s;
        }

        public override void Seed(ReadOnlySpan<float> row, int slot, Span<float> dst)
        {
            foreach (int i in selected) dst[i] += 1;
        }
    }
}
