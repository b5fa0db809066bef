using System.Diagnostics;
using Salient.Autodiff;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Explain;

/// <summary>How far an <see cref="Explainer.Explain"/> call is: methods finished of the request's total.</summary>
public readonly record struct ExplainProgress(int MethodsDone, int MethodsTotal, string Method);

/// <summary>
/// The explain pipeline: one forward run fetches the logits and every target layer's activation,
/// classes are resolved per item, each method computes its raw maps, maps are normalized (and,
/// with several layers, brought to the input grid and averaged). With the parameter
/// <c>aug-smooth=true</c>, layer (CAM-family) methods run on flipped/zoomed copies of the inputs too
/// and their maps are de-augmented and averaged on the input grid (<see cref="AugSmooth"/>).
/// Methods that combine another's maps (guided Grad-CAM) get them from here (<see cref="MethodContext.Compose"/>).
/// </summary>
public static class Explainer
{
    public static ExplainResult Explain(SalientModel model, IReadOnlyList<PreparedInput> items, ExplainRequest request,
        IProgress<ExplainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(request);
        using var lease = model.Enter(); // a Dispose on another thread waits for this call to end before freeing sessions
        using var cancellation = Core.AmbientCancellation.Enter(cancellationToken); // checked between batches inside methods
        if (items.Count == 0) throw new ArgumentException("no images to explain", nameof(items));
        if (items.Any(i => i is null)) throw new ArgumentNullException(nameof(items), "an item is null");
        var structure = model.Structure();
        var methods = request.Methods.Select(MethodRegistry.Get).ToList();
        if (methods.Count == 0) throw new SalientException("no method given");
        var parameters = new Dictionary<string, string>(request.Parameters, StringComparer.OrdinalIgnoreCase);
        ParameterCheck.Validate(methods, parameters); // a bad parameter fails before any forward pass
        if (request.MemoryBudgetBytes < 1 << 20) throw new SalientException($"memory budget {request.MemoryBudgetBytes} bytes is below 1 MB");
        parameters[MethodContext.MemoryBudgetKey] = request.MemoryBudgetBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var composed = methods.SelectMany(m => m.Composes).Distinct().Select(MethodRegistry.Get).ToList();
        var layerMethods = methods.Concat(composed).Where(m => m.UsesLayer).Distinct().ToList();
        // What the maps explain: binding checks the target against the model's outputs (one line listing the targets they allow).
        // Class-agnostic methods alone (Eigen-CAM on a detector) need no target: the first output stands in for the logits.
        var target = request.Target is null && methods.All(m => m.ClassAgnostic) && !Target.FitsLogit(structure)
            ? Target.Output(null).Bind(model, structure)
            : (request.Target ?? Target.Logit()).Bind(model, structure);
        var layers = layerMethods.Count > 0 ? structure.ResolveTargetLayers(request.Layers, model.DefaultLayerName) : [];
        // A fully convolutional head (segmentation): the automatic layer is the score map itself; take the features it is computed from.
        if (layers.Count == 1 && model.DefaultLayerName == "auto" && request.Layers.All(l => l.Equals("auto", StringComparison.OrdinalIgnoreCase))
            && SegmentationTarget.FeaturesBelowHead(model, structure, target.ScoreTensor, layers[0].Name) is { } features)
            layers = [structure.ResolveLayer(features)];
        if (target.Spatial && layerMethods.Count > 0 && new MethodContext(model, structure, null, items, [], parameters, new()) { Target = target }.Get(CommonParameters.AugSmooth))
            throw new SalientException($"aug-smooth flips and zooms the image, which would move what the target '{target.Spec}' fixed on the original image; run it without aug-smooth");

        var sw = Stopwatch.StartNew();
        // One forward run: logits, every target layer, and whatever else the layer methods ask for
        // (e.g. the forward values a Grad-CAM backward reads, so it needs no second forward).
        var wanted = new List<string>(layers.Select(l => l.Name)) { structure.LogitsName, target.ScoreTensor };
        var noClasses = items.Select(_ => Array.Empty<int>()).ToList();
        foreach (var m in layerMethods)
            foreach (var layer in layers)
                wanted.AddRange(m.ForwardTensors(new MethodContext(model, structure, layer, items, noClasses, parameters, new()) { Target = target }));
        using var pass = SharedForward(model, structure, target, methods, items, wanted.Distinct().ToList(), parameters);
        var forward = pass is null
            ? model.Run(items, wanted.Distinct().ToArray())
            : wanted.Distinct().ToDictionary(t => t, pass.Value);
        var forwardTime = sw.Elapsed;
        var logitsTensor = forward[structure.LogitsName];
        SalientModel.CheckFinite(logitsTensor, items.Count);
        int classes = structure.ClassCount;
        if (classes <= 0 || logitsTensor.Length != (long)items.Count * classes)
            throw new SalientException($"the model's output '{structure.LogitsName}' has {logitsTensor.Length} values for {items.Count} image(s) " +
                $"where its probed shape {Onnx.Shapes.Format(logitsTensor.Shape)} promised {classes} per image; its output shape depends on the batch in a way Salient cannot use");
        // Class scores per item; a model whose output is not one score per class (a segmentation map…) has none to report.
        var logits = Target.FitsLogit(structure)
            ? Enumerable.Range(0, items.Count).Select(i => logitsTensor.Data.AsSpan(i * classes, classes).ToArray()).ToArray()
            : items.Select(_ => Array.Empty<float>()).ToArray();

        var classSpecs = request.ClassesPerItem ?? Enumerable.Repeat(request.Classes, items.Count).ToList();
        if (classSpecs.Count != items.Count) throw new SalientException($"{classSpecs.Count} class lists given for {items.Count} images");
        // The target's slots per item (for class targets: the classes), resolved on the original images' outputs.
        var scoreTensor = forward[target.ScoreTensor];
        if (target.ScoreTensor != structure.LogitsName) SalientModel.CheckFinite(scoreTensor, items.Count);
        if (scoreTensor.Length != (long)items.Count * target.RowLength)
            throw new SalientException($"the model's output '{target.ScoreTensor}' has {scoreTensor.Length} values for {items.Count} image(s), not {target.RowLength} per image");
        var scoreRows = Enumerable.Range(0, items.Count).Select(i => scoreTensor.Data.AsSpan(i * target.RowLength, target.RowLength).ToArray()).ToArray();
        var itemClasses = target.Resolve(new TargetResolution(model, structure, items, scoreRows, classSpecs));
        ExplanationScores Scores(int item, int slot) => Describe(target, scoreRows[item], slot);

        // aug-smooth (CAM family): the methods also see flipped/zoomed copies of the inputs, whose
        // forward pass is run once (lazily) for all methods and layers; maps are de-augmented and averaged.
        var augSmooth = new MethodContext(model, structure, null, items, itemClasses, parameters, forward) { Target = target }.Get(CommonParameters.AugSmooth);
        List<PreparedInput>? augItems = null;
        List<int[]>? augClasses = null;
        Dictionary<string, TensorValue>? augForward = null;

        // Class-agnostic methods (Eigen-CAM) run once per image, for its first class; the map is then shared by every class.
        var firstClasses = itemClasses.Select(c => c.Take(1).ToArray()).ToArray();

        List<Explanation> Run(IExplanationMethod method)
        {
            var watch = Stopwatch.StartNew();
            var perLayer = new List<(string Layer, IReadOnlyList<RawMap> Maps)>();
            var runClasses = method.ClassAgnostic ? firstClasses : itemClasses;
            if (method.UsesLayer && augSmooth)
            {
                augItems ??= AugSmooth.AugmentItems(items);
                augClasses ??= AugSmooth.RepeatClasses(itemClasses);
                augForward ??= model.Run(augItems, layers.Select(l => l.Name).ToArray());
                foreach (var layer in layers)
                {
                    var maps = method.Compute(new MethodContext(model, structure, layer, augItems,
                        method.ClassAgnostic ? AugSmooth.RepeatClasses(firstClasses) : augClasses, parameters, augForward) { Target = target });
                    perLayer.Add((layer.Name, AugSmooth.Merge(maps, items)));
                }
            }
            else if (method.UsesLayer)
                foreach (var layer in layers)
                    perLayer.Add((layer.Name, method.Compute(new MethodContext(model, structure, layer, items, runClasses, parameters, forward) { Target = target })));
            else
                perLayer.Add(("input", method.Compute(new MethodContext(model, structure, null, items, runClasses, parameters, forward)
                {
                    Target = target,
                    Pass = pass,
                    Compose = name => OnInputGrid(Run(MethodRegistry.Get(name)), items),
                })));
            var combined = Combine(structure, method, perLayer, items, Scores, watch.Elapsed).ToList();
            if (!method.ClassAgnostic) return combined;
            return combined.SelectMany(e => itemClasses[e.Item].Select(c => e.With(Scores(e.Item, c), classAgnostic: true))).ToList();
        }

        var results = new List<Explanation>();
        for (int k = 0; k < methods.Count; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            results.AddRange(Run(methods[k]));
            progress?.Report(new ExplainProgress(k + 1, methods.Count, methods[k].Name));
        }
        if (request.NormalizeAcrossClasses) results = NormalizeAcrossClasses(results, layers.Count);
        return new ExplainResult { Explanations = results, Logits = logits, ForwardTime = forwardTime };
    }

