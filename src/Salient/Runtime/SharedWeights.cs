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
    /// <param name="modelPath">The model file: constants read from it, or from external data files in its
    /// folder, are given to ORT as references into those files (relative to the folder).</param>
    public SharedWeights(Graph graph, string? modelPath = null)
    {
        if (modelPath is not null && Path.GetDirectoryName(RealPath(modelPath)) is { Length: > 0 } folder)
        {
            _folder = folder;
            var real = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var t in graph.Initializers.Values)
            {
                if (t.Source is not { } s) continue;
                // ORT resolves links before checking that external data stays inside the folder it is
                // told: locations relative to the real folder, from the real file.
                if (!real.TryGetValue(s.Path, out var path)) real[s.Path] = path = RealPath(s.Path);
                var relative = Path.GetRelativePath(folder, path);
                if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative)) continue;
                _slices.AddOrUpdate(t.Data, s with { Path = relative });
            }
        }
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
    public byte[] Prepare(Graph graph, SessionOptions options, bool useFile = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_added.TryGetValue(options, out var added)) _added.Add(options, added = new HashSet<string>(StringComparer.Ordinal));
        foreach (var t in graph.Initializers.Values)
            if (Shares(t) && SameShape(t) && added.Add(t.Name)) options.AddInitializer(t.Name, ValueOf(t));
        bool file = useFile && _folder is not null;
        if (file && added.Add("\0folder")) options.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", _folder!);
        return OnnxWriter.ToBytes(graph, t => file && Shares(t) && _slices.TryGetValue(t.Data, out var s) ? s : null);
    }

    // What was already added to a SessionOptions (a retry must not add a name twice: ORT refuses it).
    private readonly ConditionalWeakTable<SessionOptions, HashSet<string>> _added = new();

    // A renamed re-use keeps the array but could in principle carry other dims; an ORT value has one shape.
    private bool SameShape(Tensor t)
    {
        if (!_values.TryGetValue(t.Data, out var lazy) || !lazy.IsValueCreated) return true;
        return Shapes.Equal(lazy.Value.GetTensorTypeAndShape().Shape, t.Dims);
    }

    /// <summary>Creates a session over <paramref name="graph"/> sharing this model's weights and pre-packed weights.</summary>
    public InferenceSession CreateSession(Graph graph, SessionOptions options)
    {
        var bytes = Prepare(graph, options, _useFile);
        try { return Open(bytes, options); }
        catch (OnnxRuntimeException e) when (_useFile && e.Message.Contains("xternal data", StringComparison.Ordinal))
        {
            // ORT refused the file reference (a path it resolves differently): from now on the
            // constants travel inline in the model bytes; still shared, so still one copy at run time.
            _useFile = false;
            return Open(Prepare(graph, options, false), options);
        }
    }

    // Integer-arithmetic kernels (QLinearConv…) cannot put their pre-packed weights in a shared container
    // (ORT refuses the session): such a model's sessions pre-pack on their own; the weights stay shared.
    private InferenceSession Open(byte[] bytes, SessionOptions options)
    {
        if (!_prePackShared) return new InferenceSession(bytes, options);
        try { return new InferenceSession(bytes, options, Container); }
        catch (OnnxRuntimeException e) when (e.Message.Contains("pre-packed weights", StringComparison.Ordinal))
        {
            _prePackShared = false;
            return new InferenceSession(bytes, options);
        }
    }

    private volatile bool _prePackShared = true;

    private volatile bool _useFile = true;

    /// <summary>True while sessions get file references for the constants read from files (false after ORT refused one, or without a model file).</summary>
    internal bool ReferencesFiles => _useFile && _folder is not null;

    /// <summary>The path with every symbolic link along it resolved.</summary>
    internal static string RealPath(string path)
    {
        try
        {
            string full = Path.GetFullPath(path);
            string root = Path.GetPathRoot(full) ?? "";
            string current = root;
            foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
            {
                current = Path.Combine(current, part);
                FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
                if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                    current = RealPath(target.FullName);
            }
            return current;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Path.GetFullPath(path); }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var v in _values.Values) if (v.IsValueCreated) v.Value.Dispose();
        _values.Clear();
        Container.Dispose();
    }
}
