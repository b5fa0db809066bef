using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Salient.Onnx;
using Salient.Runtime;
using Tensor = Salient.Onnx.Tensor;

namespace Salient.Autodiff;

/// <summary>
/// The two programs for one (model, score tensor, wrt set, ReLU rule, AlsoFetch, input shape):
/// the forward program (the model, original opset, with the activations the backward rules need as
/// extra outputs) and the backward program (standard ONNX ops, opset 18) whose inputs are the seed
/// and those activations and whose outputs are the gradients. Both run as ONNX Runtime sessions;
/// forward outputs are fed to the backward session as OrtValues without managed copies.
/// Thread-safe: concurrent <see cref="Run"/> calls are fine. Owned and disposed by its
/// <see cref="GradientEngine"/>.
/// </summary>
public sealed class BackwardProgram
{
    // Owned by the engine (shared by programs with the same forward graph); created on the first
    // Forward: a caller that runs the backward from values it fetched itself (Grad-CAM in the
    // pipeline) never pays for it — on VGG16 a session is seconds and hundreds of MB.
    private readonly Lazy<InferenceSession> _forward;
    private readonly InferenceSession _backward;
    private readonly string _inputName;
    private readonly DataType _inputType;
    private readonly string[] _forwardOutputs;
    private readonly Dictionary<string, int> _forwardIndex;
    private readonly BackwardInput[] _backwardInputs;
    private readonly string[] _backwardInputNames;
    private readonly string[] _gradNames;
    private readonly IReadOnlyDictionary<string, Tensor> _constants;

    internal BackwardProgram(GradientRequest request, long[] inputShape, string inputName, DataType inputType,
        BuiltPrograms built, TimeSpan probeTime, RuntimeOptions options, IReadOnlyDictionary<string, Tensor> constants,
        Func<Graph, InferenceSession> forwardSession, SharedWeights? weights = null)
    {
        Request = request;
        InputShape = inputShape;
        _inputName = inputName;
        _inputType = inputType;
        _constants = constants;
        ForwardGraph = built.Forward;
        BackwardGraph = built.Backward;
        BuildTime = built.BuildTime;
        ProbeTime = probeTime;
        DifferentiatedNodes = built.Differentiated.Select(n => n.Describe()).ToList();
        DifferentiatedOps = built.Differentiated.Select(n => n.OpType).ToList();
        _forwardOutputs = built.ForwardOutputs.ToArray();
        _forwardIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _forwardOutputs.Length; i++) _forwardIndex[_forwardOutputs[i]] = i;
        _backwardInputs = built.BackwardInputs.ToArray();
        _backwardInputNames = _backwardInputs.Select(b => b.Name).ToArray();
        GradientNames = built.GradientOutputs;
        _gradNames = request.Wrt.Distinct().Select(w => built.GradientOutputs[w]).ToArray();

