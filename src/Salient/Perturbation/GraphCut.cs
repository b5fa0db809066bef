using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;

namespace Salient.Perturbation;

/// <summary>
/// The part of a graph after a tensor: a sub-model whose inputs are that tensor plus every other
/// non-constant tensor the rest of the network reads (a head may read earlier tensors, e.g. a skip
/// connection that bypasses the layer), and whose output is the requested tensor (the logits).
/// The nodes are those downstream of the layer that the output needs; everything else — the
/// whole prefix of the network — is never run again. The extra inputs are fed from the forward run.
/// </summary>
internal sealed class GraphCut
{
    private GraphCut(Graph head, string layer, IReadOnlyList<string> extras, IReadOnlySet<string> perRowExtras, string output)
    {
        Head = head;
        Layer = layer;
        ExtraInputs = extras;
        PerRowExtras = perRowExtras;
        Output = output;
    }

    /// <summary>The sub-model (its first input is <see cref="Layer"/>).</summary>
    public Graph Head { get; }
    public string Layer { get; }
    /// <summary>Other inputs of the sub-model: tensors of the full graph computed before (or beside) the layer.</summary>
    public IReadOnlyList<string> ExtraInputs { get; }
    /// <summary>The extras that carry the batch axis (activations); the others (shape vectors…) are fed whole.</summary>
    public IReadOnlySet<string> PerRowExtras { get; }
    public string Output { get; }
    /// <summary>Nodes in the head.</summary>
    public int NodeCount => Head.Nodes.Count;

    /// <summary>Cuts <paramref name="graph"/> after <paramref name="layer"/>; <paramref name="shapes"/> come from a shape probe at batch <paramref name="probeBatch"/>.</summary>
    public static GraphCut After(Graph graph, IReadOnlyDictionary<string, TensorShape> shapes, string layer, string output, int probeBatch)
    {
        if (layer == output) throw new SalientException($"cannot cut the graph at its output '{output}'");
        // Nodes downstream of the layer.
        var downstream = new HashSet<Node>();
        var queue = new Queue<string>();
        queue.Enqueue(layer);
        var seenTensors = new HashSet<string> { layer };
        while (queue.Count > 0)
        {
            foreach (var n in graph.Consumers(queue.Dequeue()))
                if (downstream.Add(n))
                    foreach (var o in n.Outputs)
                        if (o != "" && seenTensors.Add(o)) queue.Enqueue(o);
        }

        // Walk back from the output through downstream nodes only.
        var included = new HashSet<Node>();
        var extras = new List<string>();
        bool usesLayer = false;
        var visited = new HashSet<string>();
        var stack = new Stack<string>();
        stack.Push(output);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (t == "" || !visited.Add(t)) continue;
            if (t == layer) { usesLayer = true; continue; }
            if (graph.IsConstant(t)) continue;
            var p = graph.Producer(t);
            if (p is null || !downstream.Contains(p)) { extras.Add(t); continue; }
            if (included.Add(p))
                foreach (var i in p.Inputs) stack.Push(i);
        }
        if (!usesLayer)
            throw new SalientException($"the model's output '{output}' does not depend on layer '{layer}'; choose a layer on the path to the output");

        var head = new Graph { IrVersion = graph.IrVersion, ProducerName = graph.ProducerName, Name = graph.Name + "_after_" + layer };
        foreach (var kv in graph.Opsets) head.Opsets[kv.Key] = kv.Value;
        bool hasSubgraphs = false;
        foreach (var n in graph.Nodes)
        {
            if (!included.Contains(n)) continue;
            head.Nodes.Add(n.Clone());
            hasSubgraphs |= n.Attributes.Values.Any(a => a.Kind == AttributeKind.Other);
        }
        foreach (var n in head.Nodes)
            foreach (var i in n.Inputs)
                if (i != "" && graph.Initializers.TryGetValue(i, out var c)) head.Initializers[i] = c;
        if (hasSubgraphs) // control flow may read any constant from the outer scope
            foreach (var kv in graph.Initializers) head.Initializers[kv.Key] = kv.Value;

