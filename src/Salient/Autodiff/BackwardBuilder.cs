using System.Diagnostics;
using System.Globalization;
using Salient.Autodiff.Rules;
using Salient.Onnx;

namespace Salient.Autodiff;

/// <summary>Where a backward-program input comes from at run time.</summary>
internal enum InputSource { Seed, ModelInput, Forward }

/// <summary>One input of the backward program.</summary>
internal sealed record BackwardInput(string Name, InputSource Source);

/// <summary>What <see cref="BackwardBuilder.Build"/> produces.</summary>
internal sealed record BuiltPrograms(
    Graph Forward, Graph Backward, IReadOnlyList<string> ForwardOutputs, IReadOnlyList<BackwardInput> BackwardInputs,
    IReadOnlyDictionary<string, string> GradientOutputs, IReadOnlyList<Node> Differentiated, TimeSpan BuildTime);

/// <summary>
/// Writes the two programs for one request: prunes the model to the nodes on a path from a wrt
/// tensor to the score, walks them in reverse topological order calling each op's rule, sums
/// gradient contributions of tensors used several times, and assembles the forward program (the
/// model with the needed activations as outputs) and the backward program (opset 18).
/// </summary>
internal sealed class BackwardBuilder
{
    public const long BackwardOpset = 18;
    public const string SeedPrefix = "seed:";
    public const string GradPrefix = "grad:";

    private readonly Graph _model;
    private readonly GraphFacts _facts;
    private readonly string _inputName;
    private readonly GradientRequest _request;
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
    private int _counter;