        var sw = Stopwatch.StartNew();
        _forward = new Lazy<InferenceSession>(() => forwardSession(ForwardGraph));
        _backward = CreateSession(BackwardGraph, options, "the backward program", weights, prepack: false);
        SessionTime = sw.Elapsed;
    }

    public GradientRequest Request { get; }
    public long[] InputShape { get; }
    /// <summary>The model with the activations the backward rules need as outputs (and MaxPool Indices where on the path).</summary>
    internal Graph ForwardGraph { get; }
    /// <summary>The backward graph: inputs seed + activations, outputs the gradients; default domain, opset 18.</summary>
    internal Graph BackwardGraph { get; }
    /// <summary>Time to prune the model and write both graphs (excludes the shape probe and ORT session creation).</summary>
    public TimeSpan BuildTime { get; }
    /// <summary>Time of the shape probe for this input shape (shared by every program of that shape; zero when cached).</summary>
    public TimeSpan ProbeTime { get; }
    /// <summary>Time to create the backward ONNX Runtime session (the forward one is created on the first <see cref="Forward"/> and shared between programs with the same forward graph, e.g. Standard and Guided).</summary>
    public TimeSpan SessionTime { get; }
    /// <summary>The forward nodes that were differentiated, in forward order (as "Op 'name'").</summary>
    public IReadOnlyList<string> DifferentiatedNodes { get; }
    /// <summary>Op types of <see cref="DifferentiatedNodes"/>.</summary>
    public IReadOnlyList<string> DifferentiatedOps { get; }
    public int DifferentiatedNodeCount => DifferentiatedNodes.Count;
    /// <summary>Backward-graph output name of each wrt tensor's gradient.</summary>
    public IReadOnlyDictionary<string, string> GradientNames { get; }
    /// <summary>Outputs of the forward program: needed activations, score, wrt and AlsoFetch tensors.</summary>
    public IReadOnlyList<string> ForwardOutputs => _forwardOutputs;

    internal InferenceSession ForwardSession => _forward.Value;

    internal static string ForwardKey(Graph forward) =>
        string.Join("\n", forward.Outputs.Select(o => o.Name).Order(StringComparer.Ordinal));

    internal static InferenceSession CreateSession(Graph g, RuntimeOptions options, string what, SharedWeights? weights = null, bool prepack = true)
    {
        using var so = options.CreateSessionOptions();
        // The backward's weight products (Wᵀ·g, once per seed) are matrix–vector work: packing a
        // transposed copy of the weights would cost seconds and hundreds of MB on VGG16 for nothing.
        if (!prepack) so.AddSessionConfigEntry("session.disable_prepacking", "1");
        try { return weights is null ? new InferenceSession(OnnxWriter.ToBytes(g), so) : weights.CreateSession(g, so); }
        catch (OnnxRuntimeException e)
        {
            throw new SalientException($"ONNX Runtime cannot load {what} written by the gradient engine: {GraphSession.FirstLine(e.Message)}; please report this as a bug", e);
        }
    }

    /// <summary>Forward run, seed from the score's value, backward run; copies out only what was asked for.</summary>
    public GradientResult Run(InputValue input, Func<TensorValue, float[]> seed)
    {
        if (Request.SeedIndices) throw new InvalidOperationException("this program takes seed indices: use Forward(input) and ForwardPass.Backward(long[])");
        using var pass = Forward(input);
        string score = Request.ScoreTensor;
        var scoreValue = pass.Value(score);
        var grads = pass.Backward(seed(scoreValue));
        var forward = new Dictionary<string, TensorValue>(StringComparer.Ordinal) { [score] = scoreValue };
        foreach (var t in Request.Wrt.Concat(Request.AlsoFetch))
            forward.TryAdd(t, pass.Value(t));
        return new GradientResult(forward, grads);
    }

    /// <summary>
    /// Runs the forward program only and keeps its outputs native: read the score (and AlsoFetch
    /// tensors) from the returned pass, then run <see cref="ForwardPass.Backward(float[])"/> once per seed.
    /// </summary>
    public ForwardPass Forward(InputValue input)
    {
        ThrowIfReleased();
        if (!Shapes.Equal(input.Shape, InputShape))
            throw new SalientException($"this program was built for input shape {Shapes.Format(InputShape)}, not {Shapes.Format(input.Shape)}");
        if (input.Data.LongLength != Tensor.ElementCount(input.Shape))
            throw new SalientException($"input '{input.Name}' has {input.Data.Length} values but its shape {Shapes.Format(input.Shape)} needs {Tensor.ElementCount(input.Shape)}");
        var inputValue = CreateInput(input);
        try
        {
            using var runOptions = new RunOptions();
            IDisposableReadOnlyCollection<OrtValue> fwd;
            try { fwd = _forward.Value.Run(runOptions, [_inputName], [inputValue], _forwardOutputs); }
            catch (OnnxRuntimeException e) { throw new SalientException($"ONNX Runtime failed to run the model: {GraphSession.FirstLine(e.Message)}", e); }
            return new ForwardPass(this, input, inputValue, fwd, _forwardIndex);
        }
        catch
        {
            inputValue.Dispose();
            throw;
        }
    }

    internal DataType InputType => _inputType;

    internal Tensor? Constant(string name) => _constants.GetValueOrDefault(name);

    /// <summary>The seed as an ORT value: dense floats of the score's shape, or (index seeds) one int64 index per item.</summary>
    internal OrtValue SeedValue(float[]? dense, long[]? indices, long[] scoreShape)
    {
        if (Request.SeedIndices)
        {
            if (indices is null) throw new InvalidOperationException("this program's request has SeedIndices: pass one score index per batch item");
            long batch = InputShape[0], perItem = Tensor.ElementCount(scoreShape) / batch;
            if (indices.LongLength != batch)
                throw new SalientException($"{indices.Length} seed indices given for a batch of {batch}");
            foreach (var i in indices)
                if (i < 0 || i >= perItem) throw new SalientException($"seed index {i} is outside 0..{perItem - 1} (score '{Request.ScoreTensor}', shape {Shapes.Format(scoreShape)})");
            return OrtValue.CreateTensorValueFromMemory(indices, [batch]);
        }
        if (dense is null) throw new InvalidOperationException("this program takes a dense seed (its request has no SeedIndices)");
        if (dense.LongLength != Tensor.ElementCount(scoreShape))
            throw new SalientException($"the seed has {dense.Length} values but score tensor '{Request.ScoreTensor}' has {Tensor.ElementCount(scoreShape)} (shape {Shapes.Format(scoreShape)})");
        return OrtValue.CreateTensorValueFromMemory(dense, scoreShape);
    }

    /// <summary>The backward run shared by <see cref="ForwardPass"/> and <see cref="RunBackward(InputValue?, IReadOnlyDictionary{string, TensorValue}, float[])"/>: forward values come from <paramref name="forwardValue"/>.</summary>
    internal Dictionary<string, TensorValue> RunBackwardFrom(OrtValue seedValue, OrtValue? inputValue, Func<string, OrtValue> forwardValue)
    {
        ThrowIfReleased();
        var values = new OrtValue[_backwardInputs.Length];
        for (int i = 0; i < values.Length; i++)
            values[i] = _backwardInputs[i].Source switch
            {
                InputSource.Seed => seedValue,
                InputSource.ModelInput => inputValue ?? throw new InvalidOperationException("the backward program reads the model input"),
                _ => forwardValue(_backwardInputs[i].Name),
            };
        using var runOptions = new RunOptions();
        IDisposableReadOnlyCollection<OrtValue> bwd;
        try { bwd = _backward.Run(runOptions, _backwardInputNames, values, _gradNames); }
        catch (OnnxRuntimeException e) { throw new SalientException($"ONNX Runtime failed to run the backward program: {GraphSession.FirstLine(e.Message)}; please report this as a bug", e); }
        var grads = new Dictionary<string, TensorValue>(StringComparer.Ordinal);
        using (bwd)
        {
            int k = 0;
            foreach (var w in Request.Wrt.Distinct()) grads[w] = Copy(w, bwd[k++]);
        }
        return grads;
    }

    /// <summary>
    /// The forward tensors the backward program reads (activations, MaxPool indices…), excluding
    /// the model input and the seed. A caller that already has all of them, as floating-point
    /// values, can skip the forward program with <see cref="RunBackward(InputValue?, IReadOnlyDictionary{string, TensorValue}, float[])"/>.
    /// </summary>
    public IReadOnlyList<string> BackwardForwardInputs => _backwardForwardInputs ??=
        _backwardInputs.Where(b => b.Source is not (InputSource.Seed or InputSource.ModelInput)).Select(b => b.Name).ToList();
    private IReadOnlyList<string>? _backwardForwardInputs;

    /// <summary>True when the backward program reads the model input itself (so <see cref="RunBackward(InputValue?, IReadOnlyDictionary{string, TensorValue}, float[])"/> needs it).</summary>
    public bool BackwardReadsModelInput => _backwardInputs.Any(b => b.Source == InputSource.ModelInput);

    /// <summary>True when <see cref="RunBackward(InputValue?, IReadOnlyDictionary{string, TensorValue}, float[])"/> can run from float forward values (no integer inputs such as MaxPool indices).</summary>
    public bool CanRunBackwardFromFloats => _canRunFromFloats ??= BackwardGraph.Inputs
        .Where(i => _backwardInputs.Any(b => b.Name == i.Name && b.Source is not (InputSource.Seed or InputSource.ModelInput)))
        .All(i => i.Type is DataType.Float or DataType.Undefined);
    private bool? _canRunFromFloats;

    /// <summary>
    /// Backward only: the gradients of Σ seed ⊙ S from forward values the caller already holds
    /// (e.g. fetched together with the logits by one plain forward run), so a cheap backward — Grad-CAM
    /// at a late layer — does not pay for a second forward pass. Several seeds (one per class slot) can
    /// reuse the same forward values.
    /// </summary>
    public Dictionary<string, TensorValue> RunBackward(InputValue? input, IReadOnlyDictionary<string, TensorValue> forward, float[] seed) =>
        RunBackwardManaged(input, forward, seed, null);

    /// <summary><see cref="RunBackward(InputValue?, IReadOnlyDictionary{string, TensorValue}, float[])"/> for a request with <see cref="GradientRequest.SeedIndices"/>: one score index per batch item.</summary>
    public Dictionary<string, TensorValue> RunBackward(InputValue? input, IReadOnlyDictionary<string, TensorValue> forward, long[] seedIndices) =>
        RunBackwardManaged(input, forward, null, seedIndices);

    private Dictionary<string, TensorValue> RunBackwardManaged(InputValue? input, IReadOnlyDictionary<string, TensorValue> forward, float[]? dense, long[]? indices)
    {
        if (!CanRunBackwardFromFloats)
            throw new InvalidOperationException("this backward program reads integer forward values; use Run");
        if (!forward.TryGetValue(Request.ScoreTensor, out var scoreValue))
            throw new ArgumentException($"forward value of score '{Request.ScoreTensor}' missing", nameof(forward));
        var owned = new List<OrtValue>();
        try
        {
            var seedValue = SeedValue(dense, indices, scoreValue.Shape);
            owned.Add(seedValue);
            OrtValue? inputValue = null;
            if (BackwardReadsModelInput)
                owned.Add(inputValue = CreateInput(input ?? throw new ArgumentNullException(nameof(input), "this backward program reads the model input")));
            OrtValue FromManaged(string name)
            {
                if (!forward.TryGetValue(name, out var t))
                    throw new ArgumentException($"forward value of '{name}' missing", nameof(forward));
                var v = OrtValue.CreateTensorValueFromMemory(t.Data, t.Shape);
                owned.Add(v);
                return v;
            }
            return RunBackwardFrom(seedValue, inputValue, FromManaged);
        }
        finally
        {
            foreach (var v in owned) v.Dispose();
        }
    }

    private OrtValue CreateInput(InputValue inp) => GraphSession.CreateInputValue(_inputType, inp);

    private static TensorValue Copy(string name, OrtValue v) => GraphSession.ReadTensor(name, v);

    /// <summary>Called by the engine's Dispose: later runs (e.g. a <see cref="ForwardPass"/> kept past it) throw instead of touching freed sessions.</summary>
    internal void Release()
    {
        _released = true;
        _backward.Dispose();
    }

    private volatile bool _released;

    private void ThrowIfReleased()
    {
        if (_released) throw new ObjectDisposedException(nameof(BackwardProgram), "the gradient engine (or its model) that built this program was disposed");
    }
}
