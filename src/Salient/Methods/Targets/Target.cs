using System.Globalization;
using Salient.Models;

namespace Salient.Methods;

/// <summary>
/// What an explanation is of: a scalar score computed from one output of the model, per image —
/// a class logit (the default), a softmax or sigmoid probability, any element or slice of any output,
/// the cosine similarity of an embedding with a reference, a concept direction, a segmentation class
/// over a mask, a detection's score. Every method explains the target's score: gradient methods seed
/// the backward with its exact derivative with respect to the output, perturbation methods score their
/// inputs with it. Make one with the factories or <see cref="Parse"/> (the CLI's <c>--target</c>);
/// details and the output layouts understood: docs/targets.md.
/// </summary>
public abstract class Target
{
    private protected Target() { }

    /// <summary>The target as written on the command line, e.g. "prob:243" or "segmentation:281".</summary>
    public abstract override string ToString();

    /// <summary>The kind ("logit", "prob", …).</summary>
    internal abstract string Kind { get; }

    /// <summary>Checks the target against the model's outputs and binds it (one clear line, listing the targets the model allows, when it does not fit).</summary>
    internal abstract TargetBinding Bind(SalientModel model, ModelStructure structure);

    /// <summary>The pre-softmax logit of each class (the default). No classes: the request's classes ("auto" = top-1).</summary>
    public static Target Logit(params string[] classes) => new LogitTarget(classes);
    /// <summary>The softmax probability p_c of each class (of the logits, also when the model ends in Softmax).</summary>
    public static Target Probability(params string[] classes) => new ProbabilityTarget(classes);
    /// <summary>σ(z_c) of each class, for multi-label models: z is the input of the model's final Sigmoid (then σ(z) is its output), else the logits.</summary>
    public static Target Sigmoid(params string[] classes) => new SigmoidTarget(classes);
    /// <summary>The sum of the elements <paramref name="index"/> selects in one output row (null: the first output; index null: every element), e.g. "3", "0,2", "1:4", ":,0".</summary>
    public static Target Output(string? name, string? index = null) => new OutputTarget(name, index);
    /// <summary>Cosine similarity of the model's embedding (its first output) with the embedding of an image file, or with a vector in a float32 .npy file.</summary>
    public static Target Similarity(string imageOrNpy) => new SimilarityTarget(imageOrNpy, null);
    /// <summary>Cosine similarity of the model's embedding (its first output) with <paramref name="reference"/>.</summary>
    public static Target Similarity(float[] reference) => new SimilarityTarget(null, reference);
    /// <summary>The dot product of the model's embedding (its first output) with a concept vector from a float32 .npy file.</summary>
    public static Target Concept(string npy) => new ConceptTarget(npy, null);
    /// <summary>The dot product of the model's embedding (its first output) with <paramref name="vector"/>.</summary>
    public static Target Concept(float[] vector) => new ConceptTarget(null, vector);
    /// <summary>
    /// The sum of class <paramref name="classSpec"/>'s scores over a mask of an [N, K, H, W] output: the
    /// pixels of <paramref name="maskPath"/> (an image, mapped like the input, white = inside), or by
    /// default where the class is the arg-max of the original image's output.
    /// </summary>
    public static Target Segmentation(string classSpec, string? maskPath = null) => new SegmentationTarget(classSpec, maskPath);
    /// <summary>
    /// The score of detection <paramref name="detection"/> ("auto": the original image's best) of a
    /// detection head with a fixed layout — YOLO-style [N, B, 5+K] (objectness × class score) or a
    /// scores [N, B, K] + boxes [N, B, 4] pair (the class score) — for class <paramref name="classSpec"/>
    /// (default: the detection's best class on the original image).
    /// </summary>
    public static Target Box(string detection, string? classSpec = null) => new BoxTarget(detection, classSpec);

    /// <summary>The kinds and their syntax, for help texts and errors.</summary>
    public const string Syntax = "logit[:C], prob[:C], sigmoid[:C], output:NAME[INDEX], similarity:IMAGE|FILE.npy, concept:FILE.npy, segmentation:C[,MASK.png], box:I|auto[,C]";

    private static readonly string[] Kinds = ["logit", "prob", "sigmoid", "output", "similarity", "concept", "segmentation", "box"];

