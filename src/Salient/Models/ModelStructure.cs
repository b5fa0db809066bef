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

    internal ModelStructure(Graph graph, InputSpec input, IReadOnlyDictionary<string, TensorShape> shapes, TokenOverride? tokens = null)
    {
        _graph = graph;
        Input = input;
        Shapes = shapes;
        var inDims = shapes.TryGetValue(input.Name, out var inShape) && inShape.Rank == 4 ? inShape.Dims : null;
        _batch = inDims?[0] ?? 1;
        (_inputH, _inputW) = inDims is null ? (0, 0)
            : input.Layout == TensorLayout.Nchw ? ((int)inDims[2], (int)inDims[3]) : ((int)inDims[1], (int)inDims[2]);
        Layouts = InferLayouts(graph, input, shapes, _inputH, _inputW, _notMaps);
        (OutputName, LogitsName, EndsInSoftmax) = FindLogits(graph);
        Layers = BuildLayers(tokens);
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

    private readonly long _batch;
    private readonly int _inputH, _inputW;
    /// <summary>4-D tensors whose layout is only a guess and whose shape is no feature grid of the input (attention scores…): never candidates.</summary>
    private readonly HashSet<string> _notMaps = new(StringComparer.Ordinal);

    private static Dictionary<string, TensorLayout> InferLayouts(Graph g, InputSpec input, IReadOnlyDictionary<string, TensorShape> shapes,
        int inputH, int inputW, HashSet<string> notMaps)
    {
        var layouts = new Dictionary<string, TensorLayout> { [input.Name] = input.Layout };
        // Spatial grids of the maps whose layout an op fixes (Conv, pooling… and what inherits from them), with their halvings.
        var grids = new HashSet<(long, long)>();
        bool Is4D(string t) => shapes.TryGetValue(t, out var s) && s.Rank == 4;
        foreach (var n in g.Nodes)
        {
            TensorLayout? outLayout = null;
            string? from = null;
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
                            if (outLayout is not null) from = n.Inputs[0];
                        }
                        break;
                    }
                default:
                    foreach (var i in n.Inputs)
                        if (i != "" && Is4D(i) && layouts.TryGetValue(i, out var l)) { outLayout = l; from = i; break; }
                    break;
            }
            foreach (var o in n.Outputs)
            {
                if (o == "" || !Is4D(o)) continue;
                if (outLayout is { } known)
                {
                    layouts[o] = known;
                    if (from is not null && notMaps.Contains(from)) notMaps.Add(o);
                    else if (o != input.Name)
                    {
                        var d = shapes[o].Dims;
                        for (long h = known == TensorLayout.Nchw ? d[2] : d[1], w = known == TensorLayout.Nchw ? d[3] : d[2];
                             h >= 1 && w >= 1 && grids.Add((h, w)) && (h > 1 || w > 1); h = (h + 1) / 2, w = (w + 1) / 2) { }
                    }
                }
                else layouts[o] = GuessLayout(o);
            }
        }
        return layouts;

        // No 4-D input to inherit from (a Reshape of tokens, a MatMul…): [N, h, w, C] when the middle axes
        // are a grid of the maps seen so far and the last two are not (Swin-style channels-last maps),
        // NCHW when the last two are; a tensor that is neither (attention scores [N, heads, T, T]) is no map.
        TensorLayout GuessLayout(string o)
        {
            var d = shapes[o].Dims;
            bool last = grids.Contains((d[2], d[3])), middle = grids.Contains((d[1], d[2]));
            if (middle && !last) return TensorLayout.Nhwc;
            if (!last || g.Producer(o)?.OpType == "Softmax" || g.Consumers(o).Any(c => c.OpType == "Softmax")) notMaps.Add(o);
            return TensorLayout.Nchw;
        }
    }

    private List<LayerInfo> BuildLayers(TokenOverride? tokenOverride)
    {
        var ancestors = Ancestors(LogitsName);
        var rows = new List<LayerInfo>();
        var spatialGrids = Layouts.Where(kv => !_notMaps.Contains(kv.Key) && Shapes[kv.Key].Dims[0] == _batch)
            .Select(kv => kv.Value == TensorLayout.Nchw ? ((int)Shapes[kv.Key].Dims[2], (int)Shapes[kv.Key].Dims[3]) : ((int)Shapes[kv.Key].Dims[1], (int)Shapes[kv.Key].Dims[2]))
            .Where(g => TokenDetection.IsGrid(g.Item1, g.Item2, _inputH, _inputW));
        var grids = TokenDetection.Grids(spatialGrids, _inputH, _inputW);
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
                TokenGrid? tokens = null;
                if (shape.Rank == 4 && layout is { } lay && DataTypes.IsFloating(shape.Type) && shape.Dims[0] == _batch && !_notMaps.Contains(o))
                {
                    long h = lay == TensorLayout.Nchw ? shape.Dims[2] : shape.Dims[1];
                    long w = lay == TensorLayout.Nchw ? shape.Dims[3] : shape.Dims[2];
                    candidate = h * w > 1;
                }
                else if (shape.Rank == 3 && DataTypes.IsFloating(shape.Type) && n.OpType != "Softmax")
                {
                    tokens = TokenDetection.Detect(shape.Dims, _batch, grids, tokenOverride);
                    candidate = tokens is not null;
                }
                rows.Add(new LayerInfo(index++, o, n.OpType, n.Name, shape.Dims, first ? parameters : 0, layout, candidate, false) { Tokens = tokens });
                first = false;
            }
        }
        var (defaultLayer, classTokenOnly) = ChooseDefault(rows, ancestors);
        return rows.Select(r => r.Name == defaultLayer || classTokenOnly.Contains(r.Name)
            ? r with { IsDefault = r.Name == defaultLayer, ClassTokenOnly = classTokenOnly.Contains(r.Name) } : r).ToList();
    }

    /// <summary>
    /// The automatic target layer: the last candidate on the path to the logits — unless the head reads
    /// only some tokens of it (a ViT's class token): then a token layer after the last attention gives the
    /// patch tokens no gradient (token-wise ops never mix tokens), so the default is the last token layer of
    /// the residual stream's width feeding the last attention's Softmax (the input of the last block's
    /// attention, its first LayerNorm's output). Token layers after that attention are returned too: only
    /// the class token of theirs reaches the output.
    /// </summary>
    private (string? Default, HashSet<string> ClassTokenOnly) ChooseDefault(List<LayerInfo> rows, HashSet<string> ancestors)
    {
        var none = new HashSet<string>(StringComparer.Ordinal);
        var onPath = rows.Where(r => r.IsCandidate && ancestors.Contains(r.Name)).ToList();
        if (onPath.Count == 0) return (null, none);
        var last = onPath[^1];
        if (last.Tokens is null || !HeadSelectsTokens(last, ancestors)) return (last.Name, none);
        var attention = _graph.Nodes.LastOrDefault(n => n.OpType == "Softmax" && n.Outputs.Count > 0 && ancestors.Contains(n.Outputs[0]));
        if (attention is null) return (last.Name, none);
        var beforeAttention = Ancestors(attention.Outputs[0]);
        var mixing = onPath.Where(r => r.Tokens is not null && beforeAttention.Contains(r.Name) && r.Channels == last.Channels).ToList();
        if (mixing.Count == 0) return (last.Name, none);
        var after = onPath.Where(r => r.Tokens is not null && !beforeAttention.Contains(r.Name)).Select(r => r.Name);
        return (mixing[^1].Name, new HashSet<string>(after, StringComparer.Ordinal));
    }

    /// <summary>True when, between a token layer and the logits, a Gather or Slice keeps only some of its tokens (the class token).</summary>
    private bool HeadSelectsTokens(LayerInfo layer, HashSet<string> ancestors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>();
        queue.Enqueue(layer.Name);
        while (queue.Count > 0)
        {
            var t = queue.Dequeue();
            if (!seen.Add(t)) continue;
            foreach (var c in _graph.Consumers(t))
            {
                if (c.Outputs.Count == 0 || !ancestors.Contains(c.Outputs[0])) continue;
                if (c.OpType is "Gather" or "Slice" && c.Inputs[0] == t && Shapes.TryGetValue(t, out var a) && a.Rank == 3
                    && Shapes.TryGetValue(c.Outputs[0], out var b) && b.Count < a.Count && (b.Rank < 3 || b.Dims[1] < a.Dims[1]))
                    return true;
                foreach (var o in c.Outputs)
                    if (o != "" && Shapes.TryGetValue(o, out var s) && s.Rank == 3 && s.Dims[1] == layer.Shape[1]) queue.Enqueue(o);
            }
        }
        return false;
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
    /// Resolves a user's layer name: "auto", an exact tensor name, an exact node name, a module path
    /// (its last candidate: the module's output), or a unique substring of a tensor name (spatial
    /// candidates first). Unknown names fail with the closest names.
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
                throw new SalientException($"layer '{l.Name}' has shape {Onnx.Shapes.Format(l.Shape)}, neither a spatial 4-D map nor a token layer [N, tokens, C] whose grid could be found; choose a layer marked as a candidate in `salient layers`, or give the grid with the `tokens` option (e.g. grid=14x14,skip=1)");
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
        // A module path of a PyTorch export ("encoder_layer_9", "blocks.11/norm1", "layers.3/ln_1"): tensors are named
        // "/…/MODULE/…"; the module's output — what a forward hook on it sees — is its last candidate in graph order.
        string scope = "/" + query.Trim('/') + "/";
        var inScope = Layers.Where(l => l.IsCandidate && ("/" + l.Name.TrimStart('/')).Contains(scope, StringComparison.Ordinal)).ToList();
        if (inScope.Count > 0) return inScope[^1];
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
