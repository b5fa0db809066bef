using Salient.Onnx;

namespace Salient.Autodiff;

/// <summary>
/// Which tensors are differentiated: those on a path from some wrt tensor to the score —
/// (forward-reachable from wrt) ∩ (backward-reachable from the score) — following floating-point
/// tensors only, so shape arithmetic is never differentiated. Also checks the request's tensor names.
/// </summary>
internal static class PathAnalysis
{
    /// <summary>Throws unless every tensor the request names exists and the score is computed by the model.</summary>
    public static void CheckRequest(Graph model, string inputName, string score, IReadOnlyList<string> wrt, IReadOnlyList<string> alsoFetch)
    {
        if (wrt.Count == 0) throw new SalientException("the gradient request names no tensor to differentiate with respect to (Wrt is empty)");
        CheckTensor(model, inputName, score, "score tensor");
        if (model.Producer(score) is null)
            throw new SalientException($"score tensor '{score}' is not computed by the model; choose a layer or output tensor");
        foreach (var w in wrt) CheckTensor(model, inputName, w, "tensor");
        foreach (var f in alsoFetch) CheckTensor(model, inputName, f, "tensor");
    }

    /// <summary>The float32 tensors on a path from <paramref name="wrt"/> to <paramref name="score"/> (wrt and score included).</summary>
    public static HashSet<string> ActiveTensors(Graph model, Func<string, DataType> typeOf, string score, IReadOnlyList<string> wrt, string pathDescription)
    {
        bool IsFloating(string tensor) => tensor != "" && DataTypes.IsFloating(typeOf(tensor));

        // Forward-reachable from wrt, following floating-point tensors only.
        var reach = new HashSet<string>(wrt.Where(IsFloating), StringComparer.Ordinal);
        foreach (var n in model.Nodes)
            if (n.Inputs.Any(i => i != "" && reach.Contains(i)))
                foreach (var o in n.Outputs)
                    if (IsFloating(o)) reach.Add(o);
        // Backward-reachable from the score.
        var back = new HashSet<string>(StringComparer.Ordinal) { score };
        for (int k = model.Nodes.Count - 1; k >= 0; k--)
        {
            var n = model.Nodes[k];
            if (!n.Outputs.Any(back.Contains)) continue;
            foreach (var i in n.Inputs)
                if (IsFloating(i)) back.Add(i);
        }
        foreach (var w in wrt)
        {
            if (!IsFloating(w))
                throw new SalientException($"cannot differentiate with respect to '{w}': it is a {typeOf(w)} tensor, not a floating-point one");
            if (!back.Contains(w))
                throw new SalientException(IntegerOpsBetween(model, typeOf, score, w) is { Count: > 0 } ops
                    ? $"cannot differentiate '{score}' with respect to '{w}': {QuantizedOps(model)}the path between them runs through ops on integer tensors, which have no gradient ({string.Join(", ", ops.Take(4))}{(ops.Count > 4 ? ", …" : "")}); " +
                      "gradient methods need float activations (a float model, or one with only its weights quantized behind DequantizeLinear); cam, eigencam, occlusion and rise work without gradients"
                    : $"score tensor '{score}' does not depend on '{w}'; choose a tensor that comes before it");
        }
        var active = new HashSet<string>(reach.Where(back.Contains), StringComparer.Ordinal);
        foreach (var t in active)
            if (typeOf(t) != DataType.Float)
                throw new SalientException($"tensor '{t}' ({pathDescription}) is {typeOf(t)}; the gradient engine differentiates float32 tensors only");
        return active;
    }

    /// <summary>The op types (most frequent first) of the nodes between <paramref name="from"/> and <paramref name="score"/> that read or write a non-float tensor.</summary>
    private static List<string> IntegerOpsBetween(Graph model, Func<string, DataType> typeOf, string score, string from)
    {
        var reach = new HashSet<string>(StringComparer.Ordinal) { from };
        foreach (var n in model.Nodes)
            if (n.Inputs.Any(i => i != "" && reach.Contains(i)))
                foreach (var o in n.Outputs) if (o != "") reach.Add(o);
        var back = new HashSet<string>(StringComparer.Ordinal) { score };
        var ops = new List<string>();
        for (int k = model.Nodes.Count - 1; k >= 0; k--)
        {
            var n = model.Nodes[k];
            if (!n.Outputs.Any(back.Contains)) continue;
            foreach (var i in n.Inputs) if (i != "") back.Add(i);
            bool onPath = n.Inputs.Any(i => i != "" && reach.Contains(i));
            if (onPath && n.Inputs.Concat(n.Outputs).Any(t => t != "" && !model.IsConstant(t) && !DataTypes.IsFloating(SafeType(typeOf, t))))
                ops.Add(n.OpType);
        }
        return ops.GroupBy(o => o).OrderByDescending(g => g.Count()).Select(g => g.Key).ToList();
    }

    /// <summary>"the model is quantized with QLinearConv ×52, QLinearAdd ×10…; " for models with integer-arithmetic ops, else "".</summary>
    private static string QuantizedOps(Graph model)
    {
        var q = model.Nodes.Where(n => n.OpType.StartsWith("QLinear", StringComparison.Ordinal) || n.OpType.EndsWith("Integer", StringComparison.Ordinal))
            .GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} ×{g.Count()}").ToList();
        return q.Count == 0 ? "" : $"the model is quantized with integer-arithmetic ops ({string.Join(", ", q)}); ";
    }

    private static DataType SafeType(Func<string, DataType> typeOf, string t)
    {
        try { return typeOf(t); }
        catch (Exception e) when (e is KeyNotFoundException or SalientException) { return DataType.Float; }
    }

    private static void CheckTensor(Graph model, string inputName, string t, string what)
    {
        if (t == inputName || model.IsConstant(t) || model.Producer(t) is not null) return;
        var near = model.IntermediateNames().Where(n => n.Contains(t, StringComparison.OrdinalIgnoreCase)).Take(5).ToList();
        throw new SalientException($"{what} '{t}' is not in the model" +
            (near.Count > 0 ? $"; similar names: {string.Join(", ", near)}" : "; list the layers to see valid names"));
    }
}
