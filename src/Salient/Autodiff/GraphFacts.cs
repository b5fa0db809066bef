using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;
using Tensor = Salient.Onnx.Tensor;

namespace Salient.Autodiff;

/// <summary>
/// Concrete facts about every tensor of a graph at one input shape, from one probe run with every
/// intermediate exposed (<see cref="ShapeProbe"/>, in Models): element type and shape, plus the
/// VALUES of small tensors (≤ 64 elements). What is gradient-specific lives here: extrapolating the
/// facts to a large batch from probes at batch 1 and 2, and when that is exact.
/// The small values let rules read Slice starts, Pad amounts, Resize scales or Gather indices
/// that the model computes from shapes (Shape → Gather → Concat …) as if they were constants;
/// that is exact as long as those values depend only on the input shape, which is what every
/// program here is specialized to anyway.
/// </summary>
internal sealed class GraphFacts
{

    private GraphFacts(Dictionary<string, TensorShape> shapes, Dictionary<string, Tensor> small, TimeSpan time)
    {
        Shapes = shapes;
        Small = small;
        ProbeTime = time;
    }

    public Dictionary<string, TensorShape> Shapes { get; }
    public Dictionary<string, Tensor> Small { get; }
    public TimeSpan ProbeTime { get; }

    /// <summary>The facts at one input shape, from one probe run (<see cref="ShapeProbe"/>) that keeps the values of small tensors.</summary>
    public static GraphFacts Probe(Graph graph, string inputName, DataType inputType, long[] inputShape, RuntimeOptions options)
    {
        var p = ShapeProbe.Probe(graph, inputName, inputType, inputShape, options, ShapeProbe.SmallLimit);
        return From(p);
    }

    /// <summary>The facts of a probe already run (the model's own, shared with its structure).</summary>
    public static GraphFacts From(ProbeResult p) => new(p.Shapes, p.Small, p.Time);

    /// <summary>
    /// The facts at batch <paramref name="batch"/> from the facts at batch 1 and 2, without a probe
    /// at that batch (a probe exposes every intermediate at once, so at batch 8 it would cost several
    /// times the memory of the forward pass itself). Every dimension and every shape-derived integer
    /// value is taken as a linear function of the batch size — true for what CNN graphs compute from
    /// shapes (N, N·C, N·H·W …). Small values that differ between the two probes but are not integer,
    /// or whose own shape depends on the batch, are data, not shape arithmetic: they are dropped
    /// (rules then treat them as not constant). Returns null when the two probes disagree in a way a
    /// linear batch axis cannot explain (different ranks or types, a dimension that would be ≤ 0);
    /// the caller then probes at the real batch. Only valid when <see cref="BatchArithmeticIsLinear"/>.
    /// </summary>
    public static GraphFacts? Extrapolate(GraphFacts one, GraphFacts two, long batch)
    {
        var shapes = new Dictionary<string, TensorShape>(one.Shapes.Count);
        foreach (var (name, s1) in one.Shapes)
        {
            if (!two.Shapes.TryGetValue(name, out var s2) || s1.Type != s2.Type || s1.Rank != s2.Rank) return null;
            var dims = new long[s1.Rank];
            for (int i = 0; i < dims.Length; i++)
            {
                dims[i] = s1.Dims[i] + (s2.Dims[i] - s1.Dims[i]) * (batch - 1);
                if (dims[i] < 0 || (dims[i] == 0 && s1.Dims[i] != 0)) return null;
            }
            shapes[name] = new TensorShape(s1.Type, dims);
        }
        var small = new Dictionary<string, Tensor>();
        foreach (var (name, v1) in one.Small)
        {
            if (!two.Small.TryGetValue(name, out var v2) || !Salient.Onnx.Shapes.Equal(v1.Dims, v2.Dims)) continue;
            if (!Salient.Onnx.Shapes.Equal(v1.Dims, shapes[name].Dims)) continue;
            if (SameValues(v1.Data, v2.Data)) small[name] = v1;
            else if (v1.Data is long[] a && v2.Data is long[] b)
                small[name] = new Tensor(name, v1.Type, v1.Dims, a.Select((x, i) => x + (b[i] - x) * (batch - 1)).ToArray());
            else if (v1.Data is int[] c && v2.Data is int[] d)
                small[name] = new Tensor(name, v1.Type, v1.Dims, c.Select((x, i) => checked((int)(x + (d[i] - x) * (batch - 1)))).ToArray());
        }
        return new GraphFacts(shapes, small, one.ProbeTime + two.ProbeTime);
    }

    // Ops through which shape values stay linear in the batch size N (Mul: by a batch-independent factor only).
    private static readonly HashSet<string> LinearValueOps =
        ["Gather", "Slice", "Concat", "Unsqueeze", "Squeeze", "Identity", "Cast", "Add", "Sub", "Neg", "Mul", "Reshape", "Flatten"];
    // Ops that read shape values as parameters (sizes, starts, pads…) of a data result: position of the first parameter input.
    private static readonly Dictionary<string, int> ShapeParameterOps = new()
    {
        ["Reshape"] = 1, ["Expand"] = 1, ["Tile"] = 1, ["Pad"] = 1, ["Slice"] = 1, ["Resize"] = 1, ["Upsample"] = 1,
        ["ConstantOfShape"] = 0, ["Range"] = 0,
    };

    /// <summary>
    /// True when every value the graph computes from the batch size (Shape/Size of batch-dependent
    /// tensors, and what follows) goes only through ops that keep it linear in N — the condition
    /// under which <see cref="Extrapolate"/> is exact. Min/Max/Div/Mod/comparisons/Where on such a
    /// value (e.g. a Slice end of Min(N, 2)) make it false, and the engine probes at the real batch.
    /// </summary>
    public static bool BatchArithmeticIsLinear(Graph graph, string inputName)
    {
        var data = new HashSet<string>(StringComparer.Ordinal) { inputName };
        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
        {
            bool dataIn = n.Inputs.Any(data.Contains);
            var valueInputs = Enumerable.Range(0, n.Inputs.Count).Where(i => values.Contains(n.Inputs[i])).ToList();
            if (n.OpType is "Shape" or "Size")
            {
                if (dataIn) foreach (var o in n.Outputs) values.Add(o);
                continue;
            }
            if (valueInputs.Count > 0)
            {
                bool asParameters = ShapeParameterOps.TryGetValue(n.OpType, out int first) && valueInputs.All(i => i >= first)
                    && (first == 0 || !values.Contains(n.Inputs[0]));
                if (asParameters)
                {
                    foreach (var o in n.Outputs) data.Add(o);
                    continue;
                }
                if (!LinearValueOps.Contains(n.OpType) || (n.OpType == "Mul" && valueInputs.Count > 1)) return false;
                foreach (var o in n.Outputs) (dataIn ? data : values).Add(o);
                continue;
            }
            if (dataIn) foreach (var o in n.Outputs) data.Add(o);
        }
        return true;
    }

    private static bool SameValues(Array a, Array b)
    {
        if (a.Length != b.Length || a.GetType() != b.GetType()) return false;
        for (int i = 0; i < a.Length; i++)
            if (!Equals(a.GetValue(i), b.GetValue(i))) return false;
        return true;
    }
}
