namespace Salient.Onnx;

/// <summary>
/// Salient's in-memory ONNX graph: nodes in topological order, constant tensors (initializers and
/// folded constants), the real inputs (those not fed by initializers) and the outputs.
/// </summary>
internal sealed class Graph
{
    private Dictionary<string, Node>? _producer;
    private Dictionary<string, List<Node>>? _consumers;

    public List<Node> Nodes { get; } = new();
    public Dictionary<string, Tensor> Initializers { get; } = new();
    public List<ValueInfo> Inputs { get; } = new();
    public List<ValueInfo> Outputs { get; } = new();
    /// <summary>Declared types/shapes of intermediates (value_info), where the file has them.</summary>
    public Dictionary<string, ValueInfo> ValueInfos { get; } = new();
    /// <summary>Opset version per domain ("" = default ONNX domain).</summary>
    public Dictionary<string, long> Opsets { get; } = new();
    public long IrVersion { get; set; } = 8;
    public string ProducerName { get; set; } = "";
    public string Name { get; set; } = "graph";

    public long DefaultOpset => Opsets.TryGetValue("", out var v) ? v : Opsets.TryGetValue("ai.onnx", out v) ? v : 0;

    /// <summary>Call after changing <see cref="Nodes"/> so producer/consumer look-ups are rebuilt.</summary>
    public void Invalidate() { _producer = null; _consumers = null; }

    public Node? Producer(string tensor)
    {
        if (_producer is null)
        {
            _producer = new();
            foreach (var n in Nodes)
                foreach (var o in n.Outputs)
                    if (o != "") _producer[o] = n;
        }
        return _producer.GetValueOrDefault(tensor);
    }

    public IReadOnlyList<Node> Consumers(string tensor)
    {
        if (_consumers is null)
        {
            _consumers = new();
            foreach (var n in Nodes)
                foreach (var i in n.Inputs.Distinct())
                    if (i != "")
                    {
                        if (!_consumers.TryGetValue(i, out var l)) _consumers[i] = l = new();
                        l.Add(n);
                    }
        }
        return _consumers.TryGetValue(tensor, out var list) ? list : [];
    }

    public bool IsConstant(string tensor) => Initializers.ContainsKey(tensor);

    public Tensor? Constant(string tensor) => tensor != "" && Initializers.TryGetValue(tensor, out var t) ? t : null;

    public bool IsGraphOutput(string tensor) => Outputs.Any(o => o.Name == tensor);

    /// <summary>Every tensor name produced by a node, in topological order.</summary>
    public IEnumerable<string> IntermediateNames() => Nodes.SelectMany(n => n.Outputs).Where(o => o != "");

    /// <summary>Shallow structural copy: new node/list objects (attributes shared), same tensors.</summary>
    public Graph Clone()
    {
        var g = new Graph { IrVersion = IrVersion, ProducerName = ProducerName, Name = Name };
        foreach (var n in Nodes) g.Nodes.Add(n.Clone());
        foreach (var kv in Initializers) g.Initializers[kv.Key] = kv.Value;
        g.Inputs.AddRange(Inputs);
        g.Outputs.AddRange(Outputs);
        foreach (var kv in ValueInfos) g.ValueInfos[kv.Key] = kv.Value;
        foreach (var kv in Opsets) g.Opsets[kv.Key] = kv.Value;
        return g;
    }

    /// <summary>
    /// Drops every node and initializer that no graph output needs (nodes must be in topological
    /// order), so ORT computes nothing else. What a kept node's subgraphs (If/Loop/Scan) read from the
    /// outer scope is needed too.
    /// </summary>
    public void KeepOnlyWhatOutputsNeed()
    {
        var need = new HashSet<string>(Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var kept = new List<Node>();
        for (int k = Nodes.Count - 1; k >= 0; k--)
        {
            var n = Nodes[k];
            if (!n.Outputs.Any(need.Contains)) continue;
            kept.Add(n);
            foreach (var input in n.Inputs.Concat(SubgraphInputs(n))) if (input != "") need.Add(input);
        }
        kept.Reverse();
        Nodes.Clear();
        Nodes.AddRange(kept);
        foreach (var k in Initializers.Keys.ToList())
            if (!need.Contains(k)) Initializers.Remove(k);
        Invalidate();
    }

    /// <summary>Nodes sorted so every node comes after the producers of its inputs (stable).</summary>
    public void SortTopologically()
    {
        var available = new HashSet<string>(Initializers.Keys);
        foreach (var i in Inputs) available.Add(i.Name);
        available.Add("");
        var remaining = new List<Node>(Nodes);
        var sorted = new List<Node>(Nodes.Count);
        // Kahn's algorithm via dependency counts.
        var producedBy = new Dictionary<string, int>();
        for (int i = 0; i < remaining.Count; i++)
            foreach (var o in remaining[i].Outputs)
                if (o != "") producedBy[o] = i;
        var pending = new int[remaining.Count];
        var dependents = new List<int>[remaining.Count];
        for (int i = 0; i < remaining.Count; i++) dependents[i] = new();
        for (int i = 0; i < remaining.Count; i++)
        {
            foreach (var inp in remaining[i].Inputs.Concat(SubgraphInputs(remaining[i])).Distinct())
            {
                if (available.Contains(inp)) continue;
                if (producedBy.TryGetValue(inp, out int p))
                {
                    if (p == i) throw new SalientException($"{remaining[i].Describe()} consumes its own output '{inp}'");
                    pending[i]++;
                    dependents[p].Add(i);
                }
                else if (!SubgraphInputs(remaining[i]).Contains(inp))
                    throw new SalientException($"{remaining[i].Describe()} reads '{inp}', which no node, input or initializer provides");
            }
        }
        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < remaining.Count; i++) if (pending[i] == 0) ready.Enqueue(i, i);
        while (ready.Count > 0)
        {
            int i = ready.Dequeue();
            sorted.Add(remaining[i]);
            foreach (int d in dependents[i]) if (--pending[d] == 0) ready.Enqueue(d, d);
        }
        if (sorted.Count != remaining.Count)
            throw new SalientException("the graph has a cycle; ONNX graphs must be acyclic");
        Nodes.Clear();
        Nodes.AddRange(sorted);
        Invalidate();
    }

    /// <summary>Outer-scope names that a node's subgraph attributes (If/Loop/Scan) read.</summary>
    private static IEnumerable<string> SubgraphInputs(Node n)
    {
        foreach (var a in n.Attributes.Values)
        {
            if (a.Raw?.G is { } g)
                foreach (var name in OuterNames(g)) yield return name;
            if (a.Raw is { } r)
                foreach (var sg in r.Graphs)
                    foreach (var name in OuterNames(sg)) yield return name;
        }
    }

    private static IEnumerable<string> OuterNames(Proto.GraphProto g)
    {
        var local = new HashSet<string>(g.Initializer.Select(t => t.Name).Concat(g.Input.Select(i => i.Name)));
        foreach (var n in g.Node) foreach (var o in n.Output) local.Add(o);
        foreach (var n in g.Node)
            foreach (var i in n.Input)
                if (i != "" && !local.Contains(i)) yield return i;
    }
}
