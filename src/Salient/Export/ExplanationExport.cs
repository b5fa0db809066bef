using Salient.Autodiff;
using Salient.Models;
using Salient.Onnx;

namespace Salient.Export;

/// <summary>
/// Compiles an explanation into one standalone ONNX model: the model's forward pass, its backward
/// pass (written by the gradient engine in standard ONNX ops, seeded in-graph from a class input)
/// and the CAM arithmetic, so a gradient CAM runs wherever ONNX Runtime runs, without Salient.
/// The exported model has two inputs — the model's image tensor (same name, layout and
/// preprocessing as the model; batch fixed at export) and <c>class</c> (int64 [N]; −1 = the item's
/// top-1 class; a required input, not an overridable initializer, which some runtimes' bindings
/// — onnxruntime-node — do not let callers feed) — and two outputs: <c>logits</c> and <c>map</c> (float [N, H, W] at the
/// input size: the method's map on the layer grid, ÷ its maximum when positive, then resized
/// linearly with half-pixel centres — exactly the pipeline's normalized map, upsampled).
/// See docs/export.md.
/// </summary>
public static class ExplanationExport
{
    /// <summary>The methods that can be exported.</summary>
    public static IReadOnlyList<string> Methods => [.. CamGraph.Methods, .. PixelMethods];

    /// <summary>Input-gradient methods: max over channels of |∂y^c/∂x| (guided: with the guided ReLU rule), ÷ its 99th percentile, clipped to 1.</summary>
    private static readonly IReadOnlyList<string> PixelMethods = ["saliency", "guidedbackprop"];

    /// <summary>Opsets the exported model can declare (the rules emit opset 18; the ops used keep their meaning through 21).</summary>
    public const int MinOpset = 18, MaxOpset = 21;

    /// <summary>The name of the class input; a negative value selects the item's top-1 class.</summary>
    public const string ClassInput = "class";
    public const string LogitsOutput = "logits";
    public const string MapOutput = "map";

    /// <summary>
    /// The exported model as ONNX bytes. <paramref name="layer"/>: a layer name or "auto" (the model's
    /// default target layer); <paramref name="batch"/>: the fixed batch of both inputs.
    /// </summary>
    public static byte[] ToOnnx(SalientModel model, string method = "gradcam", string layer = "auto", int batch = 1, int opset = MinOpset, bool dynamicBatch = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var lease = model.Enter();
        if (!dynamicBatch) return OnnxWriter.ToBytes(Build(model, method, layer, batch, opset));
        if (!model.Input.DynamicBatch)
            throw new SalientException($"the model's batch is fixed at {model.Input.FixedBatch}; it cannot be exported with a dynamic batch");
        if (batch != 1) throw new SalientException("give either a batch size or a dynamic batch, not both");
        var single = Build(model, method, layer, 1, opset);
        var (h, w) = model.InputSize;
        var structure = model.Structure();
        long[] logits = structure.Shapes.TryGetValue(structure.LogitsName, out var s) ? s.Dims : [];
        return OnnxWriter.ToBytes(DynamicBatch.Wrap(single, model.Input.Name, model.Input.Type, model.Input.ShapeFor(1, h, w), logits));
    }

