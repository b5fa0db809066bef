using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.ML.OnnxRuntime;
using Salient.Onnx;

namespace Salient.Runtime;

/// <summary>
/// One copy of a model's weights for all of its ORT sessions (plain forward, forward with layers
/// exposed, shape probe, gradient programs, cut heads). Every big constant array of the model becomes
/// one ORT value over the managed array itself (pinned, no copy), handed to each session as a shared
/// initializer (<c>SessionOptions.AddInitializer</c>); kernels that pre-pack their weights (Gemm,
/// MatMul, Conv) do it once per model into one <see cref="PrePackedWeightsContainer"/>. The model
/// bytes given to ORT carry no big constant: one read straight from the model file is written as
/// external data pointing at its bytes in that file (ORT reads it only if an optimizer needs the
/// values), and one computed by Salient (folded) stays inline. Keyed by the array, so a constant
/// that a gradient program re-uses under another name is still the same value.
/// </summary>
internal sealed class SharedWeights : IDisposable
{
    /// <summary>Constants of at least this many bytes are shared; smaller ones are cheaper inline.</summary>
    public const long MinBytes = 16 * 1024;

    private readonly ConcurrentDictionary<Array, Lazy<OrtValue>> _values = new(ReferenceEqualityComparer.Instance);
    private readonly ConditionalWeakTable<Array, FileSlice> _slices = new();
    private readonly string? _folder;
    private volatile bool _disposed;

    /// <param name="graph">The model whose initializers (and their file slices) are shared.</param>
    public SharedWeights(Graph graph)
    {
        foreach (var t in graph.Initializers.Values)
        {
            if (t.Source is not { } s) continue;
            _slices.AddOrUpdate(t.Data, s);
            var dir = Path.GetDirectoryName(s.Path);
            if (_folder is null) _folder = dir;
            else if (!string.Equals(_folder, dir, StringComparison.Ordinal)) _folder = "";   // never: one model file
        }
        if (_folder == "") { _folder = null; _slices.Clear(); }
        Container = new PrePackedWeightsContainer();
    }

    public PrePackedWeightsContainer Container { get; }

    /// <summary>True for a constant this store shares: big enough, of a type ORT takes from managed memory.</summary>
    public static bool Shares(Tensor t) =>
        t.Data is float[] or double[] or long[] or int[] or short[] or sbyte[] or byte[]
        && (long)t.Data.Length * DataTypes.SizeOf(t.Type) >= MinBytes
        && DataTypes.SizeOf(t.Type) == System.Runtime.InteropServices.Marshal.SizeOf(t.Data.GetType().GetElementType()!);

    /// <summary>The ORT value over a constant's array (created once, kept until <see cref="Dispose"/>).</summary>
    private OrtValue ValueOf(Tensor t) => _values.GetOrAdd(t.Data, _ => new Lazy<OrtValue>(() => t.Data switch
    {
        float[] a => OrtValue.CreateTensorValueFromMemory(a, t.Dims),
        double[] a => OrtValue.CreateTensorValueFromMemory(a, t.Dims),
        long[] a => OrtValue.CreateTensorValueFromMemory(a, t.Dims),
        int[] a => OrtValue.CreateTensorValueFromMemory(a, t.Dims),
        short[] a => OrtValue.CreateTensorValueFromMemory(a, t.Dims),
        sbyte[] a => OrtValue.CreateTensorValueFromMemory(a, t.Dims),
        byte[] a => OrtValue.CreateTensorValueFromMemory(a, t.Dims),
        _ => throw new InvalidOperationException($"tensor '{t.Name}' is not shareable"),
    })).Value;

    /// <summary>
    /// The session options and model bytes for <paramref name="graph"/>: its shared constants are added
    /// to <paramref name="options"/> and written as external data (or inline when Salient computed them).
    /// </summary>
    public byte[] Prepare(Graph graph, SessionOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var t in graph.Initializers.Values)
            if (Shares(t) && SameShape(t)) options.AddInitializer(t.Name, ValueOf(t));
        if (_folder is not null) options.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", _folder);
        return OnnxWriter.ToBytes(graph, t => Shares(t) && _folder is not null && _slices.TryGetValue(t.Data, out var s) ? s : null);
    }

    // A renamed re-use keeps the array but could in principle carry other dims; an ORT value has one shape.
    private bool SameShape(Tensor t)
    {
        if (!_values.TryGetValue(t.Data, out var lazy) || !lazy.IsValueCreated) return true;
        return Shapes.Equal(lazy.Value.GetTensorTypeAndShape().Shape, t.Dims);
    }

    /// <summary>Creates a session over <paramref name="graph"/> sharing this model's weights and pre-packed weights.</summary>
    public InferenceSession CreateSession(Graph graph, SessionOptions options) =>
        new(Prepare(graph, options), options, Container);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var v in _values.Values) if (v.IsValueCreated) v.Value.Dispose();
        _values.Clear();
        Container.Dispose();
    }
}