    /// <summary>
    /// Parses a target: <c>logit</c>, <c>logit:C</c>, <c>prob:C</c>, <c>sigmoid:C</c> (C: a class list as
    /// for the classes — auto, topK, rankK, an index or a label, comma-separated; none: the request's
    /// classes), <c>output:NAME[INDEX]</c>, <c>similarity:IMAGE</c> or <c>similarity:FILE.npy</c>,
    /// <c>concept:FILE.npy</c>, <c>segmentation:C[,MASK.png]</c>, <c>box:I[,C]</c> or <c>box:auto</c>.
    /// </summary>
    public static Target Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec = spec.Trim();
        int colon = spec.IndexOf(':');
        string kind = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        string arg = colon < 0 ? "" : spec[(colon + 1)..].Trim();
        string[] List() => arg.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string Need(string what) => arg.Length > 0 ? arg : throw new SalientException($"target '{spec}' needs {what} after '{kind}:' (targets: {Syntax})");
        switch (kind)
        {
            case "logit" or "logits": return new LogitTarget(List());
            case "prob" or "probability" or "softmax": return new ProbabilityTarget(List());
            case "sigmoid": return new SigmoidTarget(List());
            case "output":
                {
                    var a = arg;
                    int bracket = a.IndexOf('[');
                    if (bracket < 0) return new OutputTarget(a.Length == 0 ? null : a, null);
                    if (!a.EndsWith(']')) throw new SalientException($"target '{spec}': the index must be in brackets, e.g. output:NAME[3] or output:NAME[0:4]");
                    var name = a[..bracket].Trim();
                    return new OutputTarget(name.Length == 0 ? null : name, a[(bracket + 1)..^1]);
                }
            case "similarity": return new SimilarityTarget(Need("an image or a .npy file"), null);
            case "concept": return new ConceptTarget(Need("a .npy file"), null);
            case "segmentation" or "seg":
                {
                    var parts = Need("a class").Split(',', 2, StringSplitOptions.TrimEntries);
                    return new SegmentationTarget(parts[0], parts.Length > 1 && parts[1].Length > 0 ? parts[1] : null);
                }
            case "box" or "detection":
                {
                    var parts = Need("a detection index or auto").Split(',', 2, StringSplitOptions.TrimEntries);
                    return new BoxTarget(parts[0], parts.Length > 1 && parts[1].Length > 0 ? parts[1] : null);
                }
        }
        var near = Names.Suggest(kind, Kinds);
        throw new SalientException($"unknown target '{spec}'{(near is null ? "" : $"; did you mean '{near}'?")} (targets: {Syntax})");
    }

    /// <summary>
    /// The targets a model's outputs allow, e.g. "logit:C, prob:C, output:logits[INDEX]" — listed when a
    /// target does not fit the model.
    /// </summary>
    internal static string AllowedFor(SalientModel model, ModelStructure s)
    {
        var list = new List<string>();
        var shapes = model.Graph.Outputs.Select(o => (o.Name, Shape: s.Shapes.TryGetValue(o.Name, out var sh) ? sh.Dims : null)).ToList();
        var first = shapes[0].Shape;
        bool classifier = s.Shapes.TryGetValue(s.LogitsName, out var ls) && IsClassVector(ls.Dims);
        if (classifier)
        {
            list.Add("logit:C");
            list.Add("prob:C");
            list.Add("sigmoid:C");
        }
        if (first is { Length: 4 }) list.Add("segmentation:C[,MASK.png]");
        if (BoxTarget.Layout(model, s) is not null) list.Add("box:I");
        if (first is not null && first.Length >= 2)
        {
            list.Add("similarity:IMAGE|FILE.npy");
            list.Add("concept:FILE.npy");
        }
        foreach (var (name, shape) in shapes)
            list.Add($"output:{name}[INDEX]" + (shape is null ? "" : $" ({Onnx.Shapes.Format(shape)})"));
        return string.Join(", ", list);
    }

    /// <summary>True when the logits tensor holds one score per class (the default target fits).</summary>
    internal static bool FitsLogit(ModelStructure s) => s.Shapes.TryGetValue(s.LogitsName, out var shape) && IsClassVector(shape.Dims);

    /// <summary>One score per class: [N, K], [N, K, 1, 1], [N, 1, K], [K] — at most one non-batch axis longer than 1.</summary>
    internal static bool IsClassVector(long[] dims) =>
        dims.Length == 1 || dims.Length >= 2 && dims.Skip(1).Count(d => d != 1) <= 1;

    /// <summary>The one-line error of a target that does not fit the model: the reason, the model's outputs and the targets they allow.</summary>
    internal static SalientException DoesNotFit(string spec, string why, SalientModel model, ModelStructure s) =>
        new($"target '{spec}' {why}; this model allows: {AllowedFor(model, s)}");

    internal static int ParseInt(string text, string spec, string what) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0 ? v
            : throw new SalientException($"target '{spec}': {what} '{text}' is not a non-negative integer");
}
