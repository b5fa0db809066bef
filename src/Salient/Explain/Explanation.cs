using Salient.Imaging;

namespace Salient.Explain;

/// <summary>One map: an image × method × class.</summary>
public sealed class Explanation
{
    public required int Item { get; init; }
    public required string Method { get; init; }
    /// <summary>Target layer(s), comma-separated; "input" for pixel-space methods.</summary>
    public required string Layer { get; init; }
    public required int ClassIndex { get; init; }
    public required string Label { get; init; }
    /// <summary>For class targets (logit, prob, sigmoid): the class's raw score (its logit; the Sigmoid's input for sigmoid); NaN for other targets.</summary>
    public required float Logit { get; init; }
    /// <summary>For class targets: the class's probability (softmax of the logits; σ for sigmoid); NaN for other targets.</summary>
    public required float Probability { get; init; }
    /// <summary>What the map explains, as written on the command line ("logit", "prob:243", "segmentation:281"…; <see cref="Methods.Target"/>).</summary>
    public string Target { get; init; } = "logit";
    /// <summary>The target's score on the image as given (for the logit target, the logit).</summary>
    public float Score { get; init; }
    /// <summary>The method's map before normalization, at its own resolution (layer or input grid).</summary>
    public required float[] RawMap { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    /// <summary>The map scaled to [0,1], same resolution as <see cref="RawMap"/>.</summary>
    public required float[] Normalized { get; init; }
    /// <summary>For image-valued methods (guided backprop…): the raw C×H×W result on the input grid; else null.</summary>
    public float[]? RawChannels { get; init; }
    public int ChannelCount { get; init; }
    /// <summary>True for methods whose result is shown as an image (guided backprop, guided Grad-CAM).</summary>
    public bool ImageValued { get; init; }
    /// <summary>Where the model input lies in the original image.</summary>
    public required CropGeometry Geometry { get; init; }
    public TimeSpan Elapsed { get; init; }
    /// <summary>True for class-agnostic methods (Eigen-CAM): the map was computed once and is the same for every class of the image.</summary>
    public bool ClassAgnostic { get; init; }
    /// <summary>
    /// Set when the map says nothing: a layer method's map that is all zero, with the reason (e.g. a
    /// transformer layer after the last attention, where only the class token reaches the output); else null.
    /// </summary>
    public string? Warning { get; init; }
    /// <summary>
    /// Concept-based methods (Deep Feature Factorization): the index of the concept this map shows among
    /// <see cref="RawChannels"/> (one map per concept); null for other methods.
    /// </summary>
    public int? Concept { get; init; }
    /// <summary>Concept-based methods: each concept's top classes (softmax of what the network makes of the concept alone), in concept order; null otherwise.</summary>
    public IReadOnlyList<IReadOnlyList<Models.Prediction>>? ConceptClasses { get; init; }
    /// <summary>True when <see cref="Normalized"/> shares its scale with the other classes of the image (<see cref="ExplainRequest.NormalizeAcrossClasses"/>).</summary>
    public bool NormalizedAcrossClasses { get; init; }

    /// <summary>A copy with another class or target slot (its label and scores) or another normalized map.</summary>
    internal Explanation With(ExplanationScores? scores = null, float[]? normalized = null, bool? classAgnostic = null, bool? acrossClasses = null) => new()
    {
        Item = Item, Method = Method, Layer = Layer,
        ClassIndex = scores?.ClassIndex ?? ClassIndex, Label = scores?.Label ?? Label, Logit = scores?.Logit ?? Logit, Probability = scores?.Probability ?? Probability,
        Target = scores?.Target ?? Target, Score = scores?.Score ?? Score,
        RawMap = RawMap, Height = Height, Width = Width, Normalized = normalized ?? Normalized,
        RawChannels = RawChannels, ChannelCount = ChannelCount, ImageValued = ImageValued, Geometry = Geometry, Elapsed = Elapsed,
        ClassAgnostic = classAgnostic ?? ClassAgnostic, NormalizedAcrossClasses = acrossClasses ?? NormalizedAcrossClasses, Warning = Warning,
        Concept = Concept, ConceptClasses = ConceptClasses,
    };

    /// <summary>The normalized map resampled onto the original image (its pixel grid; zero outside the crop).</summary>
    public float[] NormalizedAtOriginal() => MapMath.ToOriginalGeometry(Normalized, Height, Width, Geometry);
}

/// <summary>How one explanation's class or target slot is reported.</summary>
internal sealed record ExplanationScores(int ClassIndex, string Label, float Logit, float Probability, string Target, float Score);

/// <summary>All explanations for one request over a batch, plus the scores.</summary>
public sealed class ExplainResult
{
    public required IReadOnlyList<Explanation> Explanations { get; init; }
    /// <summary>Logits per item (pre-softmax class scores); empty for a model whose output is not one score per class (segmentation, detection).</summary>
    public required float[][] Logits { get; init; }
    public TimeSpan ForwardTime { get; init; }
}
