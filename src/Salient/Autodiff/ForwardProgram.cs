using Salient.Onnx;

namespace Salient.Autodiff;

/// <summary>
/// The forward program of a request: what it must output (activations the rules read, the score,
/// wrt and AlsoFetch tensors), the optional node outputs it must add (MaxPool Indices on the
/// path), and the program itself — the model at its own opset with those outputs and only the
/// nodes they need.
/// </summary>
internal sealed class ForwardProgram
{
    private readonly List<string> _outputs = new();
    private readonly HashSet<string> _outputSet = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Node, int Output), string> _extraOutputs = new();

    public IReadOnlyList<string> Outputs => _outputs;

    /// <summary>Optional outputs added to forward nodes, by node index.</summary>
    public IReadOnlyDictionary<(int Node, int Output), string> ExtraOutputs => _extraOutputs;

    public void AddOutput(string tensor)
    {
        if (_outputSet.Add(tensor)) _outputs.Add(tensor);
    }

    public void RemoveOutput(string tensor)
    {
        if (_outputSet.Remove(tensor)) _outputs.Remove(tensor);
        foreach (var key in _extraOutputs.Where(kv => kv.Value == tensor).Select(kv => kv.Key).ToList()) _extraOutputs.Remove(key);
    }

    public bool TryGetExtraOutput(int node, int output, out string name) => _extraOutputs.TryGetValue((node, output), out name!);

    public void AddExtraOutput(int node, int output, string name) => _extraOutputs[(node, output)] = name;

    /// <summary>The model with the extra node outputs, <see cref="Outputs"/> as its outputs, and only the nodes and initializers they need.</summary>
    public Graph Build(Graph model)
    {
        var g = model.Clone();
        foreach (var ((node, output), name) in _extraOutputs)
        {
            var n = g.Nodes[node];
            while (n.Outputs.Count <= output) n.Outputs.Add("");
            n.Outputs[output] = name;
        }
        g.Invalidate();
        g.Outputs.Clear();
        foreach (var o in _outputs)
            g.Outputs.Add(new ValueInfo(o, DataType.Undefined, null));
        g.KeepOnlyWhatOutputsNeed();
        g.ValueInfos.Clear();
        return g;
    }
}
