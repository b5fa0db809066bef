using Salient.Autodiff.Rules;
using Salient.Onnx;

namespace Salient.Autodiff;

/// <summary>
/// The gradient contributions each tensor receives, summed (one <c>Sum</c> node) the first time the
/// tensor's total is read — after every consumer, in reverse topological order, has contributed.
/// </summary>
internal sealed class GradientSums
{
    private readonly BackwardGraphWriter _w;
    private readonly Dictionary<string, List<string>> _contributions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _final = new(StringComparer.Ordinal);

    public GradientSums(BackwardGraphWriter w) => _w = w;

    public void Add(string tensor, string grad)
    {
        if (_final.ContainsKey(tensor))
            throw new SalientException($"internal: gradient of '{tensor}' received after it was summed");
        if (!_contributions.TryGetValue(tensor, out var list)) _contributions[tensor] = list = new();
        list.Add(grad);
    }

    /// <summary>The gradient of <paramref name="tensor"/> (the sum of its contributions), or null when none arrived.</summary>
    public string? Total(string tensor)
    {
        if (_final.TryGetValue(tensor, out var done)) return done;
        if (!_contributions.TryGetValue(tensor, out var list) || list.Count == 0) return null;
        string g = list.Count == 1 ? list[0] : _w.Emit("Sum", list.ToArray(), 1).Outputs[0];
        _final[tensor] = g;
        return g;
    }
}

/// <summary>
/// The reverse sweep: every model node with an active output and an active input, last to first,
/// handed to its op's rule with the gradients of its outputs. An op without a rule is an error.
/// </summary>
internal static class ReverseSweep
{
    /// <summary>Runs the rules; returns the differentiated nodes in reverse topological order.</summary>
    public static List<Node> Run(BackwardBuilder builder, Graph model, HashSet<string> active, GradientSums sums, string pathDescription)
    {
        var differentiated = new List<Node>();
        for (int k = model.Nodes.Count - 1; k >= 0; k--)
        {
            var n = model.Nodes[k];
            if (!n.Outputs.Any(o => o != "" && active.Contains(o))) continue;
            var onPath = new HashSet<int>();
            for (int i = 0; i < n.Inputs.Count; i++)
                if (n.Inputs[i] != "" && active.Contains(n.Inputs[i])) onPath.Add(i);
            if (onPath.Count == 0) continue;
            var outGrads = n.Outputs.Select(o => o != "" && active.Contains(o) ? sums.Total(o) : null).ToArray();
            if (outGrads.All(g => g is null)) continue;
            var rule = n.IsDefaultDomain ? RuleRegistry.Find(n.OpType) : null;
            if (rule is null)
                throw new SalientException(
                    $"no gradient rule for op '{(n.IsDefaultDomain ? "" : n.Domain + ".")}{n.OpType}' ({n.Describe()}, {pathDescription}); " +
                    $"supported ops: {string.Join(", ", RuleRegistry.SupportedOps)}; choose a layer after it or open an issue");
            rule.Backward(new RuleContext(builder, n, k, onPath, outGrads));
            differentiated.Add(n);
        }
        return differentiated;
    }
}
