using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Salient.Evaluation;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Rendering;
using Salient.Reporting;
using Salient.Runtime;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>salient compare</c>: several models (each with its own sidecar or defaults: input size, layout,
/// preprocessing, target layer), or several methods on one model, explain the same images; per image
/// and class one figure (rows = models or methods: text | original | heatmap | overlay) with each
/// model's top-5 and the agreement of the maps (Spearman ρ, IoU of the top 20 %) on the original
/// image's grid (<see cref="Comparison"/>), the same numbers as JSON Lines in <c>comparison.jsonl</c>
/// (and on stdout with <c>--json</c>), and with <c>--html</c> one self-contained page.
/// </summary>
internal static class CompareCommand
{
    public const string JsonlFile = "comparison.jsonl";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var images = new Argument<string[]>("images") { Description = "image files or folders", Arity = ArgumentArity.ZeroOrMore };
        var model = new Option<string[]>("--model", "-m") { Description = "an ONNX model (repeat for each model; each uses its own sidecar or defaults; none: the built-in MobileNetV2)", Arity = ArgumentArity.ZeroOrMore };
        var method = new Option<string>("--method") { Description = "comma-separated methods (see `salient methods`); several methods on one model are compared with each other", DefaultValueFactory = _ => "gradcam" };
        var cls = new Option<string>("--class", "-c") { Description = "class(es) to explain, resolved on the first model: auto (its top-1) | topK | rankK | INDEX | LABEL; one figure each", DefaultValueFactory = _ => "auto" };
        var top = new Option<double>("--top-fraction") { Description = "the top region of a map for the IoU: this share of the compared pixels", DefaultValueFactory = _ => Agreement.DefaultTopFraction };
        var outDir = new Option<string>("--out", "-o") { Description = "output folder", DefaultValueFactory = _ => "salient-out" };
        var colormap = new Option<string>("--colormap") { Description = "jet | turbo | viridis | inferno | gray | coolwarm", DefaultValueFactory = _ => "jet" };
        var alpha = new Option<float>("--alpha") { Description = "heatmap opacity in the overlay (0–1)", DefaultValueFactory = _ => 0.5f };
        var json = new Option<bool>("--json") { Description = "JSON Lines on stdout, one object per image × class (also written to comparison.jsonl); human text on stderr" };
        var html = new Option<bool>("--html") { Description = $"also write one self-contained HTML page, OUT/{ReportOutput.FileName}" };
        var force = new Option<bool>("--force") { Description = "replace the results of an earlier comparison in --out" };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "also read images in subfolders of folder arguments" };
        var threads = new Option<int?>("--threads") { Description = "ONNX Runtime intra-op threads per model (default: one per core)" };
        var maxPixels = new Option<long?>("--max-pixels") { Description = "decoded-pixel limit per image (default 100000000)" };
        var memory = new Option<string>("--memory") { Description = "memory budget for batches, e.g. 512M, 2G", DefaultValueFactory = _ => "1G" };
        var param = new Option<string[]>("--param") { Description = "method parameter NAME=VALUE (repeatable)", Arity = ArgumentArity.ZeroOrMore };
        var own = new Option[] { model, method, cls, top, outDir, colormap, alpha, json, html, force, recursive, threads, maxPixels, memory, param };
        var methodOptions = MethodOptions.Create(except: own.Select(o => o.Name).Append("--layer"));

        var cmd = new Command("compare", "compare where models (or methods) look: one figure per image with each model's top-5 and the agreement of the maps (Spearman ρ, IoU of the top 20 %)");
        cmd.Arguments.Add(images);
        foreach (var o in own) cmd.Options.Add(o);
        foreach (var (o, _) in methodOptions) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var cm = Colormaps.Parse(p.GetValue(colormap)!);
            float a = ReportOutput.CheckAlpha(p.GetValue(alpha));
            double fraction = p.GetValue(top);
            if (!(fraction > 0 && fraction <= 1)) throw new SalientException($"--top-fraction {fraction.ToString(CultureInfo.InvariantCulture)} must be in (0, 1]");
            var methods = ExplainCommand.Split(p.GetValue(method)!).Select(m => m.ToLowerInvariant()).Distinct().ToList();
            if (methods.Count == 0) throw new SalientException("--method: no method given");
            foreach (var m in methods) MethodRegistry.Get(m);
            var parameters = MethodOptions.ParseParams(p.GetValue(param));
            MethodOptions.Collect(p, methodOptions, parameters);
            ParameterCheck.Validate(methods.Select(MethodRegistry.Get).ToList(), parameters);
            var paths = p.GetValue(model) ?? [];
            if (paths.Length == 0 && methods.Count < 2)
                throw new SalientException("nothing to compare: give two or more --model files, or one model and two or more methods (--method gradcam,scorecam)");
            if (paths.Length == 1 && methods.Count < 2)
                throw new SalientException($"nothing to compare: one model ({paths[0]}) and one method; add another --model, or more methods (--method {methods[0]},scorecam)");
            if (p.GetValue(threads) is int t && (t < 1 || t > RuntimeOptions.MaxThreads))
                throw new SalientException($"--threads {t} must be between 1 and {RuntimeOptions.MaxThreads} (4 per core)");
            bool asJson = p.GetValue(json);
            var human = asJson ? stderr : stdout;
            var files = CommonOptions.ExpandImages(p.GetValue(images), "compare", p.GetValue(recursive));
            string dir = p.GetValue(outDir)!;
            string jsonlPath = Path.Combine(dir, JsonlFile);
            if (File.Exists(jsonlPath) && !p.GetValue(force))
                throw new SalientException($"'{dir}' already holds {JsonlFile}; --force replaces it, or choose another --out");
            string? htmlPath = p.GetValue(html) ? ReportOutput.Guard(dir, p.GetValue(force)) : null;
            var request = new ComparisonRequest
            {
                Methods = methods, Classes = ExplainCommand.Split(p.GetValue(cls)!), Parameters = parameters,
                MemoryBudgetBytes = ExplainCommand.ParseMemory(p.GetValue(memory)!), TopFraction = fraction,
            };

            var loaded = new List<(string Name, SalientModel Model)>();
            try
            {
                var options = new ModelOptions
                {
                    MaxPixels = p.GetValue(maxPixels) ?? 100_000_000,
                    Runtime = new RuntimeOptions { IntraOpThreads = p.GetValue(threads) ?? 0, Verbose = p.GetValue(Program.Verbose) },
                };
                foreach (var path in paths.Length == 0 ? [null] : paths.Cast<string?>())
                    loaded.Add((path is null ? "built-in mobilenetv2-w8" : Path.GetFileName(path), Load(path, options, stderr)));
                var names = UniqueNames(loaded.Select(l => l.Name).ToList());
                for (int i = 0; i < loaded.Count; i++) loaded[i] = (names[i], loaded[i].Model);
                return Run(loaded, files, request, dir, jsonlPath, htmlPath, cm, a, asJson ? stdout : null, human, stderr, p);
            }
            finally
            {
                foreach (var (_, m) in loaded) m.Dispose();
            }
        });
        return cmd;
    }

    private static SalientModel Load(string? path, ModelOptions options, TextWriter notes)
    {
        if (path is null) return SalientModel.LoadBuiltIn(options);
        if (Directory.Exists(path)) throw new SalientException($"--model '{path}' is a folder; give the model file");
        if (!File.Exists(path)) throw new SalientException($"model file '{path}' not found");
        var model = SalientModel.Load(path, options);
        CommonOptions.NoteAssumedDefaults(model, notes);
        return model;
    }

    /// <summary>The models' file names; a name given again gets " (#2)", " (#3)"….</summary>
    internal static List<string> UniqueNames(List<string> names)
    {
        var result = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var n in names)
        {
            seen[n] = seen.GetValueOrDefault(n) + 1;
            result.Add(seen[n] == 1 ? n : $"{n} (#{seen[n]})");
        }
        return result;
    }

    private static int Run(List<(string Name, SalientModel Model)> models, List<string> files, ComparisonRequest request, string dir, string jsonlPath,
        string? htmlPath, Colormap cm, float alpha, TextWriter? jsonOut, TextWriter human, TextWriter stderr, ParseResult p)
    {
        OutputFolder.Create(dir);
        var stems = OutputNames.Stems(files);
        var names = models.Select(m => m.Name).ToList();
        var sections = new List<ImageReport>();
        var notes = new List<string>();
        int failures = 0;
        using var jsonl = new StringWriter();
        for (int f = 0; f < files.Count; f++)
        {
            var file = files[f];
            IReadOnlyList<ComparisonResult> results;
            try
            {
                var image = models[0].Model.LoadImage(file);
                results = Comparison.Run(models, image, request);
            }
            catch (SalientException e) when (files.Count > 1 && e is not NotDifferentiableException)
            {
                failures++;
                string message = Program.CliWording(e.Message);
                stderr.WriteLine($"error: {file}: {message}");
                notes.Add($"{file}: {message}");
                var error = new Dictionary<string, object?> { ["schema"] = JsonSchema.Version, ["image"] = file, ["status"] = "error", ["error"] = message };
                Emit(error, jsonl, jsonOut);
                continue;
            }
            foreach (var r in results)
            {
                var cls = r.Rows[0].Explanation;
                string suffix = results.Count > 1 ? $"_{cls.ClassIndex}-{ExplainOutput.Slug(cls.Label)}" : "";
                string png = Path.Combine(dir, $"{stems[file]}_compare{suffix}.png");
                var figure = Figure(r, names, Path.GetFileName(file), request, cm, alpha);
                OutputFolder.Guard(png, () => ImageWriter.SavePng(figure, png));
                Emit(Record(file, r, names, models, png), jsonl, jsonOut);
                human.WriteLine($"wrote {png}");
                foreach (var pair in r.Pairs)
                    human.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {ReportSections.RowName(r, pair.RowA, names)} vs {ReportSections.RowName(r, pair.RowB, names)}: Spearman ρ {pair.Spearman:0.000}, IoU(top {r.TopFraction * 100:0}%) {pair.TopIoU:0.000}"));
                if (htmlPath is not null)
                    sections.Add(ReportSections.Compared($"{Path.GetFileName(file)}{(results.Count > 1 ? $" — class {cls.ClassIndex} {cls.Label}" : "")}", r, names, cm, alpha));
            }
        }
        OutputFolder.Guard(jsonlPath, () => File.WriteAllText(jsonlPath, jsonl.ToString()));
        human.WriteLine($"wrote {jsonlPath}");
        if (htmlPath is not null)
        {
            ReportOutput.Write(htmlPath, new ReportDocument
            {
                Title = $"Salient comparison: {string.Join(" vs ", names)} ({string.Join(", ", request.Methods)})",
                Images = sections,
                Models = models.Select(m => ReportSections.Model(m.Model, m.Name)).ToList(),
                Made = ReportOutput.Provenance(p),
                Notes = notes.Select(n => "failed: " + n).ToList(),
            });
            human.WriteLine($"wrote {htmlPath}");
        }
        if (failures > 0) stderr.WriteLine($"{failures} of {files.Count} images failed (listed above); the others were compared");
        return failures > 0 ? 1 : 0;
    }

    private static void Emit(Dictionary<string, object?> record, StringWriter jsonl, TextWriter? jsonOut)
    {
        var line = JsonSerializer.Serialize(record, FiniteJson.Compact);
        jsonl.WriteLine(line);
        if (jsonOut is not null) { jsonOut.WriteLine(line); jsonOut.Flush(); }
    }

    private static RgbImage Figure(ComparisonResult r, List<string> names, string image, ComparisonRequest request, Colormap cm, float alpha)
    {
        bool byModel = names.Count > 1;
        var rows = new List<ComparisonFigureRow>();
        var shownTop = new HashSet<int>();
        foreach (var row in r.Rows)
        {
            var e = row.Explanation;
            var lines = new List<string>();
            if (byModel && request.Methods.Count > 1) lines.Add($"method {row.Method}");
            if (!byModel) lines.Add(names[0]);
            lines.Add($"layer {e.Layer}");
            lines.Add(e.ClassAgnostic ? "class-agnostic: one map for every class" : string.Create(CultureInfo.InvariantCulture, $"class {e.ClassIndex} {e.Label}: p {e.Probability:0.000}"));
            if (shownTop.Add(row.Model))
            {
                lines.Add("top-5:");
                foreach (var t in r.Top[row.Model]) lines.Add(string.Create(CultureInfo.InvariantCulture, $" {t.Probability:0.000} {t.ClassIndex} {t.Label}"));
            }
            var heading = byModel ? names[row.Model] : row.Method;
            var g = e.Geometry;
            double fx = (double)r.GridWidth / g.SourceWidth, fy = (double)r.GridHeight / g.SourceHeight;
            rows.Add(new ComparisonFigureRow(heading, lines, row.Map, new CropGeometry(g.X * fx, g.Y * fy, g.Width * fx, g.Height * fy, r.GridWidth, r.GridHeight)));
        }
        var footer = r.Pairs.Select(pair => string.Create(CultureInfo.InvariantCulture,
            $"{ReportSections.RowName(r, pair.RowA, names)} vs {ReportSections.RowName(r, pair.RowB, names)}: Spearman ρ {pair.Spearman:0.000}, IoU of the top {r.TopFraction * 100:0}% {pair.TopIoU:0.000}")).ToList();
        footer.Add($"agreement over the {r.ComparedPixels} pixels every model saw, on a {r.GridWidth}×{r.GridHeight} grid of the original image");
        var cls = r.Rows[0].Explanation;
        string title = byModel
            ? $"{image}: where do {string.Join(" and ", names)} look for class {cls.ClassIndex} ({cls.Label})?"
            : $"{image}: {string.Join(", ", request.Methods)} on {names[0]} for class {cls.ClassIndex} ({cls.Label})";
        return ComparisonFigure.Draw(r.Original, r.GridWidth, r.GridHeight, rows, footer, title, cm, alpha);
    }

    private static Dictionary<string, object?> Record(string file, ComparisonResult r, List<string> names, List<(string Name, SalientModel Model)> models, string png) => new()
    {
        ["schema"] = JsonSchema.Version,
        ["image"] = file,
        ["status"] = "ok",
        ["image_size"] = new[] { r.Original.Width, r.Original.Height },
        ["models"] = models.Select((m, i) => new Dictionary<string, object?>
        {
            ["name"] = names[i],
            ["model"] = m.Model.Path,
            ["input"] = m.Model.Input.Describe(),
            ["preprocessing"] = m.Model.Preprocessing.Name,
            ["resize"] = m.Model.Resize.ToString().ToLowerInvariant(),
            ["top"] = r.Top[i].Select(t => new Dictionary<string, object> { ["class"] = t.ClassIndex, ["label"] = t.Label, ["probability"] = t.Probability, ["logit"] = t.Logit }).ToList(),
        }).ToList(),
        ["rows"] = r.Rows.Select(row => new Dictionary<string, object?>
        {
            ["model"] = names[row.Model],
            ["method"] = row.Method,
            ["layer"] = row.Explanation.Layer,
            ["class"] = row.Explanation.ClassIndex,
            ["label"] = row.Explanation.Label,
            ["probability"] = row.Explanation.Probability,
            ["logit"] = row.Explanation.Logit,
            ["class_agnostic"] = row.Explanation.ClassAgnostic,
            ["map_shape"] = new[] { row.Explanation.Height, row.Explanation.Width },
            ["crop"] = new Dictionary<string, double> { ["x"] = row.Explanation.Geometry.X, ["y"] = row.Explanation.Geometry.Y, ["width"] = row.Explanation.Geometry.Width, ["height"] = row.Explanation.Geometry.Height },
        }).ToList(),
        ["agreement"] = r.Pairs.Select(pair => new Dictionary<string, object?>
        {
            ["a"] = new Dictionary<string, object> { ["model"] = names[r.Rows[pair.RowA].Model], ["method"] = r.Rows[pair.RowA].Method },
            ["b"] = new Dictionary<string, object> { ["model"] = names[r.Rows[pair.RowB].Model], ["method"] = r.Rows[pair.RowB].Method },
            ["spearman"] = pair.Spearman,
            ["top_iou"] = pair.TopIoU,
        }).ToList(),
        ["top_fraction"] = r.TopFraction,
        ["grid"] = new[] { r.GridWidth, r.GridHeight },
        ["compared_pixels"] = r.ComparedPixels,
        ["files"] = new Dictionary<string, object?> { ["figure"] = png },
    };
}
