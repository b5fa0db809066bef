using Salient.Core;
using System.Collections.Concurrent;
using Salient.Imaging;
using Salient.Onnx;
using Salient.Runtime;

namespace Salient.Models;

/// <summary>
/// A loaded image model: load once, then predict and explain many images, from several threads at
/// once if you like (every cache is thread-safe and ORT sessions allow concurrent runs).
/// </summary>
public sealed class SalientModel : IDisposable
{
    private readonly ConcurrentDictionary<(int H, int W), Lazy<ModelStructure>> _structures = new();
    private readonly ConcurrentDictionary<string, Lazy<GraphSession>> _sessions = new();
    private readonly ConcurrentDictionary<string, Lazy<ProbeResult>> _probes = new();
    private readonly ConcurrentDictionary<Type, Lazy<object>> _parts = new();
    private volatile bool _disposed;
    // Leases (see Enter): native memory is released when the model is disposed and no call is in flight.
    private readonly object _gate = new();
    private int _leases;
    private bool _released;

    private SalientModel(string path, Graph graph, InputSpec input, ModelOptions options, Sidecar? sidecar, Labels? builtInLabels = null)
    {
        Path = path;
        Graph = graph;
        Input = input;
        Options = options;
        Sidecar = sidecar;
        Runtime = options.Runtime;
        Weights = new SharedWeights(graph, path);

        var pp = options.Preprocessing;
        if (pp is null && sidecar?.Preprocess is { } name) pp = Preprocessing.Parse(name);
        if (sidecar is not null && options.Preprocessing is null && (sidecar.Mean ?? sidecar.Std ?? (object?)sidecar.Scale ?? sidecar.Bgr) is not null)
            pp = (pp ?? DefaultPreprocessing(input)).WithOverrides(sidecar.Mean, sidecar.Std, sidecar.Scale, sidecar.Bgr);
        Preprocessing = pp ?? DefaultPreprocessing(input);
        Resize = options.Resize ?? (sidecar?.Resize is { } r ? ResizeModes.Parse(r) : ResizeMode.Crop);
        if (options.Size is { } size) InputSize = size;
        else if (input.Width is { } w && input.Height is { } h) InputSize = (w, h);
        else if (sidecar?.Size is { Length: 2 } s) InputSize = (s[0], s[1]);
        else InputSize = (224, 224);
        DefaultLayerName = options.DefaultLayer ?? sidecar?.Layer ?? "auto";
        _tokens = TokenOverride.Parse(options.Tokens);
        _givenLabels = LoadLabels(path, options, sidecar) ?? builtInLabels;
    }

    /// <summary>
    /// A per-model part that a later stage of the pipeline attaches (the gradient engine, cut
    /// sessions…): created once, on first use, and disposed with the model. This is how layers above
    /// Models keep per-model state without Models knowing them.
    /// </summary>
    internal T Part<T>(Func<SalientModel, T> create) where T : class
    {
        ThrowIfDisposed();
        return (T)_parts.GetOrAdd(typeof(T), _ => new Lazy<object>(() => create(this))).Value;
    }

