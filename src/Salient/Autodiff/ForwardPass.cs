using Microsoft.ML.OnnxRuntime;
using Salient.Onnx;
using Salient.Runtime;

namespace Salient.Autodiff;

/// <summary>
/// The forward half of a <see cref="BackwardProgram"/> run, kept alive: ORT's output values (the
/// score, the activations the backward reads, AlsoFetch tensors) stay native, so the caller can read
/// the score first — e.g. to pick each item's top class — and then run the backward once or several
/// times (one seed per class slot) without a second forward pass. One caller at a time; dispose it
/// to free the activations.
/// </summary>
public sealed class ForwardPass : IDisposable
{
    private readonly BackwardProgram _program;
    private readonly InputValue _input;
    private readonly OrtValue _inputValue;
    private readonly IDisposableReadOnlyCollection<OrtValue> _values;
    private readonly Dictionary<string, int> _index;
    private readonly Dictionary<string, TensorValue> _copies = new(StringComparer.Ordinal);
    private bool _disposed;

    internal ForwardPass(BackwardProgram program, InputValue input, OrtValue inputValue, IDisposableReadOnlyCollection<OrtValue> values, Dictionary<string, int> index)
    {
        _program = program;
        _input = input;
        _inputValue = inputValue;
        _values = values;
        _index = index;
    }

    public BackwardProgram Program => _program;
    public InputValue Input => _input;

    /// <summary>
    /// The forward value of the score, a Wrt tensor, an AlsoFetch tensor or the model input (copied
    /// once, then cached; the model input is the caller's own array). Read-only.
    /// </summary>
    public TensorValue Value(string tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_copies.TryGetValue(tensor, out var v)) return v;
        if (tensor == _input.Name) v = new TensorValue(tensor, _program.InputType, _input.Shape, _input.Data);
        else if (_index.TryGetValue(tensor, out int i)) v = GraphSession.ReadTensor(tensor, _values[i]);
        else if (_program.Constant(tensor) is { } c) v = new TensorValue(tensor, c.Type, c.Dims, c.ToFloats());
        else throw new ArgumentException($"'{tensor}' is not an output of this forward program; add it to the request's AlsoFetch", nameof(tensor));
        _copies[tensor] = v;
        return v;
    }

    /// <summary>d(Σ seed ⊙ S)/d(w) for every Wrt tensor w of the request.</summary>
    public Dictionary<string, TensorValue> Backward(float[] seed) => Backward(seed, null);

    /// <summary>For a request with <see cref="GradientRequest.SeedIndices"/>: d S[b, index_b] / d(w), one score index per batch item.</summary>
    public Dictionary<string, TensorValue> Backward(long[] seedIndices) => Backward(null, seedIndices);

    private Dictionary<string, TensorValue> Backward(float[]? dense, long[]? indices)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var score = Value(_program.Request.ScoreTensor);
        using var seed = _program.SeedValue(dense, indices, score.Shape);
        return _program.RunBackwardFrom(seed, _inputValue, name => _values[_index[name]]);
    }

    /// <summary>
    /// A backward run that reads the forward values named by <paramref name="takeFromOther"/> from another live
    /// pass whose program has the same backward inputs (the same graph after the Wrt tensors), the rest from
    /// this one. Shapley-CAM uses it to differentiate a gradient along the activation with the ReLU masks and
    /// max-pool choices of the unperturbed pass held fixed, as autograd's second derivative does.
    /// </summary>
    internal Dictionary<string, TensorValue> Backward(long[] seedIndices, ForwardPass other, Func<string, bool> takeFromOther)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ObjectDisposedException.ThrowIf(other._disposed, other);
        var score = Value(_program.Request.ScoreTensor);
        using var seed = _program.SeedValue(null, seedIndices, score.Shape);
        return _program.RunBackwardFrom(seed, _inputValue,
            name => takeFromOther(name) && other._index.TryGetValue(name, out int j) ? other._values[j] : _values[_index[name]]);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _values.Dispose();
        _inputValue.Dispose();
    }
}
