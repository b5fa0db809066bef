using Salient.Explain;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;

namespace Salient.Evaluation;

/// <summary>What to compare: methods, classes and parameters, the same for every model.</summary>
internal sealed record ComparisonRequest
{
    public IReadOnlyList<string> Methods { get; init; } = ["gradcam"];
    /// <summary>Class list (as <see cref="ExplainRequest.Classes"/>), resolved on the first model's logits (see <see cref="Comparison"/>).</summary>
    public IReadOnlyList<string> Classes { get; init; } = ["auto"];
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    public long MemoryBudgetBytes { get; init; } = Perturbation.BatchSizing.BudgetBytes;
    /// <summary>The comparison grid: the original image scaled so that its long side is at most this.</summary>
    public int MaxGridSide { get; init; } = 256;
    public double TopFraction { get; init; } = Agreement.DefaultTopFraction;
    /// <summary>Predictions listed per model.</summary>
    public int Top { get; init; } = 5;
}

/// <summary>A gradient method was asked of a model that cannot be differentiated: the same for every image, so a run stops at once.</summary>
internal sealed class NotDifferentiableException(string message) : SalientException(message);

/// <summary>One row of a comparison: a model × method, its explanation and its [0,1] map on the comparison grid.</summary>
internal sealed record ComparedRow(int Model, string Method, Explanation Explanation, float[] Map);

/// <summary>The agreement of two rows' maps over the pixels every model saw.</summary>
internal sealed record ComparedPair(int RowA, int RowB, double Spearman, double TopIoU);

/// <summary>One image × class: every row, the agreements, each model's top predictions.</summary>
internal sealed record ComparisonResult(
    RgbImage Original, int GridWidth, int GridHeight, bool[] Compared, int ComparedPixels,
    IReadOnlyList<IReadOnlyList<Prediction>> Top, IReadOnlyList<ComparedRow> Rows, IReadOnlyList<ComparedPair> Pairs, double TopFraction);

/// <summary>
/// Several models (or several methods on one model) explain one image, and their maps are compared
/// on the ORIGINAL image's grid — so models with different input sizes, layouts, preprocessing,
/// crops and target layers (each its own sidecar or defaults) are compared where they look in the
/// photo. The grid is the original scaled to at most <see cref="ComparisonRequest.MaxGridSide"/> on
/// its long side; only pixels that every model saw (inside every crop) are compared.
/// Rows are models × methods; pairs are the same method on two models (several models), or two
/// methods (one model). Classes: the list is resolved on the first model's logits and that class is
/// explained by every model when the models have the same number of classes (so all explain the same
/// decision); models with another class count resolve the list on their own logits.
/// </summary>
internal static class Comparison
{
    public static IReadOnlyList<ComparisonResult> Run(IReadOnlyList<(string Name, SalientModel Model)> models, RgbImage image, ComparisonRequest request)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(image);
        if (models.Count == 0) throw new SalientException("no model to compare");
        if (request.Methods.Count == 0) throw new SalientException("no method given");
        var items = models.Select(m => m.Model.Prepare(image)).ToList();
        var logits = models.Select((m, i) => m.Model.Run([items[i]])[m.Model.Structure().LogitsName].Data).ToList();
        var top = models.Select((m, i) => Top(m.Model, logits[i], request.Top)).ToList();
        var classSpecs = request.Classes.Count == 0 ? ["auto"] : request.Classes;
        List<int> Resolve(int i) => classSpecs.SelectMany(s => models[i].Model.ResolveClasses(s, logits[i])).Distinct().ToList();
        var first = Resolve(0);
        var classes = new List<List<int>> { first };
        for (int i = 1; i < models.Count; i++)
        {
            var own = logits[i].Length == logits[0].Length ? first : Resolve(i);
            if (own.Count != first.Count)
                throw new SalientException($"the class list '{string.Join(",", classSpecs)}' gives {first.Count} classes for {models[0].Name} but {own.Count} for {models[i].Name}");
            classes.Add(own);
        }

        var explanations = new List<IReadOnlyList<Explanation>>();
        for (int i = 0; i < models.Count; i++)
            explanations.Add(ExplainOne(models[i].Name, models[i].Model, items[i], classes[i], request));

        double shrink = Math.Min(1.0, (double)request.MaxGridSide / Math.Max(image.Width, image.Height));
        int gw = Math.Max(1, (int)Math.Round(image.Width * shrink)), gh = Math.Max(1, (int)Math.Round(image.Height * shrink));
        var grids = items.Select(it => Scale(it.Geometry, gw, gh)).ToList();
        var compared = new bool[gw * gh];
        int count = 0;
        for (int y = 0; y < gh; y++)
            for (int x = 0; x < gw; x++)
                if (grids.All(g => Inside(g, x, y))) { compared[y * gw + x] = true; count++; }
        if (count == 0) throw new SalientException("the models' crops of this image do not overlap; nothing to compare (try --resize stretch in a sidecar)");