    internal static Graph Build(SalientModel model, string method, string layer, int batch, int opset)
    {
        if (!Methods.Contains(method))
            throw new SalientException($"method '{method}' cannot be exported; exportable: {string.Join(", ", Methods)}");
        bool pixel = PixelMethods.Contains(method);
        if (opset is < MinOpset or > MaxOpset)
            throw new SalientException($"the `opset` option must be {MinOpset}..{MaxOpset} (the backward graph is written in opset {MinOpset}), not {opset}");
        if (batch < 1 || batch > 4096) throw new SalientException($"the `batch` option must be 1..4096, not {batch}");
        if (!model.Input.DynamicBatch && batch != model.Input.FixedBatch)
            throw new SalientException($"the model's batch is fixed at {model.Input.FixedBatch}; export with batch {model.Input.FixedBatch}");
        var (h, w) = model.InputSize;
        var structure = model.Structure();
        var target = pixel ? null : structure.ResolveLayer(layer == "auto" ? model.DefaultLayerName : layer);
        if (target is not null && target.IsTokenLayer && target.Shape.Length != 4)
            throw new SalientException($"layer '{target.Name}' is a transformer token layer (shape {Shapes.Format(target.Shape)}); export compiles maps of 4-D feature maps only " +
                "(`salient explain` reads token layers); name a 4-D layer with the `layer` option, or export a pixel method (saliency, guidedbackprop)");
        if (target is not null && (target.Shape.Length != 4 || target.Layout is null))
            throw new SalientException($"layer '{target.Name}' is not a 4-D feature map (shape {Shapes.Format(target.Shape)}); pick one of `salient layers --candidates`");
        if (pixel && model.Input.Type != DataType.Float)
            throw new SalientException($"{method} differentiates the model input, which is {model.Input.Type.ToString().ToLowerInvariant()}, not float");
        string wrt = target?.Name ?? model.Input.Name;

        var inputShape = model.Input.ShapeFor(batch, h, w);
        var request = new GradientRequest { ScoreTensor = structure.LogitsName, Wrt = [wrt], SeedIndices = true, Relu = method == "guidedbackprop" ? ReluMode.Guided : ReluMode.Standard };
        var program = model.Gradients.Build(request, inputShape);

        var g = new Graph { IrVersion = 8, Name = "salient_" + method, ProducerName = "salient" };
        g.Opsets[""] = opset;
        var forward = OpsetLift.Lift(program.ForwardGraph, structure.Shapes);
        foreach (var kv in forward.Opsets) g.Opsets[kv.Key] = kv.Value;
        g.Opsets[""] = opset;
        g.Nodes.AddRange(forward.Nodes);
        foreach (var kv in forward.Initializers) g.Initializers[kv.Key] = kv.Value;
        foreach (var n in program.BackwardGraph.Nodes) g.Nodes.Add(n.Clone());
        foreach (var kv in program.BackwardGraph.Initializers) g.Initializers.TryAdd(kv.Key, kv.Value);

        var writer = new BackwardGraphWriter(g);
        var input = model.Input.Name;
        g.Inputs.Add(new ValueInfo(input, model.Input.Type, inputShape.Select(Dim.Fixed).ToArray()));

        // The seed: the class input, or the top-1 logit where it is negative.
        var seed = program.BackwardGraph.Inputs.Single(i => i.Type == DataType.Int64 && i.Name.StartsWith(SeedInputPrefix, StringComparison.Ordinal)).Name;
        g.Inputs.Add(new ValueInfo(ClassInput, DataType.Int64, [Dim.Fixed(batch)]));
        var cam = new CamGraph(g, writer);
        string rows = cam.Op("Reshape", [structure.LogitsName, cam.Ints([batch, -1])]);
        string top1 = cam.Op("ArgMax", [rows], ("axis", 1L), ("keepdims", 0L));
        string negative = cam.Op("Less", [ClassInput, cam.Ints([0])]);
        g.Nodes.Add(new Node("Where", [negative, top1, ClassInput], [seed], seed));

        string grad = program.GradientNames[wrt];
        string squeezed;
        if (pixel)
        {
            // max_c |G| on the input grid, then ÷ the 99th percentile (MapMath.NormalizeByPercentile).
            long channelAxis = model.Input.Layout == Core.TensorLayout.Nhwc ? 3 : 1;
            string map = cam.Op("ReduceMax", [cam.Op("Abs", [grad]), cam.Ints([channelAxis])], ("keepdims", 0L));
            squeezed = cam.Op("Reshape", [cam.DivideByPercentile(cam.Op("Reshape", [map, cam.Ints([batch, (long)h * w])]), (long)h * w, 0.99), cam.Ints([batch, h, w])]);
        }
        else
        {
            // The CAM arithmetic on A (the layer) and G (its gradient), both brought to NCHW.
            string a = target!.Name, gr = grad;
            if (target.Layout == Core.TensorLayout.Nhwc)
            {
                a = cam.Op("Transpose", [a], ("perm", new long[] { 0, 3, 1, 2 }));
                gr = cam.Op("Transpose", [gr], ("perm", new long[] { 0, 3, 1, 2 }));
            }
            string map = cam.Map(method, a, gr);                                   // [N, 1, h, w], ReLU'd
            string normalized = cam.DivideByMax(map);
            string resized = cam.Resize(normalized, [batch, 1, h, w]);
            squeezed = cam.Op("Reshape", [resized, cam.Ints([batch, h, w])]);
        }

        var taken = g.Nodes.SelectMany(n => n.Outputs).Concat(g.Initializers.Keys).Where(t => t != structure.LogitsName).ToHashSet(StringComparer.Ordinal);
        foreach (var name in new[] { LogitsOutput, MapOutput, ClassInput })
            if (taken.Contains(name) || (name != LogitsOutput && (name == structure.LogitsName || name == input)))
                throw new SalientException($"the model already has a tensor named '{name}', a name the exported model needs for its own input or output");
        if (structure.LogitsName != LogitsOutput)
            g.Nodes.Add(new Node("Identity", [structure.LogitsName], [LogitsOutput], LogitsOutput));
        g.Nodes.Add(new Node("Identity", [squeezed], [MapOutput], MapOutput));
        g.Outputs.Add(new ValueInfo(LogitsOutput, DataType.Float, null));
        g.Outputs.Add(new ValueInfo(MapOutput, DataType.Float, [Dim.Fixed(batch), Dim.Fixed(h), Dim.Fixed(w)]));
        Prune(g);
        return g;
    }

    private const string SeedInputPrefix = "seed:";

    /// <summary>Drops nodes and initializers no output needs (the backward's own gradient Identity, unused constants).</summary>
    private static void Prune(Graph g)
    {
        g.Invalidate();
        g.SortTopologically();
        g.KeepOnlyWhatOutputsNeed();
    }
}
