using Salient.Models;

namespace Salient.Reporting;

/// <summary>
/// Everything one HTML report shows (written by <see cref="HtmlReport"/>): per image the predictions,
/// the method panels (heatmap over the original, opacity adjustable), an optional agreement table; an optional method × metric table; the models' summaries; how it was made.
/// </summary>
internal sealed record ReportDocument
{
    public required string Title { get; init; }
    public IReadOnlyList<ImageReport> Images { get; init; } = [];
    public IReadOnlyList<ModelSummary> Models { get; init; } = [];
    /// <summary>Evaluation numbers (methods × metrics), when the run computed them.</summary>
    public ReportTable? Metrics { get; init; }
    public required Provenance Made { get; init; }
    /// <summary>Lines shown under the title (e.g. images that failed).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>One image: the original (PNG bytes at display size), each model's top predictions, the panels.</summary>
internal sealed record ImageReport
{
    public required string Title { get; init; }
    public required byte[] OriginalPng { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public IReadOnlyList<PredictionList> Predictions { get; init; } = [];
    public IReadOnlyList<MethodPanel> Panels { get; init; } = [];
    public ReportTable? Agreement { get; init; }
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>A model's top-k for an image.</summary>
internal sealed record PredictionList(string Model, IReadOnlyList<Prediction> Top);

/// <summary>One method's heatmap (PNG bytes, same size as the image's display) shown over the original with an opacity slider.</summary>
internal sealed record MethodPanel(string Title, string Caption, byte[] HeatmapPng, string Alt, float Opacity = 0.5f);

/// <summary>A plain table: a caption, a header row and rows of text cells; <see cref="Best"/> cells are marked.</summary>
internal sealed record ReportTable(string Caption, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    public IReadOnlySet<(int Row, int Column)> Best { get; init; } = new HashSet<(int, int)>();
}

/// <summary>A model's input, preprocessing and layer table.</summary>
internal sealed record ModelSummary(string Name, IReadOnlyList<(string Key, string Value)> Facts, IReadOnlyList<LayerInfo> Layers);

/// <summary>How the report was made: the command line, the versions, the time.</summary>
internal sealed record Provenance(string CommandLine, IReadOnlyList<(string Name, string Version)> Versions, DateTimeOffset When);
