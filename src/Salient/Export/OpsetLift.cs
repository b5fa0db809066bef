using Salient.Models;
using Salient.Onnx;

namespace Salient.Export;

/// <summary>
/// Brings a forward graph of an older opset to opset 18 (the backward's), node by node: the ops
/// whose meaning changed on the way are rewritten (axes and split sizes from attributes to inputs,
/// Clip bounds to inputs, inference Dropout to Identity, BatchNormalization's legacy attributes
/// dropped, 2-D-coerced Softmax kept where the axis is the last one); the few that cannot be
/// rewritten here are refused with a line naming the op and the opset to re-export at. Ops not
/// listed changed only in the types they accept between their versions, so they are kept as they are.
/// </summary>
internal static class OpsetLift
{
    public const long Target = 18;

    private static readonly HashSet<string> ReduceAxesInput18 =
        ["ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"];

    /// <summary>Ops this lift cannot rewrite, with the opset from which they mean what opset 18 means.</summary>
    private static readonly Dictionary<string, long> Refused = new(StringComparer.Ordinal)
    {
        ["Upsample"] = long.MaxValue, ["Resize"] = 11, ["Pad"] = 11, ["Slice"] = 10, ["TopK"] = 10,
        ["Add"] = 7, ["Sub"] = 7, ["Mul"] = 7, ["Div"] = 7, ["Gemm"] = 7, ["PRelu"] = 7, ["BatchNormalization"] = 7,
    };

    public static Graph Lift(Graph forward, IReadOnlyDictionary<string, TensorShape> shapes)
    {
        long from = forward.DefaultOpset;
        var g = forward.Clone();
        g.Opsets[""] = Target;
        if (from >= Target) return g;
        var names = new HashSet<string>(g.Initializers.Keys.Concat(g.Nodes.SelectMany(n => n.Outputs)), StringComparer.Ordinal);
        int counter = 0;
        string Ints(long[] v)
        {
            string name;
            do name = $"lift{counter++}_const"; while (!names.Add(name));
            g.Initializers[name] = Tensor.FromInt64s(name, [v.Length], v);
            return name;
        }
        string Scalar(float v)
        {
            string name;
            do name = $"lift{counter++}_const"; while (!names.Add(name));
            g.Initializers[name] = Tensor.Scalar(name, v);
            return name;
        }
        for (int k = 0; k < g.Nodes.Count; k++)
        {
            var n = g.Nodes[k];
            if (!n.IsDefaultDomain) continue;
            if (Refused.TryGetValue(n.OpType, out var since) && from < since)
                throw new SalientException(since == long.MaxValue
                    ? $"the model uses {n.OpType} (removed from ONNX in opset 10), which export cannot lift to opset {Target}; re-export the model with Resize at opset ≥ 13"
                    : $"the model's {n.Describe()} is opset {from}, whose meaning export cannot lift to opset {Target}; re-export the model at opset ≥ {since}");
            var axes = n.GetInts("axes");
            if ((ReduceAxesInput18.Contains(n.OpType) || (n.OpType == "ReduceSum" && from < 13)) && !n.HasInput(1))
            {
                if (axes is not null)
                {
                    n.Inputs.Add(Ints(axes));
                    n.Attributes.Remove("axes");
                }
            }
            else if (n.OpType is "Squeeze" or "Unsqueeze" && from < 13 && axes is not null)
            {
                n.Inputs.Add(Ints(axes));
                n.Attributes.Remove("axes");
            }
            else if (n.OpType == "Split")
            {
                if (from < 13 && n.GetInts("split") is { } split)
                {
                    n.Inputs.Add(Ints(split));
                    n.Attributes.Remove("split");
                }
                if (!n.HasInput(1) && !n.Has("num_outputs")) n.Set("num_outputs", (long)n.Outputs.Count);
            }
            else if (n.OpType == "Clip" && from < 11)
            {
                float min = n.GetFloat("min", float.MinValue), max = n.GetFloat("max", float.MaxValue);
                n.Attributes.Remove("min");
                n.Attributes.Remove("max");
                n.Inputs.Add(Scalar(min));
                n.Inputs.Add(Scalar(max));
            }
            else if (n.OpType == "Dropout" && from < 12)
            {
                if (n.Outputs.Count > 1 && n.Outputs[1] != "")
                    throw new SalientException($"the model's {n.Describe()} uses its mask output, which export cannot lift; re-export the model at opset ≥ 12");
                g.Nodes[k] = new Node("Identity", [n.Inputs[0]], [n.Outputs[0]], n.Name);
            }
            else if (n.OpType == "BatchNormalization" && from < 9)
            {
                if (n.GetInt("spatial", 1) != 1)
                    throw new SalientException($"the model's {n.Describe()} has spatial=0 (opset {from}), which export cannot lift; re-export the model at opset ≥ 9");
                foreach (var old in new[] { "spatial", "is_test", "consumed_inputs" }) n.Attributes.Remove(old);
            }
            else if (n.OpType is "Softmax" or "LogSoftmax" or "Hardmax" && from < 13)
            {
                long rank = shapes.TryGetValue(n.Inputs[0], out var s) ? s.Rank : -1;
                long axis = n.GetInt("axis", 1);
                if (rank < 0 || (axis < 0 ? axis + rank : axis) != rank - 1)
                    throw new SalientException($"the model's {n.Describe()} (opset {from}) normalizes over the axes from {axis} on, which opset {Target} does not express as one op; re-export the model at opset ≥ 13");
            }
        }
        g.Invalidate();
        return g;
    }
}
