using System.Globalization;
using Salient.Evaluation;
using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Rendering;

namespace Salient.Reporting;

/// <summary>Builds report sections from a loaded model, explanations and comparisons (pictures at display size, PNG-encoded).</summary>
internal static class ReportSections
{
    /// <summary>Images are shown at most this wide/high in the report (long side).</summary>
    public const int DisplaySide = 320;

    public static ModelSummary Model(SalientModel model, string? name = null)
    {
        var s = model.Structure();
        var facts = new List<(string, string)>
        {
            ("file", model.Path),
            ("input", model.Input.Describe()),
            ("input size used", $"{model.InputSize.Width}×{model.InputSize.Height}"),
            ("preprocessing", model.Preprocessing.ToString()),
            ("resize", model.Resize.ToString().ToLowerInvariant()),
            ("classes", s.ClassCount.ToString(CultureInfo.InvariantCulture) + (model.Labels is null ? " (no labels)" : "")),
            ("logits", s.LogitsName + (s.EndsInSoftmax ? " (before the final Softmax)" : "")),
            ("default target layer", s.DefaultLayer ?? "none"),
            ("layers", s.Layers.Count.ToString(CultureInfo.InvariantCulture)),
            ("parameters", s.Layers.Sum(l => l.Parameters).ToString("N0", CultureInfo.InvariantCulture)),
        };
        return new ModelSummary(name ?? Path.GetFileName(model.Path), facts, s.Layers);
    }

    /// <summary>The display size of an image: long side at most <see cref="DisplaySide"/>.</summary>
    public static (int Width, int Height) DisplaySize(int width, int height)
    {
        double f = Math.Min(1.0, (double)DisplaySide / Math.Max(width, height));
        return (Math.Max(1, (int)Math.Round(width * f)), Math.Max(1, (int)Math.Round(height * f)));
    }

    /// <summary>One image explained by one model: its top-k and one panel per explanation.</summary>
    public static ImageReport Explained(string title, RgbImage original, string modelName, IReadOnlyList<Prediction> top,
        IEnumerable<Explanation> explanations, Colormap colormap = Colormap.Jet, float opacity = 0.5f)
    {
        var (w, h) = DisplaySize(original.Width, original.Height);
        var small = Resampler.Resize(original, w, h);
        var panels = new List<MethodPanel>();
        foreach (var e in explanations)
        {
            var map = MapMath.ToOriginalGeometry(e.Normalized, e.Height, e.Width, Scale(e.Geometry, w, h));
            // A target that is not a class (similarity, segmentation…; docs/targets.md) has no probability: its label and score instead.
            bool classTarget = !float.IsNaN(e.Probability);
            string cls = e.ClassAgnostic ? "class-agnostic"
                : classTarget ? $"class {e.ClassIndex} {e.Label}, p {e.Probability.ToString("0.000", CultureInfo.InvariantCulture)}"
                : $"{(e.ClassIndex >= 0 ? $"class {e.ClassIndex} " : "")}{e.Label}, {e.Target.Split(':')[0]} {e.Score.ToString("0.000", CultureInfo.InvariantCulture)}";
            panels.Add(new MethodPanel($"{e.Method}", $"{cls}; layer {e.Layer}",
                ImageWriter.EncodePng(Heatmap(map, w, h, Scale(e.Geometry, w, h), colormap)),
                $"{e.Method} heatmap of {(e.ClassAgnostic ? "the image" : classTarget ? $"class {e.ClassIndex} ({e.Label})" : e.Label)} on {title}: warm colors mark the regions that drove the decision",
                opacity));
        }
        return new ImageReport
        {
            Title = title, OriginalPng = ImageWriter.EncodePng(small), Width = w, Height = h,
            Predictions = [new PredictionList(modelName, top)], Panels = panels,
        };
    }

    /// <summary>A comparison: each model's top-k, one panel per row and the agreement table.</summary>
    public static ImageReport Compared(string title, ComparisonResult r, IReadOnlyList<string> modelNames, Colormap colormap = Colormap.Jet, float opacity = 0.5f)
    {
        var (w, h) = DisplaySize(r.Original.Width, r.Original.Height);
        var small = Resampler.Resize(r.Original, w, h);
        var panels = new List<MethodPanel>();
        foreach (var row in r.Rows)
        {
            var e = row.Explanation;
            var map = MapMath.ResizeBilinear(row.Map, r.GridHeight, r.GridWidth, h, w);
            var seen = Scale(e.Geometry, w, h);
            string cls = $"class {e.ClassIndex} {e.Label}, p {e.Probability.ToString("0.000", CultureInfo.InvariantCulture)}{(e.ClassAgnostic ? " (the map is class-agnostic)" : "")}";
            panels.Add(new MethodPanel(modelNames.Count == 1 ? row.Method : $"{modelNames[row.Model]} · {row.Method}", $"{cls}; layer {e.Layer}",
                ImageWriter.EncodePng(Heatmap(map, w, h, seen, colormap)),
                $"{row.Method} heatmap of {modelNames[row.Model]} for class {e.ClassIndex} ({e.Label}) on {title}", opacity));
        }
        var rows = r.Pairs.Select(p => (IReadOnlyList<string>)[
            RowName(r, p.RowA, modelNames), RowName(r, p.RowB, modelNames),
            p.Spearman.ToString("0.000", CultureInfo.InvariantCulture), p.TopIoU.ToString("0.000", CultureInfo.InvariantCulture)]).ToList();
        var table = rows.Count == 0 ? null : new ReportTable(
            $"Agreement of the maps over the {r.ComparedPixels} pixels every model saw (on a {r.GridWidth}×{r.GridHeight} grid of the original image)",
            ["map A", "map B", "Spearman ρ", $"IoU of the top {r.TopFraction * 100:0}%"], rows);
        return new ImageReport
        {
            Title = title, OriginalPng = ImageWriter.EncodePng(small), Width = w, Height = h,
            Predictions = r.Top.Select((t, i) => new PredictionList(modelNames[i], t)).ToList(),
            Panels = panels, Agreement = table,
        };
    }

    /// <summary>"model · method" of a comparison row; the method alone when one model is compared with itself across methods.</summary>
    public static string RowName(ComparisonResult r, int row, IReadOnlyList<string> modelNames) =>
        modelNames.Count == 1 ? r.Rows[row].Method : $"{modelNames[r.Rows[row].Model]} · {r.Rows[row].Method}";

    /// <summary>The colorized map; pixels outside <paramref name="seen"/> hatched gray (the model did not see them).</summary>
    private static RgbImage Heatmap(float[] map01, int w, int h, CropGeometry seen, Colormap cm)
    {
        var heat = HeatmapRenderer.Colorize(map01, h, w, cm);
        if (seen.IsWholeImage) return heat;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double cx = x + 0.5, cy = y + 0.5;
                if (cx >= seen.X && cx < seen.X + seen.Width && cy >= seen.Y && cy < seen.Y + seen.Height) continue;
                float v = HeatmapRenderer.IsHatch(x, y) ? 96 : 48;
                int o = 3 * (y * w + x);
                heat.Data[o] = v; heat.Data[o + 1] = v; heat.Data[o + 2] = v;
            }
        return heat;
    }

    private static CropGeometry Scale(CropGeometry g, int w, int h)
    {
        double fx = (double)w / g.SourceWidth, fy = (double)h / g.SourceHeight;
        return new CropGeometry(g.X * fx, g.Y * fy, g.Width * fx, g.Height * fy, w, h);
    }
}
