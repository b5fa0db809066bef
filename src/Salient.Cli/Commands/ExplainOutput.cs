using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Rendering;

namespace Salient.Cli.Commands;

/// <summary>
/// The files of <c>salient explain</c> in the output folder: per image × method × class a panel
/// (<c>STEM_METHOD_CLASS-LABEL.png</c>), the gradient image of image-valued methods, with <c>--raw</c>
/// the maps as .npy; and <c>results.jsonl</c>, one line per map and one per failed image, flushed as
/// each image finishes so it stays valid when a run is interrupted. A class-agnostic method (Eigen-CAM)
/// gets one panel per image (<c>STEM_METHOD.png</c>) and still one results line per requested class, each
/// pointing at that panel and marked <c>"class_agnostic": true</c>.
/// </summary>
internal sealed class ExplainOutput(SalientModel model, string dir, PanelOptions panel, bool raw) : IDisposable
{
    public const string ResultsFile = "results.jsonl";

    private readonly StreamWriter _jsonl = new(Path.Combine(dir, ResultsFile), append: false, new UTF8Encoding(false));

    public string ResultsPath => Path.Combine(dir, ResultsFile);

    /// <summary>Every map's record so far (summary.json's "explanations").</summary>
    public List<object> Records { get; } = new();

    /// <summary>Writes an explained image's files and records; <paramref name="log"/> (null: quiet) gets a line per panel. Returns the number of maps.</summary>
    public int Write(ImageOutcome o, TextWriter? log)
    {
        foreach (var e in o.Explanations)
        {
            var entry = Write(o, e, log);
            _jsonl.WriteLine(JsonSerializer.Serialize(entry));
            Records.Add(entry);
        }
        _jsonl.Flush();
        return o.Explanations.Count;
    }

    /// <summary>Records a failed image.</summary>
    public void WriteFailure(ImageOutcome o)
    {
        _jsonl.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?> { ["image"] = o.Path, ["status"] = "error", ["error"] = o.ErrorMessage }));
        _jsonl.Flush();
    }

    private Dictionary<string, object?> Write(ImageOutcome o, Explanation e, TextWriter? log)
    {
        var render = Stopwatch.StartNew();
        var image = o.Image!;
        string stem = $"{Slug(Path.GetFileNameWithoutExtension(o.Path))}_{Slug(e.Method)}";
        string baseName = e.ClassAgnostic ? stem : $"{stem}_{e.ClassIndex}-{Slug(e.Label)}";
        string panelPath = Path.Combine(dir, baseName + ".png");
        // a class-agnostic map is the same object for every class: its files are written once
        bool first = !e.ClassAgnostic || ReferenceEquals(o.Explanations.First(x => x.Method == e.Method && x.Item == e.Item && x.Layer == e.Layer), e);
        if (first) ImageWriter.SavePng(ExplanationRendering.Panel(model, e, image, panel), panelPath);
        string? rawPath = null, normPath = null, gradientPath = null, channelsPath = null;
        // Image-valued methods (guided backprop…): the gradient image (standardized, stretched to the 98th percentile of |z|, clipped).
        if (first && ExplanationRendering.GradientImageOf(model, e) is { } gradientImage)
        {
            gradientPath = Path.Combine(dir, baseName + "_gradient.png");
            ImageWriter.SavePng(gradientImage, gradientPath);
        }
        if (raw)
        {
            // raw maps at full resolution, whatever the panel's size
            rawPath = Path.Combine(dir, baseName + "_raw.npy");
            normPath = Path.Combine(dir, baseName + "_map.npy");
            if (first) Npy.Write(rawPath, e.RawMap, e.Height, e.Width);
            if (first) Npy.Write(normPath, e.NormalizedAtOriginal(), image.Height, image.Width);
            if (e.RawChannels is { } ch)
            {
                channelsPath = Path.Combine(dir, baseName + "_channels.npy");
                if (first) Npy.Write(channelsPath, ch, e.ChannelCount, e.Height, e.Width);
            }
        }
        log?.WriteLine($"wrote {panelPath}  ({e.Method}, layer {e.Layer}, class {e.ClassIndex} '{e.Label}', logit {e.Logit:0.000}, p {e.Probability:0.000})");
        return new Dictionary<string, object?>
        {
            ["image"] = o.Path,
            ["status"] = "ok",
            ["image_size"] = new[] { image.Width, image.Height },
            ["method"] = e.Method,
            ["layer"] = e.Layer,
            ["class"] = e.ClassIndex,
            ["label"] = e.Label,
            ["logit"] = e.Logit,
            ["probability"] = e.Probability,
            ["class_agnostic"] = e.ClassAgnostic,
            ["normalize"] = e.NormalizedAcrossClasses ? "global" : "map",
            ["map_shape"] = new[] { e.Height, e.Width },
            ["crop"] = new { x = e.Geometry.X, y = e.Geometry.Y, width = e.Geometry.Width, height = e.Geometry.Height },
            ["files"] = new { panel = panelPath, raw = rawPath, map = normPath, gradient = gradientPath, channels = channelsPath },
            ["timings_ms"] = new { decode_preprocess = o.DecodeTime.TotalMilliseconds, forward = o.ForwardTime.TotalMilliseconds, method = e.Elapsed.TotalMilliseconds, render = render.Elapsed.TotalMilliseconds },
        };
    }

    /// <summary>Writes summary.json (model, input, preprocessing, timings, every map's record); returns its path.</summary>
    public string WriteSummary(TimeSpan modelLoad, TimeSpan total)
    {
        var doc = new
        {
            model = model.Path,
            input = new { name = model.Input.Name, layout = model.Input.Layout.ToString().ToUpperInvariant(), width = model.InputSize.Width, height = model.InputSize.Height, channels = model.Input.Channels },
            preprocessing = model.Preprocessing.Name,
            resize = model.Resize.ToString().ToLowerInvariant(),
            model_load_ms = modelLoad.TotalMilliseconds,
            total_ms = total.TotalMilliseconds,
            explanations = Records,
        };
        var path = Path.Combine(dir, "summary.json");
        File.WriteAllText(path, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    /// <summary>A file-name-safe piece: lower case, letters, digits, '+' and '.', other runs as one '-', at most 60 characters.</summary>
    internal static string Slug(string s)
    {
        var sb = new StringBuilder();
        foreach (var ch in s.ToLowerInvariant())
            sb.Append(char.IsLetterOrDigit(ch) || ch is '+' or '.' ? ch : '-');
        var r = sb.ToString().Trim('-');
        while (r.Contains("--")) r = r.Replace("--", "-");
        return r.Length == 0 ? "x" : r.Length > 60 ? r[..60] : r;
    }

    public void Dispose() => _jsonl.Dispose();
}