        // Extras in the order the full graph computes them (deterministic input order).
        var order = new Dictionary<string, int>();
        int k = 0;
        foreach (var i in graph.Inputs) order[i.Name] = k++;
        foreach (var t in graph.IntermediateNames()) order.TryAdd(t, k++);
        extras.Sort((a, b) => order.GetValueOrDefault(a, int.MaxValue).CompareTo(order.GetValueOrDefault(b, int.MaxValue)));

        var perRow = new HashSet<string>();
        head.Inputs.Add(InputInfo(layer, shapes, probeBatch, batched: true));
        foreach (var e in extras)
        {
            bool batched = shapes.TryGetValue(e, out var s) && s.Rank >= 2 && DataTypes.IsFloating(s.Type) && s.Dims[0] == probeBatch;
            if (batched) perRow.Add(e);
            head.Inputs.Add(InputInfo(e, shapes, probeBatch, batched));
        }
        var outType = shapes.TryGetValue(output, out var os) ? os.Type : DataType.Float;
        head.Outputs.Add(new ValueInfo(output, outType, null));
        head.Invalidate();
        return new GraphCut(head, layer, extras, perRow, output);
    }

    private static ValueInfo InputInfo(string name, IReadOnlyDictionary<string, TensorShape> shapes, int probeBatch, bool batched)
    {
        if (!shapes.TryGetValue(name, out var s))
            throw new SalientException($"the shape of tensor '{name}' is unknown, so the graph cannot be cut there");
        var dims = new Dim[s.Rank];
        for (int i = 0; i < s.Rank; i++) dims[i] = i == 0 && batched ? Dim.Dynamic("N") : Dim.Fixed(s.Dims[i]);
        if (batched && probeBatch != 1 && s.Rank > 0 && s.Dims[0] != probeBatch)
            throw new SalientException($"tensor '{name}' has no batch axis; the graph cannot be cut there");
        return new ValueInfo(name, s.Type == DataType.Undefined ? DataType.Float : s.Type, dims);
    }
}

/// <summary>A cut graph with its ORT session and default batch size, cached per model and layer.</summary>
internal sealed class CutSession
{
    private CutSession(GraphCut cut, GraphSession session, int defaultBatch)
    {
        Cut = cut;
        Session = session;
        DefaultBatch = defaultBatch;
    }

    public GraphCut Cut { get; }
    public GraphSession Session { get; }
    /// <summary>Rows per batch from the head's memory footprint.</summary>
    public int DefaultBatch { get; }

    /// <summary>The graph of <paramref name="model"/> after <paramref name="layer"/>, up to its logits.</summary>
    public static CutSession For(SalientModel model, string layer) =>
        model.Part(_ => new CutSessions()).Get(layer, l => new Lazy<CutSession>(() => Create(model, l)));

    /// <summary>A model's cut sessions, by layer: a part of the model, disposed with it.</summary>
    private sealed class CutSessions : IDisposable
    {
        private readonly ConcurrentDictionary<string, Lazy<CutSession>> _byLayer = new();

        public CutSession Get(string layer, Func<string, Lazy<CutSession>> create) => _byLayer.GetOrAdd(layer, create).Value;

        public void Dispose()
        {
            foreach (var l in _byLayer.Values) if (l.IsValueCreated) l.Value.Session.Dispose();
            _byLayer.Clear();
        }
    }

    private static CutSession Create(SalientModel model, string layer)
    {
        var s = model.Structure();
        int probe = model.Input.DynamicBatch ? 1 : model.Input.FixedBatch;
        var cut = GraphCut.After(model.Graph, s.Shapes, layer, s.LogitsName, probe);
        var session = new GraphSession(cut.Head, model.Runtime, model.Weights);
        var tensors = cut.Head.IntermediateNames().Concat(cut.Head.Inputs.Select(i => i.Name));
        int batch = Math.Max(1, (int)Math.Min(BatchSizing.MaxRows, BatchSizing.BudgetBytes / BatchSizing.BytesPerRow(cut.Head, s.Shapes, probe, tensors)));
        return new CutSession(cut, session, batch);
    }
}