        var results = new List<ComparisonResult>();
        for (int k = 0; k < first.Count; k++)
        {
            var rows = new List<ComparedRow>();
            for (int i = 0; i < models.Count; i++)
                foreach (var method in request.Methods)
                {
                    var e = explanations[i].First(x => x.Method.Equals(method, StringComparison.OrdinalIgnoreCase) && x.ClassIndex == classes[i][k]);
                    var map = Core.MapMath.ToOriginalGeometry(e.Normalized, e.Height, e.Width, grids[i]);
                    for (int p = 0; p < map.Length; p++) map[p] = float.IsFinite(map[p]) ? Math.Clamp(map[p], 0f, 1f) : 0f;
                    rows.Add(new ComparedRow(i, e.Method, e, map));
                }
            var pairs = new List<ComparedPair>();
            for (int a = 0; a < rows.Count; a++)
                for (int b = a + 1; b < rows.Count; b++)
                {
                    bool pair = models.Count > 1 ? rows[a].Method == rows[b].Method : true;
                    if (!pair) continue;
                    pairs.Add(new ComparedPair(a, b, Agreement.Spearman(rows[a].Map, rows[b].Map, compared),
                        Agreement.TopIoU(rows[a].Map, rows[b].Map, request.TopFraction, compared)));
                }
            results.Add(new ComparisonResult(image, gw, gh, compared, count, top, rows, pairs, request.TopFraction));
        }
        return results;
    }

    /// <summary>The k best classes from the logits, with softmax probabilities (what <see cref="SalientModel.Predict(RgbImage, int)"/> gives, without a second forward run).</summary>
    private static IReadOnlyList<Prediction> Top(SalientModel model, float[] logits, int k)
    {
        var probs = Core.Statistics.Softmax(logits);
        return Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).Take(Math.Max(1, k))
            .Select(i => new Prediction(i, model.ClassName(i), logits[i], probs[i])).ToList();
    }

    /// <summary>True for a method that needs the model's gradients (the gradient CAMs, the pixel-gradient methods, and what composes them).</summary>
    public static bool NeedsGradients(IExplanationMethod method) =>
        method.NeedsGradients || method.Composes.Any(c => NeedsGradients(MethodRegistry.Get(c)));

    /// <summary>
    /// The registered methods that need nothing but forward runs of the whole model (no gradients; not CAM,
    /// which needs a float pooling → linear head, nor Ablation-CAM, which runs the graph after the layer on its
    /// own): the methods that work on any model, integer-arithmetic ones included.
    /// </summary>
    public static IReadOnlyList<string> ForwardOnlyMethods => MethodRegistry.All.Where(m => !NeedsGradients(m) && m is not Cam and not AblationCam).Select(m => m.Name).ToList();

    private static IReadOnlyList<Explanation> ExplainOne(string name, SalientModel model, PreparedInput item, List<int> classes, ComparisonRequest request)
    {
        var ex = new ExplainRequest
        {
            Methods = request.Methods,
            Classes = classes.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(),
            Parameters = request.Parameters,
            MemoryBudgetBytes = request.MemoryBudgetBytes,
        };
        try { return Explainer.Explain(model, [item], ex).Explanations; }
        catch (SalientException e) when (e.Message.StartsWith("cannot differentiate", StringComparison.Ordinal))
        {
            var gradient = request.Methods.Where(m => NeedsGradients(MethodRegistry.Get(m))).ToList();
            throw new NotDifferentiableException($"{string.Join(", ", gradient)} need{(gradient.Count == 1 ? "s" : "")} gradients, and {name} cannot be differentiated ({Reason(e.Message)}); " +
                $"methods that need no gradients and work on any model: {string.Join(", ", ForwardOnlyMethods)}");
        }
    }

    // "cannot differentiate 'y' with respect to 'x': REASON; …" → REASON
    private static string Reason(string message)
    {
        int colon = message.IndexOf("': ", StringComparison.Ordinal);
        var rest = colon >= 0 ? message[(colon + 3)..] : message;
        int semi = rest.IndexOf(';');
        return (semi >= 0 ? rest[..semi] : rest).Trim();
    }

    /// <summary>A crop rectangle of the original image expressed on the gw × gh comparison grid.</summary>
    private static CropGeometry Scale(CropGeometry g, int gw, int gh)
    {
        double fx = (double)gw / g.SourceWidth, fy = (double)gh / g.SourceHeight;
        return new CropGeometry(g.X * fx, g.Y * fy, g.Width * fx, g.Height * fy, gw, gh);
    }

    private static bool Inside(CropGeometry g, int x, int y)
    {
        double cx = x + 0.5, cy = y + 0.5;
        return cx >= g.X && cx < g.X + g.Width && cy >= g.Y && cy < g.Y + g.Height;
    }
}