    /// <summary>
    /// Takes a lease for one call: throws <see cref="ObjectDisposedException"/> once <see cref="Dispose"/>
    /// has been called; while any lease is held the sessions (and every part's native memory) stay alive,
    /// and the last lease to end after Dispose releases them. Every public entry point that reaches ONNX
    /// Runtime holds one, so a Dispose on another thread never frees memory a run is using. Leases nest.
    /// </summary>
    internal Lease Enter()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _leases++;
        }
        return new Lease(this);
    }

    private void Exit()
    {
        bool release;
        lock (_gate)
        {
            _leases--;
            release = _leases == 0 && _disposed && !_released;
            if (release) _released = true;
        }
        if (release) ReleaseNative();
    }

    /// <summary>One call's hold on the model's native resources (<see cref="Enter"/>).</summary>
    internal sealed class Lease(SalientModel model) : IDisposable
    {
        private int _done;
        public void Dispose() { if (Interlocked.Exchange(ref _done, 1) == 0) model.Exit(); }
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> once <see cref="Dispose"/> has been called.</summary>
    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>The one copy of the weights that every ORT session of this model shares.</summary>
    internal SharedWeights Weights { get; }

    public string Path { get; }
    /// <summary>The graph after constant folding (read-only by convention).</summary>
    internal Graph Graph { get; }
    public InputSpec Input { get; }
    public ModelOptions Options { get; }
    internal Sidecar? Sidecar { get; }
    public RuntimeOptions Runtime { get; }
    public Preprocessing Preprocessing { get; }
    public ResizeMode Resize { get; }
    /// <summary>The (width, height) images are resized to.</summary>
    public (int Width, int Height) InputSize { get; }
    public string DefaultLayerName { get; }
    private readonly Labels? _givenLabels;

    /// <summary>Loads an ONNX model: parse, fold constant weight subgraphs, detect the image input, read the sidecar.</summary>
    public static SalientModel Load(string path, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new ModelOptions();
        CheckLimits(options); // before the file is read or anything is allocated
        var graph = OnnxReader.ReadFile(path);
        ConstantFolder.Fold(graph);
        var input = InputSpec.Detect(graph);
        if (options.Size is { } size && (input.Width is { } w && w != size.Width || input.Height is { } h && h != size.Height))
            throw new SalientException($"the model's input is fixed at {input.Width}×{input.Height}; the `size` option {size.Width}x{size.Height} cannot be used");
        var model = new SalientModel(path, graph, input, options, Sidecar.TryLoad(path));
        long inputPixels = (long)model.InputSize.Width * model.InputSize.Height * Math.Max(1, input.DynamicBatch ? 1 : input.FixedBatch);
        if (inputPixels > options.MaxPixels)
            throw new SalientException($"the model's input {model.InputSize.Width}×{model.InputSize.Height}" + (input.DynamicBatch || input.FixedBatch <= 1 ? "" : $" × batch {input.FixedBatch}")
                + $" is {inputPixels} pixels, over the pixel limit {options.MaxPixels} (the `max-pixels` option)");
        model.Structure(); // probe once: fails now, clearly, if ORT cannot run the model
        return model;
    }

    /// <summary>The <see cref="Path"/> of the built-in model (it is an embedded resource, not a file).</summary>
    public const string BuiltInModelPath = "builtin:mobilenetv2-w8.onnx";

    /// <summary>The built-in model's target layer.</summary>
    public const string BuiltInModelLayer = "features.18";

    /// <summary>
    /// Loads the built-in default model, embedded in this assembly: ImageNet-1k MobileNetV2 (torchvision
    /// weights from the ONNX Model Zoo, int8 weights behind DequantizeLinear, 3.7 MB), with its 1000
    /// ImageNet labels, imagenet preprocessing and target layer <c>features.18</c> unless
    /// <paramref name="options"/> says otherwise. Origin and licence: THIRD-PARTY-NOTICES.md in the package.
    /// </summary>
    public static SalientModel LoadBuiltIn(ModelOptions? options = null)
    {
        options ??= new ModelOptions();
        CheckLimits(options);
        var graph = OnnxReader.Read(BuiltInResource("mobilenetv2-w8.onnx"), BuiltInModelPath);
        ConstantFolder.Fold(graph);
        var input = InputSpec.Detect(graph);
        if (options.Size is { } size && (size.Width != 224 || size.Height != 224))
            throw new SalientException($"the model's input is fixed at 224×224; the `size` option {size.Width}x{size.Height} cannot be used");
        var labels = new Labels(System.Text.Encoding.UTF8.GetString(BuiltInResource("imagenet_classes.txt"))
            .Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
        options = options with
        {
            Preprocessing = options.Preprocessing ?? Preprocessing.Imagenet,
            DefaultLayer = options.DefaultLayer ?? BuiltInModelLayer,
        };
        var model = new SalientModel(BuiltInModelPath, graph, input, options, sidecar: null, builtInLabels: labels);
        model.Structure();
        return model;
    }

    /// <summary>
    /// The same model (options, preprocessing, labels, path) over another graph with the same input and
    /// outputs, e.g. with some weights replaced (the sanity checks' randomized copies). Dispose it separately.
    /// </summary>
    internal SalientModel WithGraph(Graph graph)
    {
        var model = new SalientModel(Path, graph, Input, Options, Sidecar, Labels);
        model.Structure();
        return model;
    }

    private static byte[] BuiltInResource(string name)
    {
        using var s = typeof(SalientModel).Assembly.GetManifestResourceStream("Salient.DefaultModel." + name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from Salient.dll");
        var bytes = new byte[s.Length];
        s.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>The largest accepted pixel limit: 3 float channels of it still fit one .NET array.</summary>
    public const long MaxPixelLimit = int.MaxValue / 4;

    /// <summary>Options bounded up front, each with a one-line error naming it.</summary>
    private static void CheckLimits(ModelOptions options)
    {
        if (options.MaxPixels is <= 0 or > MaxPixelLimit)
            throw new SalientException($"the `max-pixels` option {options.MaxPixels} must be between 1 and {MaxPixelLimit}");
        options.Runtime.Validate();
        if (options.Size is { } size)
        {
            if (size.Width <= 0 || size.Height <= 0)
                throw new SalientException($"the `size` option {size.Width}x{size.Height} must be positive");
            long pixels = (long)size.Width * size.Height;
            if (pixels > options.MaxPixels)
                throw new SalientException($"the `size` option {size.Width}x{size.Height} is {pixels} input pixels, over the pixel limit {options.MaxPixels} (the `max-pixels` option)");
        }
    }

    public static Preprocessing DefaultPreprocessing(InputSpec input) =>
        input.Type == DataType.UInt8 ? new Preprocessing("uint8", [0f], [1f], 1f, false)
        : input.Channels == 1 ? Preprocessing.Raw
        : Preprocessing.Imagenet;

    private static Labels? LoadLabels(string modelPath, ModelOptions options, Sidecar? sidecar)
    {
        if (options.LabelsPath is { } lp) return Labels.Load(lp);
        if (sidecar?.Labels is { } sl) return Labels.Load(sidecar.Resolve(sl)!);
        return null;
    }


    private readonly TokenOverride? _tokens;

    /// <summary>Shapes, layouts, layer table and default layer for an input size (default: <see cref="InputSize"/>).</summary>
    public ModelStructure Structure(int? height = null, int? width = null)
    {
        using var lease = Enter();
        var key = (height ?? InputSize.Height, width ?? InputSize.Width);
        return _structures.GetOrAdd(key, k => new Lazy<ModelStructure>(() =>
        {
            var shapes = Probe(Input.ShapeFor(Input.DynamicBatch ? 1 : Input.FixedBatch, k.H, k.W)).Shapes;
            var s = new ModelStructure(Graph, Input, shapes, _tokens);
            return s;
        })).Value;
    }

    /// <summary>
    /// The one probe per input shape (shapes, types and small shape-derived values of every tensor),
    /// shared by the structure and the gradient engine (cached; a failure is not).
    /// </summary>
    internal ProbeResult Probe(long[] inputShape)
    {
        ThrowIfDisposed();
        string key = string.Join(",", inputShape);
        var lazy = _probes.GetOrAdd(key, _ => new Lazy<ProbeResult>(() =>
            ShapeProbe.Probe(Graph, Input.Name, Input.Type, (long[])inputShape.Clone(), Runtime, ShapeProbe.SmallLimit, Weights)));
        try { return lazy.Value; }
        catch
        {
            _probes.TryRemove(new KeyValuePair<string, Lazy<ProbeResult>>(key, lazy));
            throw;
        }
    }

    /// <summary>
    /// The class names: from <see cref="ModelOptions.LabelsPath"/>, else the sidecar's, else a labels
    /// file next to the model with as many lines as the model has classes; null when there is none.
    /// </summary>
    public Labels? Labels => _autoLabels.Value;
    private Lazy<Labels?>? _autoLabelsBacking;
    private Lazy<Labels?> _autoLabels => _autoLabelsBacking ??= new Lazy<Labels?>(() =>
    {
        if (_givenLabels is not null) return _givenLabels;
        var structure = Structure();
        // A classifier's class count, or the class axis of a segmentation [N,K,H,W] or detection [N,B,5+K] / [N,B,K] output.
        var counts = new HashSet<int> { structure.ClassCount };
        if (structure.Shapes.TryGetValue(structure.LogitsName, out var shape) && shape.Rank == 4) counts.Add((int)shape.Dims[1]);
        if (shape is { Rank: 3 }) { counts.Add((int)shape.Dims[2]); counts.Add((int)shape.Dims[2] - 5); }
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        var stem = System.IO.Path.GetFileNameWithoutExtension(Path);
        foreach (var name in new[] { stem + ".labels.txt", "labels.txt", "classes.txt", "imagenet_classes.txt", "synset.txt" })
        {
            var p = System.IO.Path.Combine(dir, name);
            if (!File.Exists(p)) continue;
            var l = Labels.Load(p);
            if (counts.Contains(l.Count)) return l;
        }
        return null;
    });

    /// <summary>The name of a class (from <see cref="Labels"/>, or "class N").</summary>
    public string ClassName(int classIndex) => Labels is { } l && classIndex < l.Count ? l[classIndex] : $"class {classIndex}";

    /// <summary>An ORT session whose outputs are the model's outputs plus <paramref name="extraOutputs"/> (cached).</summary>
    internal GraphSession Session(IEnumerable<string> extraOutputs)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(extraOutputs);
        var extras = extraOutputs.Where(e => !Graph.IsGraphOutput(e)).Distinct().OrderBy(e => e, StringComparer.Ordinal).ToList();
        var key = string.Join("\n", extras);
        return _sessions.GetOrAdd(key, _ => new Lazy<GraphSession>(() =>
        {
            var g = Graph.Clone();
            foreach (var e in extras) g.Outputs.Add(new ValueInfo(e, DataType.Undefined, null));
            return new GraphSession(g, Runtime, Weights);
        })).Value;
    }

    /// <summary>Decodes an image file with this model's pixel limit.</summary>
    public RgbImage LoadImage(string path)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(path);
        return ImageLoader.Load(path, new ImageLoadOptions { MaxPixels = Options.MaxPixels });
    }

    /// <summary>Resizes/crops and normalizes an image into this model's input layout.</summary>
    public PreparedInput Prepare(RgbImage image)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(image);
        return Preprocessor.Prepare(image, InputSize.Width, InputSize.Height, Input.Channels, Input.Layout, Resize, Preprocessing);
    }

    /// <summary>
    /// Packs prepared images into one batch input. For a single image the batch IS that image's
    /// tensor (no copy): treat the returned data as read-only, as ONNX Runtime does.
    /// </summary>
    public InputValue Pack(IReadOnlyList<PreparedInput> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0) throw new ArgumentException("empty batch");
        if (!Input.DynamicBatch && items.Count != Input.FixedBatch)
            throw new SalientException($"the model's batch size is fixed at {Input.FixedBatch}");
        int per = items[0].Tensor.Length;
        // One image: its prepared tensor is the batch (ORT reads inputs, never writes them).
        if (items.Count == 1) return new InputValue(Input.Name, Input.ShapeFor(1, InputSize.Height, InputSize.Width), items[0].Tensor);
        var data = new float[per * items.Count];
        for (int i = 0; i < items.Count; i++) items[i].Tensor.CopyTo(data, i * per);
        return new InputValue(Input.Name, Input.ShapeFor(items.Count, InputSize.Height, InputSize.Width), data);
    }

    /// <summary>Runs the model on prepared images and returns the requested tensors (+ the logits).</summary>
    public Dictionary<string, TensorValue> Run(IReadOnlyList<PreparedInput> items, params string[] tensors)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(tensors);
        using var lease = Enter();
        var structure = Structure();
        var wanted = tensors.Append(structure.LogitsName).Distinct().ToList();
        if (!Input.DynamicBatch && items.Count != Input.FixedBatch)
        {
            if (Input.FixedBatch != 1)
                throw new SalientException($"the model's batch size is fixed at {Input.FixedBatch}; Salient feeds batches of 1 or a dynamic batch ({items.Count} images given)");
            // Fixed-batch model: run item by item and concatenate along the batch axis.
            var parts = items.Select(it => Run([it], tensors)).ToList();
            return wanted.ToDictionary(n => n, n => Concat(parts.Select(p => p[n]).ToList()));
        }
        var session = Session(wanted);
        return session.Run([Pack(items)], wanted);
    }

    private static TensorValue Concat(List<TensorValue> parts)
    {
        var shape = (long[])parts[0].Shape.Clone();
        shape[0] = parts.Sum(p => p.Shape[0]);
        return new TensorValue(parts[0].Name, parts[0].Type, shape, parts.SelectMany(p => p.Data).ToArray());
    }

    /// <summary>Top-k classes with softmax probabilities (a model that ends in Softmax is used as is; one that ends in Sigmoid, a multi-label model, gives σ of each class and its input as the logit).</summary>
    public IReadOnlyList<Prediction>[] Predict(IReadOnlyList<PreparedInput> items, int top = 5)
    {
        ArgumentNullException.ThrowIfNull(items);
        using var lease = Enter();
        var structure = Structure();
        if (structure.Shapes.TryGetValue(structure.LogitsName, out var shape) && shape.Rank >= 2 && shape.Dims.Skip(1).Count(d => d != 1) > 1)
            throw new SalientException($"the model's output '{structure.LogitsName}' has shape {Onnx.Shapes.Format(shape.Dims)}, not one score per class; " +
                "predict lists the classes of classifiers; explain it with the `target` option (explain names the targets its outputs allow)");
        // A multi-label model ending in Sigmoid: the logits are the Sigmoid's input, the probabilities its output.
        var sigmoidInput = FinalSigmoidInput(Graph);
        var logitsName = sigmoidInput ?? structure.LogitsName;
        var outs = Run(items, structure.OutputName, logitsName);
        var logits = outs[logitsName];
        var probs = outs[structure.OutputName];
        CheckFinite(logits, items.Count);
        int classes = (int)(logits.Length / items.Count);
        var result = new IReadOnlyList<Prediction>[items.Count];
        for (int b = 0; b < items.Count; b++)
        {
            var l = logits.Data.AsSpan(b * classes, classes).ToArray();
            var p = (structure.EndsInSoftmax || sigmoidInput is not null) && probs.Length == logits.Length ? probs.Data.AsSpan(b * classes, classes).ToArray() : null;
            result[b] = Top(l, p, top);
        }
        return result;
    }

    /// <summary>The input of the Sigmoid the model's first output comes from (through Identity/Flatten/Reshape/Squeeze), or null: a multi-label model's logits.</summary>
    internal static string? FinalSigmoidInput(Graph g)
    {
        var p = g.Producer(g.Outputs[0].Name);
        while (p is not null && p.OpType is "Identity" or "Flatten" or "Reshape" or "Squeeze") p = g.Producer(p.Inputs[0]);
        return p is { OpType: "Sigmoid" } ? p.Inputs[0] : null;
    }

    /// <summary>
    /// The <paramref name="top"/> classes of one image's logits, best first, with softmax probabilities
    /// (<paramref name="probabilities"/> when the model computes them itself, else the softmax of the logits).
    /// </summary>
    internal IReadOnlyList<Prediction> Top(float[] logits, float[]? probabilities, int top)
    {
        var p = probabilities ?? Statistics.Softmax(logits);
        return Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).Take(Math.Max(1, top))
            .Select(i => new Prediction(i, ClassName(i), logits[i], p[i])).ToList();
    }

    /// <summary>
    /// Predict and explain refuse logits that are not finite (NaN or ±∞) with one line naming the output:
    /// there is no meaningful class, probability or map to give.
    /// </summary>
    internal static void CheckFinite(TensorValue logits, int items)
    {
        int per = items > 0 ? (int)(logits.Length / items) : 0;
        for (long i = 0; i < logits.Length; i++)
            if (!float.IsFinite(logits.Data[i]))
                throw new SalientException($"the model's output '{logits.Name}' is not finite ({logits.Data[i]} at index {(per > 0 ? i % per : i)}" +
                    (items > 1 && per > 0 ? $" of image {i / per + 1}" : "") + "); the model or its preprocessing produces invalid values");
    }

    public IReadOnlyList<Prediction> Predict(RgbImage image, int top = 5) => Predict([Prepare(image)], top)[0];

    /// <summary>
    /// Resolves a class list item: "auto"/"top1" the top class, "topK" the K highest classes (best
    /// first), "rankK" the class ranked K-th, an index, or a label (exact or unique substring; a typo
    /// gets the closest label suggested).
    /// </summary>
    public IReadOnlyList<int> ResolveClasses(string spec, ReadOnlySpan<float> logits)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec = spec.Trim();
        if (RankForm(spec, "top", logits.Length) is { } k)
        {
            var copy = logits.ToArray();
            return Enumerable.Range(0, copy.Length).OrderByDescending(i => copy[i]).Take(k).ToList();
        }
        return [ResolveClass(spec, logits)];
    }

    /// <summary>Resolves one class: "auto"/"top1", "rankK" (the K-th highest), an index or a label (see <see cref="ResolveClasses"/>).</summary>
    public int ResolveClass(string spec, ReadOnlySpan<float> logits)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec = spec.Trim();
        if (spec.Length == 0 || spec.Equals("auto", StringComparison.OrdinalIgnoreCase) || spec.Equals("top1", StringComparison.OrdinalIgnoreCase))
            return Statistics.ArgMax(logits);
        if (RankForm(spec, "rank", logits.Length) is { } rank)
        {
            var copy = logits.ToArray();
            return Enumerable.Range(0, copy.Length).OrderByDescending(i => copy[i]).ElementAt(rank - 1);
        }
        if (RankForm(spec, "top", logits.Length) is not null)
            throw new SalientException($"class '{spec}' names several classes; it is valid in a class list (explain), not where one class is needed");
        int classes = logits.Length;
        // Any integer is an index, also one too large for int ("99999999999" is out of range, not a label).
        if (System.Text.RegularExpressions.Regex.IsMatch(spec, @"^[+-]?[0-9]+$") && !int.TryParse(spec, out _))
            throw new SalientException($"class index {spec} is out of range: the model has {classes} classes (0–{classes - 1})");
        if (int.TryParse(spec, out int idx))
        {
            if (idx < 0 || idx >= classes)
                throw new SalientException($"class index {idx} is out of range: the model has {classes} classes (0–{classes - 1})");
            return idx;
        }
        if (Labels?.Find(spec) is { } found) return found;
        if (Labels is null)
            throw new SalientException($"class '{spec}' is not a number and the model has no labels file (give a labels file with the `labels` option, or an index 0–{classes - 1})");
        throw new SalientException(Names.Suggest(spec, Labels.Names) is { } near
            ? $"unknown class '{spec}'; did you mean '{near}' ({Labels.Find(near)})?"
            : $"unknown class '{spec}'; give an index 0–{classes - 1}, a label from the labels file, topK or rankK");
    }

    /// <summary>K of "topK"/"rankK" (1 ≤ K ≤ classes; out of range is an error), else null.</summary>
    private static int? RankForm(string spec, string prefix, int classes)
    {
        if (!spec.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || !int.TryParse(spec[prefix.Length..], out int k)) return null;
        if (k < 1 || k > classes) throw new SalientException($"class '{spec}': {prefix}K needs 1 ≤ K ≤ {classes} (the model's classes)");
        return k;
    }

    /// <summary>
    /// Every later call throws <see cref="ObjectDisposedException"/>. Calls in flight on other threads
    /// finish (or fail with ObjectDisposedException when they need a new session); the sessions and parts
    /// are released now when none is in flight, else by the last one to finish. Never blocks.
    /// </summary>
    public void Dispose()
    {
        bool release;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            release = _leases == 0 && !_released;
            if (release) _released = true;
        }
        if (release) ReleaseNative();
    }

    private void ReleaseNative()
    {
        foreach (var s in _sessions.Values) if (s.IsValueCreated) s.Value.Dispose();
        _sessions.Clear();
        foreach (var p in _parts.Values) if (p.IsValueCreated && p.Value is IDisposable d) d.Dispose();
        _parts.Clear();
        Weights.Dispose();
    }
}
