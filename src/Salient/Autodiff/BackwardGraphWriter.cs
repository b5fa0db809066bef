using System.Globalization;
using Salient.Onnx;

namespace Salient.Autodiff;

/// <summary>Where a backward-program input comes from at run time.</summary>
internal enum InputSource { Seed, ModelInput, Forward }

/// <summary>One input of the backward program.</summary>
internal sealed record BackwardInput(string Name, InputSource Source);

/// <summary>
/// The backward graph being written (default domain, opset 18, IR 8): fresh names that never clash
/// with the model's, nodes, deduplicated small constants, inputs and gradient outputs.
/// </summary>
internal sealed class BackwardGraphWriter
{
    public const long Opset = 18;

    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
    private int _counter;
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly List<BackwardInput> _inputs = new();
    private readonly HashSet<string> _inputNames = new(StringComparer.Ordinal);

    public BackwardGraphWriter(Graph model)
    {
        Graph.Opsets[""] = Opset;
        foreach (var n in model.Nodes) foreach (var o in n.Outputs) _taken.Add(o);
        foreach (var n in model.Nodes) foreach (var i in n.Inputs) _taken.Add(i);
        foreach (var k in model.Initializers.Keys) _taken.Add(k);
        foreach (var i in model.Inputs) _taken.Add(i.Name);
    }

    public Graph Graph { get; } = new() { IrVersion = 8, Name = "salient_backward" };

    /// <summary>The backward program's inputs, in the order they were added.</summary>
    public IReadOnlyList<BackwardInput> Inputs => _inputs;

    /// <summary>Marks a name as used (so <see cref="Fresh"/> never returns it).</summary>
    public void Reserve(string name) => _taken.Add(name);

    /// <summary>A name not used anywhere yet: <paramref name="hint"/> itself when exact and free, else bwN_hint.</summary>
    public string Fresh(string hint, bool exact = false)
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
        Graph.Nodes.Add(n);
        return n;
    }

    public string Zeros(long[] dims) =>
        Emit("ConstantOfShape", [IntConstant(dims)], 1).Set("value", Tensor.FromFloats("value", [1], [0f])).Outputs[0];

    public string IntConstant(long[] values)
    {
        string key = "i:" + string.Join(",", values);
        if (_constants.TryGetValue(key, out var name)) return name;
        name = Fresh("const");
        Graph.Initializers[name] = new Tensor(name, DataType.Int64, [values.Length], (long[])values.Clone());
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
        Graph.Initializers[name] = Tensor.FromFloats(name, (long[])dims.Clone(), values);
        if (key is not null) _constants[key] = name;
        return name;
    }

    public string AddInitializer(Tensor t)
    {
        string name = Fresh("const");
        Graph.Initializers[name] = new Tensor(name, t.Type, t.Dims, t.Data);
        return name;
    }

    /// <summary>A forward tensor used as is (a model weight): a backward initializer under its own name, the same Tensor object.</summary>
    public void ShareInitializer(string name, Tensor t) => Graph.Initializers.TryAdd(name, t);

    public void AddInput(string name, InputSource source, DataType type, long[] dims)
    {
        if (!_inputNames.Add(name)) return;
        _inputs.Add(new BackwardInput(name, source));
        Graph.Inputs.Add(new ValueInfo(name, type, dims.Select(Dim.Fixed).ToArray()));
    }

    public void RemoveInput(BackwardInput input)
    {
        _inputs.Remove(input);
        _inputNames.Remove(input.Name);
        Graph.Inputs.RemoveAll(i => i.Name == input.Name);
    }

    /// <summary>Exposes <paramref name="g"/> as the output named <paramref name="name"/> (an Identity node).</summary>
    public void AddOutput(string name, string g, long[] dims)
    {
        Graph.Nodes.Add(new Node("Identity", [g], [name], name));
        Graph.Outputs.Add(new ValueInfo(name, DataType.Float, dims.Select(Dim.Fixed).ToArray()));
    }
}
