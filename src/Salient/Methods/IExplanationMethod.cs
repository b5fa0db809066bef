namespace Salient.Methods;

/// <summary>How a method's raw map becomes a [0,1] map.</summary>
internal enum MapNormalization
{
    /// <summary>(m - min) / (max - min); a constant map becomes 0.</summary>
    MinMax,
    /// <summary>m / max for non-negative maps (Grad-CAM after its ReLU); all-zero stays zero.</summary>
    Max,
    /// <summary>m / (99th percentile of m), clipped to [0,1]: pixel-space saliency, whose few extreme pixels would otherwise leave the rest black.</summary>
    Percentile99,
}

/// <summary>
/// One map computed by a method for an item and a class. Pixel-space methods whose result is an
/// image (guided backprop, guided Grad-CAM, integrated gradients…) also return it as
/// <paramref name="Channels"/> (C×H×W, model channel order) next to the single-channel map.
/// </summary>
internal sealed record RawMap(int Item, int ClassIndex, float[] Map, int Height, int Width, float[]? Channels = null, int ChannelCount = 0)
{
    /// <summary>Concept-based methods (DFF): which of the concepts (the channels) this map is.</summary>
    public int? Concept { get; init; }
    /// <summary>Concept-based methods (DFF): every concept's top classes, concept by concept.</summary>
    public IReadOnlyList<IReadOnlyList<Models.Prediction>>? ConceptClasses { get; init; }
}

/// <summary>
/// An attribution method. Implementations are stateless; everything per-call comes in the
/// <see cref="MethodContext"/>. Every non-abstract implementation with a parameterless constructor
/// is registered by <see cref="MethodRegistry"/>: a new method is one file.
/// </summary>
internal interface IExplanationMethod
{
    /// <summary>The CLI name, e.g. "cam".</summary>
    string Name { get; }
    /// <summary>One line for help texts and the README.</summary>
    string Summary { get; }
    /// <summary>True when the map lives at a target layer (CAM family); false for input-space methods.</summary>
    bool UsesLayer { get; }
    MapNormalization Normalization { get; }
    /// <summary>
    /// True when the map does not depend on the class (Eigen-CAM): the pipeline computes it once per
    /// image, for the image's first requested class, and hands the same map to every requested class.
    /// </summary>
    bool ClassAgnostic => false;
    /// <summary>True when the result is best shown as an image (guided backprop): panels then show the deprocessed gradient.</summary>
    bool ImageValued => false;
    /// <summary>Tensors the method needs from a plain forward run (so the pipeline fetches them with the logits in one run).</summary>
    IEnumerable<string> ForwardTensors(MethodContext ctx) => ctx.Layer is { } l ? [l.Name] : [];
    /// <summary>
    /// A gradient request the method runs on the items exactly as given, seeded per item by a class
    /// logit (saliency, guided backprop…), or null. The pipeline then makes this request's forward
    /// program its one forward pass (it yields the logits too) and hands the live pass to the method
    /// (<see cref="MethodContext.Pass"/>), which runs only the backward: one forward per image, not two.
    /// </summary>
    Autodiff.GradientRequest? SharedForwardRequest(MethodContext ctx) => null;
    /// <summary>The parameters the method reads (declared once; validated, parsed and documented from here).</summary>
    IReadOnlyList<Parameter> Parameters => [];
    /// <summary>True for methods that run many forward passes per image (perturbation methods): folder runs then explain one image at a time.</summary>
    bool ManyForwardPasses => false;
    /// <summary>True for methods that differentiate the model (they cannot run on a model without gradient rules, e.g. QOperator int8).</summary>
    bool NeedsGradients => false;
    /// <summary>Methods whose maps this one combines (guided Grad-CAM uses Grad-CAM's); the pipeline computes them (<see cref="MethodContext.Compose"/>).</summary>
    IReadOnlyList<string> Composes => [];
    /// <summary>Computes one raw map per (item, class) of the context.</summary>
    IReadOnlyList<RawMap> Compute(MethodContext ctx);
}
