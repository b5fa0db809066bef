using Salient.Imaging;
using Salient.Onnx;

namespace Salient.Models;

/// <summary>
/// Structural facts derived from the graph and a shape probe: per-tensor layout, the layer table,
/// the automatic target layer, the logits tensor, and layer look-up by name.
/// </summary>
public sealed class ModelStructure
{
    private readonly Graph _graph;

    internal ModelStructure(Graph graph, InputSpec input, IReadOnlyDictionary<string, TensorShape> shapes)
    {
        _graph = graph;
        Input = input;
        Shapes = shapes;
        Layouts = InferLayouts(graph, input, shapes);
        (OutputName, LogitsName, EndsInSoftmax) = FindLogits(graph);
        Layers = BuildLayers();
        DefaultLayer = Layers.FirstOrDefault(l => l.IsDefault)?.Name;
    }

    public InputSpec Input { get; }
    internal IReadOnlyDictionary<string, TensorShape> Shapes { get; }
    public IReadOnlyDictionary<string, TensorLayout> Layouts { get; }
    /// <summary>The model's first output (class scores or probabilities).</summary>
    public string OutputName { get; }
    /// <summary>The pre-softmax class scores: the Softmax's input when the model ends in Softmax, else the output.</summary>
    public string LogitsName { get; }
    public bool EndsInSoftmax { get; }
    public IReadOnlyList<LayerInfo> Layers { get; }
    /// <summary>The last spatial tensor before the global pooling/flatten that leads to the output; null if none.</summary>
    public string? DefaultLayer { get; }

    /// <summary>Scores per image: every non-batch element of the logits ([N, K] → K; a featurizer's [N, K, 1, 1] → K too).</summary>
    public int ClassCount => !Shapes.TryGetValue(LogitsName, out var s) || s.Rank == 0 ? 0
        : s.Rank == 1 ? (int)s.Dims[0] : (int)Tensor.ElementCount(s.Dims[1..]);

    private static (string Output, string Logits, bool Softmax) FindLogits(Graph g)
    {
        string output = g.Outputs[0].Name;
        string logits = output;
        var p = g.Producer(output);
        // Walk back through shape-only wrappers to a Softmax, if the model ends in one.
        while (p is not null && p.OpType is "Identity" or "Flatten" or "Reshape" or "Squeeze") p = g.Producer(p.Inputs[0]);
        if (p is not null && p.OpType == "Softmax") return (output, p.Inputs[0], true);
        return (output, logits, false);
    }

    private static Dictionary<string, TensorLayout> InferLayouts(Graph g, InputSpec input, IReadOnlyDictionary<string, TensorShape> shapes)
    {
        var layouts = new Dictionary<string, TensorLayout> { [input.Name] = input.Layout };
        bool Is4D(string t) => shapes.TryGetValue(t, out var s) && s.Rank == 4;
        foreach (var n in g.Nodes)
        {
            TensorLayout? outLayout = null;
            switch (n.OpType)
            {
                case "Conv" or "ConvTranspose" or "MaxPool" or "AveragePool" or "BatchNormalization" or "InstanceNormalization"
                    or "GlobalAveragePool" or "GlobalMaxPool" or "LRN" or "DepthToSpace" or "SpaceToDepth" or "LpPool" or "MaxUnpool":
                    outLayout = TensorLayout.Nchw;
                    break;
                case "Transpose":
                    {
                        var perm = n.GetInts("perm");
                        if (perm is { Length: 4 } && layouts.TryGetValue(n.Inputs[0], out var inL))
                        {
                            if (perm.SequenceEqual(new long[] { 0, 2, 3, 1 }) && inL == TensorLayout.Nchw) outLayout = TensorLayout.Nhwc;
                            else if (perm.SequenceEqual(new long[] { 0, 3, 1, 2 }) && inL == TensorLayout.Nhwc) outLayout = TensorLayout.Nchw;
                            else if (perm.SequenceEqual(new long[] { 0, 1, 2, 3 })) outLayout = inL;
                        }
                        break;
                    }
                default:
                    foreach (var i in n.Inputs)
                        if (i != "" && Is4D(i) && layouts.TryGetValue(i, out var l)) { outLayout = l; break; }
                    break;
            }
            foreach (var o in n.Outputs)
                if (o != "" && Is4D(o)) layouts[o] = outLayout ?? TensorLayout.Nchw;
        }
        return layouts;
    }

    private List<LayerInfo> BuildLayers()
    {
        var ancestors = Ancestors(LogitsName);
        var rows = new List<LayerInfo>();
        string? defaultLayer = null;
        int index = 0;
        foreach (var n in _graph.Nodes)
        {
            var quantization = _quantization ??= QuantizationConstants(_graph);
            long parameters = n.Inputs.Where(i => i != "" && !quantization.Contains(i) && _graph.Initializers.TryGetValue(i, out var t) && IsParameter(t))
                .Distinct().Sum(i => _graph.Initializers[i].Length);
            bool first = true;
            foreach (var o in n.Outputs)
            {
                if (o == "" || !Shapes.TryGetValue(o, out var shape)) continue;
                TensorLayout? layout = Layouts.TryGetValue(o, out var l) ? l : null;
                bool candidate = false;
                if (shape.Rank == 4 && layout is { } lay && DataTypes.IsFloating(shape.Type))
                {
                    long h = lay == TensorLayout.Nchw ? shape.Dims[2] : shape.Dims[1];
                    long w = lay == TensorLayout.Nchw ? shape.Dims[3] : shape.Dims[2];
                    candidate = h * w > 1;
                }
                if (candidate && ancestors.Contains(o)) defaultLayer = o;
                rows.Add(new LayerInfo(index++, o, n.OpType, n.Name, shape.Dims, first ? parameters : 0, layout, candidate, false));
                first = false;
            }
        }
        return rows.Select(r => r.Name == defaultLayer ? r with { IsDefault = true } : r).ToList();
    }