    /// <summary>
    /// The maps of one image × method × layer normalized together: the method's normalization applied to
    /// all their raw values at once (one min and max, one maximum, one 99th percentile), so the strongest
    /// class reaches 1 and a rejected class stays low. Averaged multi-layer maps (already in [0,1]) share ÷max.
    /// </summary>
    internal static List<Explanation> NormalizeAcrossClasses(List<Explanation> results, int layerCount)
    {
        var output = new Explanation[results.Count];
        var groups = results.Select((e, i) => (e, i)).GroupBy(x => (x.e.Item, x.e.Method, x.e.Layer));
        foreach (var g in groups)
        {
            var members = g.ToList();
            var method = MethodRegistry.Get(members[0].e.Method);
            var how = method.UsesLayer && layerCount > 1 ? MapNormalization.Max : method.Normalization;
            var all = members.SelectMany(x => x.e.RawMap).ToArray();
            var norm = Normalize(all, how);
            int offset = 0;
            foreach (var (e, i) in members)
            {
                output[i] = e.With(normalized: norm.AsSpan(offset, e.RawMap.Length).ToArray(), acrossClasses: true);
                offset += e.RawMap.Length;
            }
        }
        return output.ToList();
    }

    /// <summary>Each explanation's [0,1] map on its item's input grid (bilinear when at layer resolution).</summary>
    private static IReadOnlyList<float[]> OnInputGrid(List<Explanation> explanations, IReadOnlyList<PreparedInput> items) =>
        explanations.Select(e =>
        {
            var it = items[e.Item];
            return e.Height == it.Height && e.Width == it.Width ? e.Normalized : MapMath.ResizeBilinear(e.Normalized, e.Height, e.Width, it.Height, it.Width);
        }).ToList();

