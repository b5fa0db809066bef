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
/// (<c>STEM_METHOD_CLASS-LABEL.png</c>, STEM the input's file name, made unique when two inputs share
/// it), the gradient image of image-valued methods, with <c>--raw</c> the maps as .npy; and
/// <c>results.jsonl</c>, the run's manifest: one line per map and one per failed image, flushed as each
/// image finishes so it stays valid when a run is interrupted. A folder that already has files is
/// refused unless <see cref="Existing.Force"/> (the earlier run's files are deleted first) or
/// <see cref="Existing.Skip"/> (its finished images are kept and not redone), so the manifest always
/// matches the folder. Records also go to <paramref name="json"/> (stdout with --json). A class-agnostic
/// method (Eigen-CAM) gets one panel per image (<c>STEM_METHOD.png</c>) and still one results line per
/// requested class, each pointing at that panel and marked <c>"class_agnostic": true</c>.
/// </summary>
internal sealed class ExplainOutput : IDisposable
{
    public const string ResultsFile = "results.jsonl";
    public const string SummaryFile = "summary.json";

    /// <summary>What to do with an output folder that is not empty.</summary>
    public enum Existing { Refuse, Force, Skip }

    private readonly SalientModel model;
    private readonly string dir;
    private readonly PanelOptions panel;
    private readonly bool raw;
    private readonly IReadOnlyDictionary<string, string> _stems;
    private readonly TextWriter? _json;
    private readonly StreamWriter _jsonl;

    /// <summary>With --shard: each input's shard key, recorded as "key" (what `salient merge` checks).</summary>
    public IReadOnlyDictionary<string, string>? Keys { get; init; }

    /// <summary>Full paths of the images an earlier run finished (with --skip-existing).</summary>
    public HashSet<string> Finished { get; } = new(StringComparer.Ordinal);

    public ExplainOutput(SalientModel model, string dir, PanelOptions panel, bool raw, IReadOnlyList<string> inputs, Existing existing, TextWriter? json)
    {
        (this.model, this.dir, this.panel, this.raw, _json) = (model, dir, panel, raw, json);
        _stems = OutputNames.Stems(inputs);
        OutputFolder.Create(dir);
        var kept = new List<string>();
        // A folder holding only an empty manifest (a run that failed before its first image) counts as empty.
        bool onlyEmptyManifest = Directory.EnumerateFileSystemEntries(dir).All(e => e == ResultsPath) && File.Exists(ResultsPath) && new FileInfo(ResultsPath).Length == 0;
        if (OutputFolder.IsNonEmpty(dir) && !onlyEmptyManifest)
        {
            var earlier = ReadManifest();
            switch (existing)
            {
                case Existing.Refuse:
                    throw new SalientException($"the output folder '{dir}' is not empty{(earlier.Count > 0 ? $" ({ResultsFile} of an earlier run, {earlier.Count} records)" : "")}; " +
                        "add --skip-existing to keep its results and do only the missing images, --force to replace them, or choose another --out");
                case Existing.Force:
                    foreach (var r in earlier)
                        foreach (var f in FilesOf(r)) OutputFolder.Guard(f, () => File.Delete(f), "delete");
                    foreach (var f in new[] { ResultsPath, Path.Combine(dir, SummaryFile) })
                        OutputFolder.Guard(f, () => File.Delete(f), "delete");
                    break;
                case Existing.Skip:
                    // A worker killed while writing leaves only its temporary file (see Atomic): drop those.
                    foreach (var t in Directory.EnumerateFiles(dir, ".*" + TempSuffix))
                        OutputFolder.Guard(t, () => File.Delete(t), "delete");
                    // Keep the images whose every recorded file is still there; failed images are retried.
                    var byImage = earlier.GroupBy(r => ImageOf(r)).ToList();
                    foreach (var g in byImage)
                    {
                        bool ok = g.All(r => StatusOf(r) == "ok" && FilesOf(r).All(File.Exists));
                        if (!ok) continue;
                        Finished.Add(g.Key);
                        foreach (var r in g) { kept.Add(r.GetRawText()); Records.Add(JsonSerializer.Deserialize<Dictionary<string, object?>>(r.GetRawText())!); }
                    }
                    break;
            }
        }
        OutputFolder.Guard(ResultsPath, () => _jsonlInit = new StreamWriter(ResultsPath, append: false, new UTF8Encoding(false)));
        _jsonl = _jsonlInit!;
        foreach (var line in kept) _jsonl.WriteLine(line);
        _jsonl.Flush();
    }

