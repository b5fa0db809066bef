using Salient.Autodiff;
using System.Diagnostics;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Perturbation;
using Salient.Rendering;
using Salient.Runtime;

namespace Salient.Explain;

/// <summary>
/// The explain pipeline: one forward run fetches the logits and every target layer's activation,
/// classes are resolved per item, each method computes its raw maps, maps are normalized (and,
/// with several layers, brought to the input grid and averaged). With the parameter
/// <c>aug-smooth=true</c>, layer (CAM-family) methods run on flipped/zoomed copies of the inputs too
/// and their maps are de-augmented and averaged on the input grid (<see cref="AugSmooth"/>).
/// </summary>
public static class Explainer
{
    public static ExplainResult Explain(SalientModel model, IReadOnlyList<PreparedInput> items, ExplainRequest request)
    {
        if (items.Count == 0) throw new ArgumentException("no images to explain", nameof(items));
        var structure = model.Structure();
        var methods = request.Methods.Select(MethodRegistry.Get).ToList();
        if (methods.Count == 0) throw new SalientException("no method given");
        MethodParameters.Validate(request.Parameters); // a bad option fails before any forward pass
        bool needLayers = methods.Any(m => m.UsesLayer);
        var layers = needLayers ? ResolveLayers(structure, request.Layers) : [];

        var sw = Stopwatch.StartNew();
        // One forward run: logits, every target layer, and whatever else the layer methods ask for
        // (e.g. the forward values a Grad-CAM backward reads, so it needs no second forward).
        var wanted = new List<string>(layers.Select(l => l.Name));
        var noClasses = items.Select(_ => Array.Empty<int>()).ToList();
        foreach (var m in methods.Where(m => m.UsesLayer))
            foreach (var layer in layers)
                wanted.AddRange(m.ForwardTensors(new MethodContext(model, structure, layer, items, noClasses, request.Parameters, new())));
        using var pass = SharedForward(model, structure, methods, items, wanted.Distinct().ToList(), request);
        var forward = pass is null
            ? model.Run(items, wanted.Distinct().ToArray())
            : wanted.Append(structure.LogitsName).Distinct().ToDictionary(t => t, pass.Value);
        var forwardTime = sw.Elapsed;
        var logitsTensor = forward[structure.LogitsName];
        int classes = structure.ClassCount;
        var logits = Enumerable.Range(0, items.Count).Select(i => logitsTensor.Data.AsSpan(i * classes, classes).ToArray()).ToArray();

        var classSpecs = request.ClassesPerItem ?? Enumerable.Repeat(request.Classes, items.Count).ToList();
        if (classSpecs.Count != items.Count) throw new SalientException($"{classSpecs.Count} class lists given for {items.Count} images");
        var itemClasses = new int[items.Count][];
        for (int i = 0; i < items.Count; i++)
            itemClasses[i] = (classSpecs[i].Count == 0 ? ["auto"] : classSpecs[i]).Select(c => model.ResolveClass(c, logits[i])).Distinct().ToArray();

        // aug-smooth (CAM family): the methods also see flipped/zoomed copies of the inputs, whose
        // forward pass is run once (lazily) for all methods and layers; maps are de-augmented and averaged.
        bool augSmooth = MethodParameters.Flag(request.Parameters, MethodParameters.AugSmooth);
        List<PreparedInput>? augItems = null;
        List<int[]>? augClasses = null;
        Dictionary<string, TensorValue>? augForward = null;

        var results = new List<Explanation>();
        foreach (var method in methods)
        {
            sw.Restart();
            var perLayer = new List<(string Layer, IReadOnlyList<RawMap> Maps)>();
            if (method.UsesLayer && augSmooth)
            {
                augItems ??= AugSmooth.AugmentItems(items);
                augClasses ??= AugSmooth.RepeatClasses(itemClasses);
                augForward ??= model.Run(augItems, layers.Select(l => l.Name).ToArray());
                foreach (var layer in layers)
                {
                    var maps = method.Compute(new MethodContext(model, structure, layer, augItems, augClasses, request.Parameters, augForward) { RequestedLayers = request.Layers });
                    perLayer.Add((layer.Name, AugSmooth.Merge(maps, items)));
                }
            }
            else if (method.UsesLayer)
                foreach (var layer in layers)
                    perLayer.Add((layer.Name, method.Compute(new MethodContext(model, structure, layer, items, itemClasses, request.Parameters, forward))));
            else
                perLayer.Add(("input", method.Compute(new MethodContext(model, structure, null, items, itemClasses, request.Parameters, forward) { RequestedLayers = request.Layers, Pass = pass })));
            var elapsed = sw.Elapsed;
            results.AddRange(Combine(model, method, perLayer, items, logits, elapsed));
        }
        return new ExplainResult { Explanations = results, Logits = logits, ForwardTime = forwardTime };
    }