    /// <summary>
    /// When a pixel-gradient method will differentiate the items as given, the pipeline's one forward
    /// run is that method's forward program (with the wanted layers as extra outputs): the logits come
    /// from it and the method then runs only the backward. Null (plain forward) otherwise, or when
    /// the program cannot be built for this model (the method then reports its own error).
    /// </summary>
    private static ForwardPass? SharedForward(SalientModel model, ModelStructure structure, TargetBinding target, List<IExplanationMethod> methods,
        IReadOnlyList<PreparedInput> items, List<string> wanted, IReadOnlyDictionary<string, string> parameters)
    {
        if (!model.Input.DynamicBatch && items.Count != model.Input.FixedBatch) return null;
        var probe = new MethodContext(model, structure, null, items, items.Select(_ => Array.Empty<int>()).ToList(), parameters, new()) { Target = target };
        // Beyond the gradient batch size the methods run in chunks; one pass over all items would hold every activation at once.
        if (items.Count > GradientRuns.BatchSize(probe)) return null;
        var shared = methods.Where(m => !m.UsesLayer).Select(m => m.SharedForwardRequest(probe)).FirstOrDefault(r => r is not null);
        if (shared is null) return null;
        BackwardProgram program;
        try
        {
            var shape = model.Input.ShapeFor(items.Count, model.InputSize.Height, model.InputSize.Width);
            program = model.Gradients.Build(shared with { AlsoFetch = [.. wanted.Union(shared.AlsoFetch)] }, shape);
        }
        catch (SalientException) { return null; }
        return program.Forward(model.Pack(items));
    }