    private StreamWriter? _jsonlInit;

    private List<JsonElement> ReadManifest()
    {
        var list = new List<JsonElement>();
        if (!File.Exists(ResultsPath)) return list;
        foreach (var line in File.ReadAllLines(ResultsPath))
        {
            if (line.Trim().Length == 0) continue;
            try { list.Add(JsonDocument.Parse(line).RootElement.Clone()); }
            catch (JsonException) { } // a line cut by a crash: that image is redone
        }
        return list;
    }

    private static string ImageOf(JsonElement r) => r.TryGetProperty("image", out var i) && i.GetString() is { } s ? Path.GetFullPath(s) : "";
    private static string? StatusOf(JsonElement r) => r.TryGetProperty("status", out var s) ? s.GetString() : null;

    private static IEnumerable<string> FilesOf(JsonElement r)
    {
        if (!r.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Object) yield break;
        foreach (var f in files.EnumerateObject())
            if (f.Value.ValueKind == JsonValueKind.String && f.Value.GetString() is { Length: > 0 } path) yield return path;
    }

    public string ResultsPath => Path.Combine(dir, ResultsFile);

    /// <summary>Every map's record so far (summary.json's "explanations").</summary>
    public List<object> Records { get; } = new();

    private const string TempSuffix = ".partial";