    /// <summary>A learned parameter: a floating-point constant that is not a scalar (Clip bounds, epsilons… are not counted).</summary>
    /// <summary>
    /// A learned weight: a float tensor, or an integer one as quantized models store their weights
    /// (int8/uint8) and biases (int32), with more than one element. Scales and zero points of
    /// quantization are not counted (<see cref="QuantizationConstants"/>), nor int64 shape constants.
    /// </summary>
    internal static bool IsParameter(Tensor t) =>
        (DataTypes.IsFloating(t.Type) || t.Type is DataType.Int8 or DataType.UInt8 or DataType.Int32) && t.Rank > 0 && t.Length > 1;

    private HashSet<string>? _quantization;

    /// <summary>The scale and zero-point inputs of the quantization ops (QuantizeLinear, DequantizeLinear, QLinear*, *Integer).</summary>
    internal static HashSet<string> QuantizationConstants(Graph g)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in g.Nodes)
        {
            int[] positions = n.OpType switch
            {
                "QuantizeLinear" or "DequantizeLinear" => [1, 2],
                "QLinearConv" or "QLinearMatMul" or "QLinearAdd" or "QLinearMul" => [1, 2, 4, 5, 6, 7],
                "QLinearGlobalAveragePool" or "QLinearAveragePool" or "QLinearSigmoid" or "QLinearLeakyRelu" => [1, 2, 3, 4],
                "ConvInteger" or "MatMulInteger" => [2, 3],
                _ => [],
            };
            foreach (int k in positions)
                if (k < n.Inputs.Count && n.Inputs[k] != "") set.Add(n.Inputs[k]);
        }
        return set;
    }

    /// <summary>Total learned parameters (each constant counted once, even if shared).</summary>
    internal static long TotalParameters(Graph g)
    {
        var quantization = QuantizationConstants(g);
        return g.Initializers.Where(kv => !quantization.Contains(kv.Key) && IsParameter(kv.Value)).Sum(kv => kv.Value.Length);
    }

    private HashSet<string> Ancestors(string tensor)
    {
        var seen = new HashSet<string>();
        var stack = new Stack<string>();
        stack.Push(tensor);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (!seen.Add(t)) continue;
            if (_graph.Producer(t) is { } p)
                foreach (var i in p.Inputs)
                    if (i != "" && !_graph.IsConstant(i)) stack.Push(i);
        }
        return seen;
    }

    /// <summary>
    /// Resolves a user's layer name: "auto", an exact tensor name, an exact node name, or a unique
    /// substring of a tensor name (spatial candidates first). Unknown names fail with the closest names.
    /// </summary>
    /// <summary>
    /// The target layers of a request ("auto" = <paramref name="defaultLayer"/>, else the automatic
    /// layer; names resolved as in <see cref="ResolveLayer"/>), each a 4-D spatial map; duplicates dropped.
    /// </summary>
    public List<LayerInfo> ResolveTargetLayers(IReadOnlyList<string> names, string defaultLayer = "auto")
    {
        var list = new List<LayerInfo>();
        foreach (var name in names.Count == 0 ? ["auto"] : names)
        {
            var l = ResolveLayer(name == "auto" && defaultLayer != "auto" ? defaultLayer : name);
            if (!l.IsCandidate)
                throw new SalientException($"layer '{l.Name}' has shape {Onnx.Shapes.Format(l.Shape)}, not a spatial 4-D map; choose a layer marked as a candidate in `salient layers`");
            if (!list.Contains(l)) list.Add(l);
        }
        return list;
    }

    public LayerInfo ResolveLayer(string query)
    {
        if (string.IsNullOrWhiteSpace(query) || query.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            if (DefaultLayer is null)
                throw new SalientException("the model has no spatial (4-D) layer on the path to its output, so there is no automatic target layer; name one with the `layer` option (candidates are marked in the layer table)");
            return Layers.First(l => l.Name == DefaultLayer);
        }
        var exact = Layers.FirstOrDefault(l => l.Name == query) ?? Layers.FirstOrDefault(l => l.NodeName == query && l.NodeName != "");
        if (exact is not null) return exact;
        var subs = Layers.Where(l => l.Name.Contains(query, StringComparison.Ordinal)).ToList();
        if (subs.Count == 0) subs = Layers.Where(l => l.Name.Contains(query, StringComparison.OrdinalIgnoreCase) || l.NodeName.Contains(query, StringComparison.OrdinalIgnoreCase)).ToList();
        var subCandidates = subs.Where(l => l.IsCandidate).ToList();
        if (subCandidates.Count == 1) return subCandidates[0];
        if (subs.Count == 1) return subs[0];
        if (subs.Count > 1)
        {
            var names = (subCandidates.Count > 0 ? subCandidates : subs).Select(l => l.Name).ToList();
            throw new SalientException($"layer '{query}' is ambiguous: it matches {names.Count} layers ({string.Join(", ", names.Take(8))}{(names.Count > 8 ? ", …" : "")}); give the exact name");
        }
        var closest = Names.Closest(query, Layers.Select(l => l.Name).Distinct(), 5);
        throw new SalientException($"unknown layer '{query}'; closest names: {string.Join(", ", closest)} (`salient layers` lists them all)");
    }
}