    private static IEnumerable<Explanation> Combine(ModelStructure structure, IExplanationMethod method,
        List<(string Layer, IReadOnlyList<RawMap> Maps)> perLayer, IReadOnlyList<PreparedInput> items, Func<int, int, ExplanationScores> scores, TimeSpan elapsed)
    {
        var first = perLayer[0].Maps;
        for (int m = 0; m < first.Count; m++)
        {
            var r = first[m];
            float[] raw, norm;
            int h, w;
            if (perLayer.Count == 1)
            {
                raw = r.Map; h = r.Height; w = r.Width;
                norm = Normalize(raw, method.Normalization);
            }
            else
            {
                // Several layers: normalize each, resample to the input grid, average.
                h = items[r.Item].Height; w = items[r.Item].Width;
                raw = new float[h * w];
                foreach (var (_, maps) in perLayer)
                {
                    var q = maps[m];
                    var up = MapMath.ResizeBilinear(Normalize(q.Map, method.Normalization), q.Height, q.Width, h, w);
                    for (int i = 0; i < raw.Length; i++) raw[i] += up[i] / perLayer.Count;
                }
                norm = raw;
            }
            var sc = scores(r.Item, r.ClassIndex);
            yield return new Explanation
            {
                Item = r.Item,
                Method = method.Name,
                Layer = string.Join(",", perLayer.Select(p => p.Layer)),
                ClassIndex = sc.ClassIndex,
                Label = sc.Label,
                Logit = sc.Logit,
                Probability = sc.Probability,
                Target = sc.Target,
                Score = sc.Score,
                RawMap = raw,
                Height = h,
                Width = w,
                Normalized = norm,
                Geometry = items[r.Item].Geometry,
                RawChannels = perLayer.Count == 1 ? r.Channels : null,
                ChannelCount = perLayer.Count == 1 ? r.ChannelCount : 0,
                Concept = perLayer.Count == 1 ? r.Concept : null,
                ConceptClasses = perLayer.Count == 1 ? r.ConceptClasses : null,
                ImageValued = method.ImageValued,
                Elapsed = elapsed,
                Warning = method.UsesLayer && perLayer.Count == 1 && raw.All(v => v == 0) ? ZeroMapWarning(structure, method, perLayer[0].Layer) : null,
            };
        }
    }

    /// <summary>Why a layer method's map is all zero, as far as the structure tells.</summary>
    private static string ZeroMapWarning(ModelStructure s, IExplanationMethod method, string layer)
    {
        var info = s.Layers.FirstOrDefault(l => l.Name == layer);
        if (info is { ClassTokenOnly: true })
            return $"the {method.Name} map at layer '{layer}' is all zero: this token layer comes after the model's last attention, where only the class token " +
                $"reaches the output, so its patch tokens get no gradient; use a layer at or before the last attention, e.g. the default '{s.DefaultLayer}'";
        return $"the {method.Name} map at layer '{layer}' is all zero: no position has a positive weighted sum of channels (the ReLU removes everything) " +
            "or no gradient reaches the layer; try another layer, another class, or a method without the ReLU (eigencam)";
    }

    /// <summary>
    /// How slot <paramref name="slot"/> of an item is reported: its class (or −1) and label, the class's
    /// raw score and probability for class targets (softmax of the logits; σ for sigmoid; NaN for other
    /// targets), and the target's score on the original image.
    /// </summary>
    private static ExplanationScores Describe(TargetBinding target, float[] scoreRow, int slot)
    {
        var d = target.Describe(slot);
        float score = target.Score(scoreRow, slot);
        float logit = float.NaN, probability = float.NaN;
        if (target is ClassTarget.ClassBinding cb)
        {
            logit = scoreRow[slot];
            probability = (float)cb.ClassProbability(scoreRow, slot);
        }
        return new ExplanationScores(d.ClassIndex, d.Label, logit, probability, target.Spec, score);
    }

    /// <summary>A raw map scaled to [0,1] the method's way.</summary>
    internal static float[] Normalize(float[] map, MapNormalization how) => how switch
    {
        MapNormalization.Max => MapMath.NormalizeByMax(map),
        MapNormalization.Percentile99 => MapMath.NormalizeByPercentile(map, 0.99),
        _ => MapMath.NormalizeMinMax(map),
    };
}
