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

    private SalientModel(string path, Graph graph, InputSpec input, ModelOptions options, Sidecar? sidecar)
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
        _givenLabels = LoadLabels(path, options, sidecar);
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
        var graph = OnnxReader.ReadFile(path);
        ConstantFolder.Fold(graph);
        var input = InputSpec.Detect(graph);
        if (options.Size is { } size && (input.Width is { } w && w != size.Width || input.Height is { } h && h != size.Height))
            throw new SalientException($"the model's input is fixed at {input.Width}×{input.Height}; the `size` option {size.Width}x{size.Height} cannot be used");
        var model = new SalientModel(path, graph, input, options, Sidecar.TryLoad(path));
        model.Structure(); // probe once: fails now, clearly, if ORT cannot run the model
        return model;
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


    /// <summary>Shapes, layouts, layer table and default layer for an input size (default: <see cref="InputSize"/>).</summary>
    public ModelStructure Structure(int? height = null, int? width = null)
    {
        ThrowIfDisposed();
        var key = (height ?? InputSize.Height, width ?? InputSize.Width);
        return _structures.GetOrAdd(key, k => new Lazy<ModelStructure>(() =>
        {
            var shapes = Probe(Input.ShapeFor(Input.DynamicBatch ? 1 : Input.FixedBatch, k.H, k.W)).Shapes;
            var s = new ModelStructure(Graph, Input, shapes);
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
        int classes = Structure().ClassCount;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        var stem = System.IO.Path.GetFileNameWithoutExtension(Path);
        foreach (var name in new[] { stem + ".labels.txt", "labels.txt", "classes.txt", "imagenet_classes.txt", "synset.txt" })
        {
            var p = System.IO.Path.Combine(dir, name);
            if (!File.Exists(p)) continue;
            var l = Labels.Load(p);
            if (l.Count == classes) return l;
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
        var structure = Structure();
        var wanted = tensors.Append(structure.LogitsName).Distinct().ToList();
        if (!Input.DynamicBatch && items.Count != Input.FixedBatch)
        {
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

    /// <summary>Top-k classes with softmax probabilities (a model that ends in Softmax is used as is).</summary>
    public IReadOnlyList<Prediction>[] Predict(IReadOnlyList<PreparedInput> items, int top = 5)
    {
        ArgumentNullException.ThrowIfNull(items);
        var structure = Structure();
        var outs = Run(items, structure.OutputName);
        var logits = outs[structure.LogitsName];
        var probs = outs[structure.OutputName];
        int classes = (int)(logits.Length / items.Count);
        var result = new IReadOnlyList<Prediction>[items.Count];
        for (int b = 0; b < items.Count; b++)
        {
            var l = logits.Data.AsSpan(b * classes, classes).ToArray();
            var p = structure.EndsInSoftmax && probs.Length == logits.Length ? probs.Data.AsSpan(b * classes, classes).ToArray() : Statistics.Softmax(l);
            result[b] = Enumerable.Range(0, classes).OrderByDescending(i => l[i]).Take(Math.Max(1, top))
                .Select(i => new Prediction(i, ClassName(i), l[i], p[i])).ToList();
        }
        return result;
    }

    public IReadOnlyList<Prediction> Predict(RgbImage image, int top = 5) => Predict([Prepare(image)], top)[0];

    /// <summary>Resolves a class given as "auto"/"top1", an index, or a label (exact or unique substring).</summary>
    public int ResolveClass(string spec, ReadOnlySpan<float> logits)
    {
        spec = spec.Trim();
        if (spec.Length == 0 || spec.Equals("auto", StringComparison.OrdinalIgnoreCase) || spec.Equals("top1", StringComparison.OrdinalIgnoreCase))
            return Statistics.ArgMax(logits);
        if (spec.StartsWith("top", StringComparison.OrdinalIgnoreCase) && int.TryParse(spec[3..], out int k) && k >= 1 && k <= logits.Length)
        {
            var copy = logits.ToArray();
            return Enumerable.Range(0, copy.Length).OrderByDescending(i => copy[i]).ElementAt(k - 1);
        }
        int classes = logits.Length;
        if (int.TryParse(spec, out int idx))
        {
            if (idx < 0 || idx >= classes)
                throw new SalientException($"class index {idx} is out of range: the model has {classes} classes (0–{classes - 1})");
            return idx;
        }
        if (Labels?.Find(spec) is { } found) return found;
        throw new SalientException(Labels is null
            ? $"class '{spec}' is not a number and the model has no labels file (give a labels file with the `labels` option, or an index 0–{classes - 1})"
            : $"unknown class '{spec}'; give an index 0–{classes - 1} or a label from the labels file");
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var s in _sessions.Values) if (s.IsValueCreated) s.Value.Dispose();
        _sessions.Clear();
        foreach (var p in _parts.Values) if (p.IsValueCreated && p.Value is IDisposable d) d.Dispose();
        _parts.Clear();
        Weights.Dispose();
    }
}
