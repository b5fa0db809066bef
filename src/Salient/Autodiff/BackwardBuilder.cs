using System.Diagnostics;
using System.Globalization;
using Salient.Onnx;

namespace Salient.Autodiff;

/// <summary>What <see cref="BackwardBuilder.Build"/> produces.</summary>
internal sealed record BuiltPrograms(
    Graph Forward, Graph Backward, IReadOnlyList<string> ForwardOutputs, IReadOnlyList<BackwardInput> BackwardInputs,
    IReadOnlyDictionary<string, string> GradientOutputs, IReadOnlyList<Node> Differentiated, TimeSpan BuildTime);

/// <summary>
/// Writes the two programs for one request, in steps that each live in their own file:
/// <see cref="PathAnalysis"/> (which tensors are differentiated), <see cref="SeedInput"/> (the seed),
/// <see cref="ReverseSweep"/> (each op's rule, last node first, with <see cref="GradientSums"/>
/// summing contributions), the gradient outputs, <see cref="BackwardPruning"/>, and
/// <see cref="ForwardProgram"/> (the model with the needed activations as outputs). The backward
/// graph is written by <see cref="BackwardGraphWriter"/>. This class holds the request's state and is
/// what <see cref="RuleContext"/> talks to: shapes and values, forward requests, emission.
/// </summary>
internal sealed class BackwardBuilder
{
    public const string GradPrefix = "grad:";

    private readonly Graph _model;
    private readonly GraphFacts _facts;
    private readonly string _inputName;
    private readonly GradientRequest _request;
    private readonly BackwardGraphWriter _w;
    private readonly GradientSums _sums;
    private readonly ForwardProgram _forward = new();
    private readonly Dictionary<string, (DataType Type, long[] Dims)> _extraFacts = new(StringComparer.Ordinal);

    public BackwardBuilder(Graph model, GraphFacts facts, string inputName, GradientRequest request)
    {
        _model = model;
        _facts = facts;
        _inputName = inputName;
        _request = request;
        _w = new BackwardGraphWriter(model);
        _sums = new GradientSums(_w);
        var wrt = request.Wrt.Distinct().ToList();
        PathDescription = $"on the path from {string.Join(", ", wrt.Select(w => $"'{w}'"))} to '{request.ScoreTensor}'";
    }

    public long ModelOpset => _model.DefaultOpset;
    public ReluMode Relu => _request.Relu;
    public string PathDescription { get; }

    /// <summary>With index seeds: the int64 index input, and the one-hot seed built from it (the score's gradient).</summary>
    public string? SeedIndexTensor { get; private set; }
    public string? DenseSeed { get; private set; }

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

    // ---- build ----------------------------------------------------------------------------------

    public BuiltPrograms Build()
    {
        var sw = Stopwatch.StartNew();
        string score = _request.ScoreTensor;
        var wrt = _request.Wrt.Distinct().ToList();
        PathAnalysis.CheckRequest(_model, _inputName, score, wrt, _request.AlsoFetch);
        var active = PathAnalysis.ActiveTensors(_model, TypeOf, score, wrt, PathDescription);

        var seed = SeedInput.Add(_w, _request, DimsOf(score), _request.SeedIndices ? DimsOf(_inputName)[0] : 0);
        if (seed.IndexTensor is not null) (SeedIndexTensor, DenseSeed) = (seed.IndexTensor, seed.ScoreGradient);
        _sums.Add(score, seed.ScoreGradient);

        var differentiated = ReverseSweep.Run(this, _model, active, _sums, PathDescription);

        // Outputs: one gradient per wrt tensor.
        var gradOutputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var w in wrt)
        {
            string g = _sums.Total(w) ?? _w.Zeros(DimsOf(w));
            string name = _w.Fresh(GradPrefix + w, exact: true);
            _w.AddOutput(name, g, DimsOf(w));
            gradOutputs[w] = name;
        }

        BackwardPruning.Prune(_w, _forward);

        foreach (var t in wrt.Append(score).Concat(_request.AlsoFetch))
            if (t != _inputName && !_model.IsConstant(t)) _forward.AddOutput(t);
        var forward = _forward.Build(_model);
        differentiated.Reverse();
        return new BuiltPrograms(forward, _w.Graph, _forward.Outputs, _w.Inputs, gradOutputs, differentiated, sw.Elapsed);
    }

    // ---- for the rules --------------------------------------------------------------------------

    public void AddContribution(string tensor, string grad) => _sums.Add(tensor, grad);

    public string RequestForward(string tensor)
    {
        if (_model.Constant(tensor) is { } c)
        {
            _w.ShareInitializer(tensor, c);
            return tensor;
        }
        if (tensor == _inputName)
        {
            _w.AddInput(tensor, InputSource.ModelInput, TypeOf(tensor), DimsOf(tensor));
            return tensor;
        }
        if (_model.Producer(tensor) is null) throw new SalientException($"internal: forward tensor '{tensor}' does not exist");
        _forward.AddOutput(tensor);
        _w.AddInput(tensor, InputSource.Forward, TypeOf(tensor), DimsOf(tensor));
        return tensor;
    }

    public string RequestOptionalOutput(RuleContext c, int output, DataType type, long[] dims)
    {
        string name;
        if (output < c.Node.Outputs.Count && c.Node.Outputs[output] != "") name = c.Node.Outputs[output];
        else if (!_forward.TryGetExtraOutput(c.NodeIndex, output, out name))
        {
            name = _w.Fresh(c.Node.Outputs[0] + ":out" + output.ToString(CultureInfo.InvariantCulture), exact: true);
            _forward.AddExtraOutput(c.NodeIndex, output, name);
        }
        _extraFacts[name] = (type, dims);
        _forward.AddOutput(name);
        _w.AddInput(name, InputSource.Forward, type, dims);
        return name;
    }

    /// <summary>Optional outputs added to forward nodes, by node index (for tests and diagnostics).</summary>
    public IReadOnlyDictionary<(int Node, int Output), string> ExtraOutputs => _forward.ExtraOutputs;

    public Node Emit(string op, string[] inputs, int outputs) => _w.Emit(op, inputs, outputs);
    public string IntConstant(long[] values) => _w.IntConstant(values);
    public string FloatConstant(long[] dims, float[] values) => _w.FloatConstant(dims, values);
    public string AddInitializer(Tensor t) => _w.AddInitializer(t);
}