    /// <summary>Writes <paramref name="path"/> atomically: into a hidden temporary file beside it, then renamed over it.</summary>
    private static void Atomic(string path, Action<string> write)
    {
        string tmp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Environment.ProcessId}{TempSuffix}");
        OutputFolder.Guard(path, () =>
        {
            try
            {
                write(tmp);
                File.Move(tmp, path, overwrite: true);
            }
            finally { if (File.Exists(tmp)) File.Delete(tmp); }
        });
    }

    private void Record(Dictionary<string, object?> entry)
    {
        if (Keys is not null && entry.TryGetValue("image", out var image) && image is string img && Keys.TryGetValue(img, out var key))
            entry["key"] = key;
        string line = JsonSerializer.Serialize(entry, FiniteJson.Compact);
        OutputFolder.Guard(ResultsPath, () => _jsonl.WriteLine(line));
        _json?.WriteLine(line);
    }

    /// <summary>Writes an explained image's files and records; <paramref name="log"/> (null: quiet) gets a line per panel. Returns the number of maps.</summary>
    public int Write(ImageOutcome o, TextWriter? log)
    {
        foreach (var e in o.Explanations)
        {
            var entry = Write(o, e, log);
            Record(entry);
            Records.Add(entry);
        }
        OutputFolder.Guard(ResultsPath, _jsonl.Flush);
        return o.Explanations.Count;
    }

    /// <summary>Records a failed image.</summary>
    public void WriteFailure(ImageOutcome o)
    {
        Record(new Dictionary<string, object?> { ["schema"] = JsonSchema.Version, ["image"] = o.Path, ["status"] = "error", ["error"] = o.ErrorMessage });
        OutputFolder.Guard(ResultsPath, _jsonl.Flush);
    }

    private Dictionary<string, object?> Write(ImageOutcome o, Explanation e, TextWriter? log)
    {
        var render = Stopwatch.StartNew();
        var image = o.Image!;
        string stem = $"{_stems[o.Path]}_{Slug(e.Method)}";
        string baseName = e.ClassAgnostic ? stem : e.ClassIndex < 0 ? $"{stem}_{Slug(e.Label)}" : $"{stem}_{e.ClassIndex}-{Slug(e.Label)}";
        string panelPath = Path.Combine(dir, baseName + ".png");
        // a class-agnostic map is the same object for every class: its files are written once
        bool first = !e.ClassAgnostic || ReferenceEquals(o.Explanations.First(x => x.Method == e.Method && x.Item == e.Item && x.Layer == e.Layer), e);
        if (first)
        {
            var picture = ExplanationRendering.Panel(model, e, image, panel);
            Atomic(panelPath, t => ImageWriter.SavePng(picture, t));
        }
        string? rawPath = null, normPath = null, gradientPath = null, channelsPath = null;
        // Image-valued methods (guided backprop…): the gradient image (standardized, stretched to the 98th percentile of |z|, clipped).
        if (first && ExplanationRendering.GradientImageOf(model, e) is { } gradientImage)
        {
            gradientPath = Path.Combine(dir, baseName + "_gradient.png");
            Atomic(gradientPath, t => ImageWriter.SavePng(gradientImage, t));
        }
        if (raw)
        {
            // raw maps at full resolution, whatever the panel's size
            rawPath = Path.Combine(dir, baseName + "_raw.npy");
            normPath = Path.Combine(dir, baseName + "_map.npy");
            string rp = rawPath, np = normPath;
            if (first) Atomic(rp, t => Npy.Write(t, e.RawMap, e.Height, e.Width));
            if (first) Atomic(np, t => Npy.Write(t, e.NormalizedAtOriginal(), image.Height, image.Width));
            if (e.RawChannels is { } ch)
            {
                channelsPath = Path.Combine(dir, baseName + "_channels.npy");
                string cp = channelsPath;
                if (first) Atomic(cp, t => Npy.Write(t, ch, e.ChannelCount, e.Height, e.Width));
            }
        }
        log?.WriteLine(float.IsNaN(e.Probability)
            ? $"wrote {panelPath}  ({e.Method}, layer {e.Layer}, target {e.Target}: {(e.ClassIndex >= 0 ? $"class {e.ClassIndex} " : "")}'{e.Label}', score {e.Score:0.000})"
            : $"wrote {panelPath}  ({e.Method}, layer {e.Layer}, class {e.ClassIndex} '{e.Label}', logit {e.Logit:0.000}, p {e.Probability:0.000}{(e.Target.StartsWith("logit", StringComparison.Ordinal) ? "" : $", target {e.Target} = {e.Score:0.000}")})");
        if (e.ConceptClasses is { } concepts)
            log?.WriteLine("  concepts: " + string.Join(" · ", concepts.Select((c, j) =>
                $"#{j + 1}{(j == e.Concept ? " (this map)" : "")} " + string.Join(", ", c.Select(p => $"{p.ClassIndex} {p.Label} {p.Probability:0.00}")))));
        return new Dictionary<string, object?>
        {
            ["schema"] = JsonSchema.Version,
            ["image"] = o.Path,
            ["status"] = "ok",
            ["image_size"] = new[] { image.Width, image.Height },
            ["method"] = e.Method,
            ["layer"] = e.Layer,
            ["class"] = e.ClassIndex,
            ["label"] = e.Label,
            ["logit"] = e.Logit,
            ["probability"] = e.Probability,
            ["target"] = e.Target,
            ["score"] = e.Score,
            ["map_shape"] = new[] { e.Height, e.Width },
            ["crop"] = new { x = e.Geometry.X, y = e.Geometry.Y, width = e.Geometry.Width, height = e.Geometry.Height },
            ["class_agnostic"] = e.ClassAgnostic,
            ["normalize"] = e.NormalizedAcrossClasses ? "global" : "map",
            ["warning"] = e.Warning,
            ["concept"] = e.Concept,
            ["concepts"] = e.ConceptClasses?.Select((c, j) => new { index = j, top = c.Select(p => new { @class = p.ClassIndex, label = p.Label, probability = p.Probability }).ToList() }).ToList(),
            ["files"] = new { panel = panelPath, raw = rawPath, map = normPath, gradient = gradientPath, channels = channelsPath },
            ["timings_ms"] = new { decode_preprocess = o.DecodeTime.TotalMilliseconds, forward = o.ForwardTime.TotalMilliseconds, method = e.Elapsed.TotalMilliseconds, render = render.Elapsed.TotalMilliseconds },
        };
    }

    /// <summary>Writes summary.json (model, input, preprocessing, timings, every map's record); returns its path.</summary>
    public string WriteSummary(TimeSpan modelLoad, TimeSpan total)
    {
        var doc = new
        {
            schema = JsonSchema.Version,
            model = model.Path,
            input = new { name = model.Input.Name, layout = model.Input.Layout.ToString().ToUpperInvariant(), width = model.InputSize.Width, height = model.InputSize.Height, channels = model.Input.Channels },
            preprocessing = model.Preprocessing.Name,
            resize = model.Resize.ToString().ToLowerInvariant(),
            model_load_ms = modelLoad.TotalMilliseconds,
            total_ms = total.TotalMilliseconds,
            explanations = Records,
        };
        var path = Path.Combine(dir, SummaryFile);
        OutputFolder.Guard(path, () => File.WriteAllText(path, JsonSerializer.Serialize(doc, FiniteJson.Indented)));
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