    /// <summary>
    /// When a pixel-gradient method will differentiate the items as given, the pipeline's one forward
    /// run is that method's forward program (with the wanted layers as extra outputs): the logits come
    /// from it and the method then runs only the backward. Null (plain forward) otherwise, or when
    /// the program cannot be built for this model (the method then reports its own error).
    /// </summary>
    private static Autodiff.ForwardPass? SharedForward(SalientModel model, ModelStructure structure, List<IExplanationMethod> methods,
        IReadOnlyList<PreparedInput> items, List<string> wanted, ExplainRequest request)
    {
        if (!model.Input.DynamicBatch && items.Count != model.Input.FixedBatch) return null;
        var probe = new MethodContext(model, structure, null, items, items.Select(_ => Array.Empty<int>()).ToList(), request.Parameters, new())
        { RequestedLayers = request.Layers };
        // Beyond the gradient batch size the methods run in chunks; one pass over all items would hold every activation at once.
        if (items.Count > GradientRuns.BatchSize(probe)) return null;
        var shared = methods.Where(m => !m.UsesLayer).Select(m => m.SharedForwardRequest(probe)).FirstOrDefault(r => r is not null);
        if (shared is null) return null;
        Autodiff.BackwardProgram program;
        try
        {
            var shape = model.Input.ShapeFor(items.Count, model.InputSize.Height, model.InputSize.Width);
            program = model.Gradients.Build(shared with { AlsoFetch = [.. wanted.Union(shared.AlsoFetch)] }, shape);
        }
        catch (SalientException) { return null; }
        return program.Forward(model.Pack(items));
    }

    internal static List<LayerInfo> ResolveLayers(ModelStructure structure, IReadOnlyList<string> names)
    {
        var list = new List<LayerInfo>();
        foreach (var name in names.Count == 0 ? ["auto"] : names)
        {
            var l = structure.ResolveLayer(name);
            if (!l.IsCandidate)
                throw new SalientException($"layer '{l.Name}' has shape {Onnx.Shapes.Format(l.Shape)}, not a spatial 4-D map; choose a layer marked as a candidate in `salient layers`");
            if (!list.Contains(l)) list.Add(l);
        }
        return list;
    }

    private static IEnumerable<Explanation> Combine(SalientModel model, IExplanationMethod method,
        List<(string Layer, IReadOnlyList<RawMap> Maps)> perLayer, IReadOnlyList<PreparedInput> items, float[][] logits, TimeSpan elapsed)
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
            var probs = Statistics.Softmax(logits[r.Item]);
            yield return new Explanation
            {
                Item = r.Item,
                Method = method.Name,
                Layer = string.Join(",", perLayer.Select(p => p.Layer)),
                ClassIndex = r.ClassIndex,
                Label = model.ClassName(r.ClassIndex),
                Logit = logits[r.Item][r.ClassIndex],
                Probability = model.Structure().EndsInSoftmax ? probs[r.ClassIndex] : probs[r.ClassIndex],
                RawMap = raw,
                Height = h,
                Width = w,
                Normalized = norm,
                Geometry = items[r.Item].Geometry,
                RawChannels = perLayer.Count == 1 ? r.Channels : null,
                ChannelCount = perLayer.Count == 1 ? r.ChannelCount : 0,
                ImageValued = method.ImageValued,
                Elapsed = elapsed,
            };
        }
    }

    public static float[] Normalize(float[] map, MapNormalization how) => how switch
    {
        MapNormalization.Max => MapMath.NormalizeByMax(map),
        MapNormalization.Percentile99 => MapMath.NormalizeByPercentile(map, 0.99),
        _ => MapMath.NormalizeMinMax(map),
    };
}