    private readonly Graph _bw = new() { IrVersion = 8, Name = "salient_backward" };
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly List<BackwardInput> _bwInputs = new();
    private readonly HashSet<string> _bwInputNames = new(StringComparer.Ordinal);
    private readonly List<string> _forwardOutputs = new();
    private readonly HashSet<string> _forwardOutputSet = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Node, int Output), string> _extraOutputs = new();
    private readonly Dictionary<string, List<string>> _contributions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _final = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DataType Type, long[] Dims)> _extraFacts = new(StringComparer.Ordinal);

    public BackwardBuilder(Graph model, GraphFacts facts, string inputName, GradientRequest request)
    {
        _model = model;
        _facts = facts;
        _inputName = inputName;
        _request = request;
        _bw.Opsets[""] = BackwardOpset;
        foreach (var n in model.Nodes) foreach (var o in n.Outputs) _taken.Add(o);
        foreach (var n in model.Nodes) foreach (var i in n.Inputs) _taken.Add(i);
        foreach (var k in model.Initializers.Keys) _taken.Add(k);
        foreach (var i in model.Inputs) _taken.Add(i.Name);
        var wrt = request.Wrt.Distinct().ToList();
        PathDescription = $"on the path from {string.Join(", ", wrt.Select(w => $"'{w}'"))} to '{request.ScoreTensor}'";
    }

    public long ModelOpset => _model.DefaultOpset;
    public ReluMode Relu => _request.Relu;
    public string PathDescription { get; }

    // ---- facts ----------------------------------------------------------------------------------

    public long[] DimsOf(string tensor)
    {
        if (_facts.Shapes.TryGetValue(tensor, out var s)) return s.Dims;
        if (_extraFacts.TryGetValue(tensor, out var e)) return e.Dims;
        throw new SalientException($"internal: no shape known for tensor '{tensor}'");
    }

    public DataType TypeOf(string tensor)
    {
        if (_facts.Shapes.TryGetValue(tensor, out var s)) return s.Type;
        if (_extraFacts.TryGetValue(tensor, out var e)) return e.Type;
        return DataType.Undefined;
    }

    public Tensor? ValueOf(string tensor) =>
        _model.Constant(tensor) ?? _facts.Small.GetValueOrDefault(tensor);

    private bool IsFloating(string tensor) => tensor != "" && DataTypes.IsFloating(TypeOf(tensor));

    // ---- build ----------------------------------------------------------------------------------

    public BuiltPrograms Build()
    {
        var sw = Stopwatch.StartNew();
        string score = _request.ScoreTensor;
        var wrt = _request.Wrt.Distinct().ToList();
        if (wrt.Count == 0) throw new SalientException("the gradient request names no tensor to differentiate with respect to (Wrt is empty)");
        CheckTensor(score, "score tensor");
        if (_model.Producer(score) is null)
            throw new SalientException($"score tensor '{score}' is not computed by the model; choose a layer or output tensor");
        foreach (var w in wrt) CheckTensor(w, "tensor");
        foreach (var f in _request.AlsoFetch) CheckTensor(f, "tensor");

        // Forward-reachable from wrt, following floating-point tensors only.
        var reach = new HashSet<string>(wrt.Where(IsFloating), StringComparer.Ordinal);
        foreach (var n in _model.Nodes)
            if (n.Inputs.Any(i => i != "" && reach.Contains(i)))
                foreach (var o in n.Outputs)
                    if (IsFloating(o)) reach.Add(o);
        // Backward-reachable from the score.
        var back = new HashSet<string>(StringComparer.Ordinal) { score };
        for (int k = _model.Nodes.Count - 1; k >= 0; k--)
        {
            var n = _model.Nodes[k];
            if (!n.Outputs.Any(back.Contains)) continue;
            foreach (var i in n.Inputs)
                if (IsFloating(i)) back.Add(i);
        }
        foreach (var w in wrt)
        {
            if (!IsFloating(w))
                throw new SalientException($"cannot differentiate with respect to '{w}': it is a {TypeOf(w)} tensor, not a floating-point one");
            if (!back.Contains(w))
                throw new SalientException($"score tensor '{score}' does not depend on '{w}'; choose a tensor that comes before it");
        }
        var active = new HashSet<string>(reach.Where(back.Contains), StringComparer.Ordinal);
        foreach (var t in active)
            if (TypeOf(t) != DataType.Float)
                throw new SalientException($"tensor '{t}' ({PathDescription}) is {TypeOf(t)}; the gradient engine differentiates float32 tensors only");

        // Seed: a dense tensor of the score's shape, or one index per item made one-hot here.
        string seed = SeedPrefix + score;
        _taken.Add(seed);
        if (_request.SeedIndices)
        {
            // Items are counted by the model input's batch axis: the score may have lost its own
            // (logits squeezed to [K] at batch 1) or carry trailing axes ([N, K, 1, 1]).
            var dims = DimsOf(score);
            long batch = DimsOf(_inputName)[0], total = Tensor.ElementCount(dims);
            if (batch <= 0 || total % batch != 0)
                throw new SalientException($"score tensor '{score}' (shape {Shapes.Format(dims)}) does not split into the batch's {batch} items; use a dense seed");
            long perItem = total / batch;
            AddBackwardInput(seed, InputSource.Seed, DataType.Int64, [batch]);
            string oneHot = Emit("OneHot", [seed, IntConstant([perItem]), FloatConstant([2], [0f, 1f])], 1).Set("axis", -1L).Outputs[0];
            SeedIndexTensor = seed;
            DenseSeed = Shapes.Equal(dims, [batch, perItem]) ? oneHot : Emit("Reshape", [oneHot, IntConstant(dims)], 1).Outputs[0];
            _contributions[score] = [DenseSeed];
        }
        else
        {
            AddBackwardInput(seed, InputSource.Seed, DataType.Float, DimsOf(score));
            _contributions[score] = [seed];
        }

        // Reverse sweep.
        var differentiated = new List<Node>();
        for (int k = _model.Nodes.Count - 1; k >= 0; k--)
        {
            var n = _model.Nodes[k];
            if (!n.Outputs.Any(o => o != "" && active.Contains(o))) continue;
            var onPath = new HashSet<int>();
            for (int i = 0; i < n.Inputs.Count; i++)
                if (n.Inputs[i] != "" && active.Contains(n.Inputs[i])) onPath.Add(i);
            if (onPath.Count == 0) continue;
            var outGrads = n.Outputs.Select(o => o != "" && active.Contains(o) ? Accumulated(o) : null).ToArray();
            if (outGrads.All(g => g is null)) continue;
            var rule = n.IsDefaultDomain ? RuleRegistry.Find(n.OpType) : null;
            if (rule is null)
                throw new SalientException(
                    $"no gradient rule for op '{(n.IsDefaultDomain ? "" : n.Domain + ".")}{n.OpType}' ({n.Describe()}, {PathDescription}); " +
                    $"supported ops: {string.Join(", ", RuleRegistry.SupportedOps)}; choose a layer after it or open an issue");
            rule.Backward(new RuleContext(this, n, k, onPath, outGrads));
            differentiated.Add(n);
        }

        // Outputs: one gradient per wrt tensor.
        var gradOutputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var w in wrt)
        {
            string g = Accumulated(w) ?? Zeros(DimsOf(w));
            string name = Fresh(GradPrefix + w, exact: true);
            _bw.Nodes.Add(new Node("Identity", [g], [name], name));
            _bw.Outputs.Add(new ValueInfo(name, DataType.Float, DimsOf(w).Select(Dim.Fixed).ToArray()));
            gradOutputs[w] = name;
        }

        PruneUnusedBackwardNodes();

        // Forward program.
        foreach (var t in wrt.Append(score).Concat(_request.AlsoFetch))
            if (t != _inputName && !_model.IsConstant(t)) AddForwardOutput(t);
        var forward = BuildForward();
        differentiated.Reverse();
        return new BuiltPrograms(forward, _bw, _forwardOutputs, _bwInputs, gradOutputs, differentiated, sw.Elapsed);
    }

    /// <summary>With index seeds: the int64 index input, and the one-hot seed built from it (the score's gradient).</summary>
    public string? SeedIndexTensor { get; private set; }
    public string? DenseSeed { get; private set; }

    /// <summary>
    /// Drops backward nodes (and constants) that no gradient output needs — e.g. the one-hot seed
    /// when the score's rule gathered weight rows from the indices instead. Nodes are in emission
    /// order, which is topological.
    /// </summary>
    private void PruneUnusedBackwardNodes()
    {
        var needed = new HashSet<string>(_bw.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        for (int i = _bw.Nodes.Count - 1; i >= 0; i--)
        {
            var n = _bw.Nodes[i];
            if (n.Outputs.Any(needed.Contains)) foreach (var x in n.Inputs) { if (x != "") needed.Add(x); }
            else _bw.Nodes.RemoveAt(i);
        }
        foreach (var k in _bw.Initializers.Keys.Where(k => !needed.Contains(k)).ToList()) _bw.Initializers.Remove(k);
        // Forward values only a pruned node read: neither a backward input nor a forward output (nor a MaxPool Indices output) any more.
        foreach (var input in _bwInputs.Where(b => b.Source != InputSource.Seed && !needed.Contains(b.Name)).ToList())
        {
            _bwInputs.Remove(input);
            _bwInputNames.Remove(input.Name);
            _bw.Inputs.RemoveAll(i => i.Name == input.Name);
            if (_forwardOutputSet.Remove(input.Name)) _forwardOutputs.Remove(input.Name);
            foreach (var key in _extraOutputs.Where(kv => kv.Value == input.Name).Select(kv => kv.Key).ToList()) _extraOutputs.Remove(key);
        }
    }

    private void CheckTensor(string t, string what)
    {
        if (t == _inputName || _model.IsConstant(t) || _model.Producer(t) is not null) return;
        var near = _model.IntermediateNames().Where(n => n.Contains(t, StringComparison.OrdinalIgnoreCase)).Take(5).ToList();
        throw new SalientException($"{what} '{t}' is not in the model" +
            (near.Count > 0 ? $"; similar names: {string.Join(", ", near)}" : "; list the layers to see valid names"));
    }

    private Graph BuildForward()
    {
        var g = _model.Clone();
        foreach (var ((node, output), name) in _extraOutputs)
        {
            var n = g.Nodes[node];
            while (n.Outputs.Count <= output) n.Outputs.Add("");
            n.Outputs[output] = name;
        }
        g.Invalidate();
        g.Outputs.Clear();
        foreach (var o in _forwardOutputs)
            g.Outputs.Add(new ValueInfo(o, DataType.Undefined, null));
        // Keep only what the outputs need (ORT then computes nothing else).
        var need = new HashSet<string>(_forwardOutputs, StringComparer.Ordinal);
        var kept = new List<Node>();
        for (int k = g.Nodes.Count - 1; k >= 0; k--)
        {
            var n = g.Nodes[k];
            if (!n.Outputs.Any(need.Contains)) continue;
            kept.Add(n);
            foreach (var i in n.Inputs) if (i != "") need.Add(i);
        }
        kept.Reverse();
        g.Nodes.Clear();
        g.Nodes.AddRange(kept);
        g.Invalidate();
        foreach (var k in g.Initializers.Keys.ToList())
            if (!need.Contains(k)) g.Initializers.Remove(k);
        g.ValueInfos.Clear();
        return g;
    }

    // ---- gradient bookkeeping -------------------------------------------------------------------

    public void AddContribution(string tensor, string grad)
    {
        if (_final.ContainsKey(tensor))
            throw new SalientException($"internal: gradient of '{tensor}' received after it was summed");
        if (!_contributions.TryGetValue(tensor, out var list)) _contributions[tensor] = list = new();
        list.Add(grad);
    }

    private string? Accumulated(string tensor)
    {
        if (_final.TryGetValue(tensor, out var done)) return done;
        if (!_contributions.TryGetValue(tensor, out var list) || list.Count == 0) return null;
        string g = list.Count == 1 ? list[0] : Emit("Sum", list.ToArray(), 1).Outputs[0];
        _final[tensor] = g;
        return g;
    }

    // ---- forward requests -----------------------------------------------------------------------

    public string RequestForward(string tensor)
    {
        if (_model.Constant(tensor) is { } c)
        {
            _bw.Initializers.TryAdd(tensor, c);
            return tensor;
        }
        if (tensor == _inputName)
        {
            AddBackwardInput(tensor, InputSource.ModelInput, TypeOf(tensor), DimsOf(tensor));
            return tensor;
        }
        if (_model.Producer(tensor) is null) throw new SalientException($"internal: forward tensor '{tensor}' does not exist");
        AddForwardOutput(tensor);
        AddBackwardInput(tensor, InputSource.Forward, TypeOf(tensor), DimsOf(tensor));
        return tensor;
    }

    public string RequestOptionalOutput(RuleContext c, int output, DataType type, long[] dims)
    {
        string name;
        if (output < c.Node.Outputs.Count && c.Node.Outputs[output] != "") name = c.Node.Outputs[output];
        else if (!_extraOutputs.TryGetValue((c.NodeIndex, output), out name!))
        {
            name = Fresh(c.Node.Outputs[0] + ":out" + output.ToString(CultureInfo.InvariantCulture), exact: true);
            _extraOutputs[(c.NodeIndex, output)] = name;
        }
        _extraFacts[name] = (type, dims);
        AddForwardOutput(name);
        AddBackwardInput(name, InputSource.Forward, type, dims);
        return name;
    }

    /// <summary>Optional outputs added to forward nodes, by node index (for tests and diagnostics).</summary>
    public IReadOnlyDictionary<(int Node, int Output), string> ExtraOutputs => _extraOutputs;

    private void AddForwardOutput(string tensor)
    {
        if (_forwardOutputSet.Add(tensor)) _forwardOutputs.Add(tensor);
    }

    private void AddBackwardInput(string name, InputSource source, DataType type, long[] dims)
    {
        if (!_bwInputNames.Add(name)) return;
        _bwInputs.Add(new BackwardInput(name, source));
        _bw.Inputs.Add(new ValueInfo(name, type, dims.Select(Dim.Fixed).ToArray()));
    }

    // ---- emission -------------------------------------------------------------------------------

    private string Fresh(string hint, bool exact = false)
    {
        if (exact && _taken.Add(hint)) return hint;
        while (true)
        {
            string name = $"bw{_counter++}_{hint}";
            if (_taken.Add(name)) return name;
        }
    }

    public Node Emit(string op, string[] inputs, int outputs)
    {
        string first = Fresh(op);
        var outs = new string[outputs];
        outs[0] = first;
        for (int i = 1; i < outputs; i++) outs[i] = first + "_" + i.ToString(CultureInfo.InvariantCulture);
        foreach (var o in outs.Skip(1)) _taken.Add(o);
        var n = new Node(op, inputs, outs, first);
        _bw.Nodes.Add(n);
        return n;
    }

    private string Zeros(long[] dims) =>
        Emit("ConstantOfShape", [IntConstant(dims)], 1).Set("value", Tensor.FromFloats("value", [1], [0f])).Outputs[0];

    public string IntConstant(long[] values)
    {
        string key = "i:" + string.Join(",", values);
        if (_constants.TryGetValue(key, out var name)) return name;
        name = Fresh("const");
        _bw.Initializers[name] = new Tensor(name, DataType.Int64, [values.Length], (long[])values.Clone());
        _constants[key] = name;
        return name;
    }

    public string FloatConstant(long[] dims, float[] values)
    {
        string? key = values.Length <= 16
            ? "f:" + string.Join(",", dims) + ":" + string.Join(",", values.Select(v => BitConverter.SingleToInt32Bits(v)))
            : null;
        if (key is not null && _constants.TryGetValue(key, out var existing)) return existing;
        string name = Fresh("const");
        _bw.Initializers[name] = Tensor.FromFloats(name, (long[])dims.Clone(), values);
        if (key is not null) _constants[key] = name;
        return name;
    }

    public string AddInitializer(Tensor t)
    {
        string name = Fresh("const");
        _bw.Initializers[name] = new Tensor(name, t.Type, t.Dims, t.Data);
        return name;
    }
}
