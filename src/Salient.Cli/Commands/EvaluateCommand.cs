using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Salient.Evaluation;
using Salient.Explain;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Rendering;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>salient evaluate</c>: faithfulness, localization and sparsity metrics of methods' maps over images
/// (docs/evaluation.md). Per image: one forward, each method's map, all perturbed inputs in one batched
/// run; a bad image (or map, or box file entry) is one line and the others are still evaluated. Prints a
/// methods × metrics table (mean, 95 % bootstrap interval, best per column marked) and writes
/// <c>evaluation.json</c>, <c>evaluation.csv</c> (per-image rows) and <c>curves.csv</c> (deletion / insertion).
/// </summary>
internal static class EvaluateCommand
{
    public const string JsonFile = "evaluation.json", CsvFile = "evaluation.csv", CurvesFile = "curves.csv", SanityMetric = "sanity";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var images = new Argument<string[]>("images") { Description = "image files or folders", Arity = ArgumentArity.ZeroOrMore };
        var method = new Option<string>("--method") { Description = "comma-separated methods (see `salient methods`), the baselines random and sobel, and map (--map)", DefaultValueFactory = _ => "gradcam,random" };
        var metric = new Option<string>("--metric") { Description = $"comma-separated metrics: {string.Join(", ", MetricNames.All)}, sanity (the randomization cascade, as `salient sanity`)", DefaultValueFactory = _ => "deletion,insertion" };
        var map = new Option<string?>("--map") { Description = "a map file (.npy, H×W float32/64) for the single image, or a folder of STEM.npy named like the images: the method 'map'" };
        var boxes = new Option<string?>("--boxes") { Description = "boxes for pointing / energy-pointing, in original-image pixels: JSON list of {\"image\", \"class\", \"box\": [x0,y0,x1,y1]}, Pascal VOC XML (a file or a folder of .xml) or COCO JSON" };
        var layer = new Option<string>("--layer", "-l") { Description = "target layer of CAM methods: auto | NAME", DefaultValueFactory = _ => "auto" };
        var cls = new Option<string>("--class", "-c") { Description = "the class evaluated per image: auto (top-1) | INDEX | LABEL", DefaultValueFactory = _ => "auto" };
        var steps = new Option<int>("--steps") { Description = "deletion / insertion steps", DefaultValueFactory = _ => 50 };
        var baseline = new Option<string>("--baseline") { Description = "deletion / insertion baseline: blur | black | mean", DefaultValueFactory = _ => "blur" };
        var percentiles = new Option<string>("--percentiles") { Description = "ROAD percentiles", DefaultValueFactory = _ => "10,20,30,40,50,60,70,80,90" };
        var seed = new Option<int>("--seed") { Description = "seed of the random baseline, ROAD noise and the bootstrap", DefaultValueFactory = _ => 0 };
        var target = new Option<string>("--target") { Description = "score: prob (the --class class's softmax probability) | logit | any explain target (segmentation:C, similarity:IMAGE, … — what the maps explain and what is measured; docs/targets.md)", DefaultValueFactory = _ => "prob" };
        var param = new Option<string[]>("--param") { Description = "NAME=VALUE: noise=0.01 (ROAD imputation noise; 0: deterministic) or a method parameter (repeatable)", Arity = ArgumentArity.ZeroOrMore };
        var outDir = new Option<string>("--out", "-o") { Description = "output folder", DefaultValueFactory = _ => "salient-out" };
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout (schema in docs/evaluation.md); human text on stderr" };
        var force = new Option<bool>("--force") { Description = $"replace the {JsonFile} of an earlier run in --out" };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "also read images in subfolders of folder arguments" };
        var sanityStepsOption = new Option<int>("--sanity-steps") { Description = "--metric sanity: randomization steps (cumulative groups of layers from the logits down)", DefaultValueFactory = _ => 5 };
        var memory = new Option<string>("--memory") { Description = "memory budget for batches, e.g. 512M, 2G", DefaultValueFactory = _ => "1G" };
        var html = new Option<bool>("--html") { Description = $"also write one self-contained HTML page (the method × metric table, each image's maps), OUT/{ReportOutput.FileName}" };

        var cmd = new Command("evaluate", "score explanation methods: deletion, insertion, ROAD, confidence change, pointing game, sparsity");
        cmd.Arguments.Add(images);
        common.AddTo(cmd);
        foreach (var o in new Option[] { method, metric, map, boxes, layer, cls, steps, baseline, percentiles, seed, target, param, outDir, json, force, recursive, memory, sanityStepsOption, html }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var metricList = ExplainCommand.Split(p.GetValue(metric)!).ToList();
            bool sanity = metricList.RemoveAll(m => m.Equals(SanityMetric, StringComparison.OrdinalIgnoreCase)) > 0;
            var metrics = metricList.Count == 0 && sanity ? [] : MetricNames.Parse(string.Join(",", metricList));
            var methods = ExplainCommand.Split(p.GetValue(method)!).Select(m => m.ToLowerInvariant()).Distinct().ToList();
            if (methods.Count == 0) throw new SalientException("--method: no method given");
            if (sanity && methods.All(m => m is BaselineMaps.Random or BaselineMaps.Sobel or "map"))
                throw new SalientException("--metric sanity needs at least one method that reads the model (e.g. gradcam)");
            var special = new[] { BaselineMaps.Random, BaselineMaps.Sobel, "map" };
            var salientMethods = methods.Where(m => !special.Contains(m)).ToList();
            foreach (var m in salientMethods) MethodRegistry.Get(m); // did-you-mean on a typo
            string? mapPath = p.GetValue(map);
            if (methods.Contains("map") != (mapPath is not null))
                throw new SalientException(mapPath is null ? "method 'map' needs --map FILE.npy or a folder of .npy files" : "--map given: add 'map' to --method");
            var parameters = MethodOptions.ParseParams(p.GetValue(param));
            double noise = 0.01;
            if (parameters.Remove("noise", out var noiseText) && !(double.TryParse(noiseText, NumberStyles.Float, CultureInfo.InvariantCulture, out noise) && noise >= 0 && double.IsFinite(noise)))
                throw new SalientException($"--param noise='{noiseText}' must be a number ≥ 0");
            if (salientMethods.Count > 0) ParameterCheck.Validate(salientMethods.Select(MethodRegistry.Get).ToList(), parameters);
            else if (parameters.Count > 0) throw new SalientException($"--param {parameters.Keys.First()}: no method takes it");
            int n = p.GetValue(steps);
            if (n is < 1 or > 10000) throw new SalientException($"--steps {n} must be between 1 and 10000");
            var baselineName = p.GetValue(baseline)!.Trim().ToLowerInvariant();
            var baselineKind = baselineName switch
            {
                "blur" => DeletionBaseline.Blur, "black" => DeletionBaseline.Black, "mean" => DeletionBaseline.Mean,
                _ => throw new SalientException($"--baseline '{p.GetValue(baseline)}' must be blur, black or mean"),
            };
            var targetName = p.GetValue(target)!.Trim().ToLowerInvariant();
            // prob (default) and logit: the --class class's; any other target (docs/targets.md) is what the maps explain and what is measured.
            Target? anyTarget = targetName is "prob" or "probability" or "logit" ? null : Target.Parse(p.GetValue(target)!);
            if (anyTarget is not null && anyTarget is not ClassTarget && !p.GetValue(cls)!.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
                throw new SalientException($"--class '{p.GetValue(cls)}' applies to class targets (logit, prob, sigmoid), not to --target '{p.GetValue(target)}'");
            var targetKind = targetName == "logit" ? ScoreTarget.Logit : ScoreTarget.Probability;
            if (anyTarget is not null && sanity)
                throw new SalientException($"the sanity check compares class maps; run it without --target '{p.GetValue(target)}'");
            var ps = ExplainCommand.Split(p.GetValue(percentiles)!).Select(s =>
                double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && v < 100 ? v
                    : throw new SalientException($"--percentiles: '{s}' must be a number between 0 and 100 (exclusive)")).ToList();
            if (ps.Count == 0) throw new SalientException("--percentiles: no percentile given");
            int seedValue = p.GetValue(seed);
            int sanitySteps = SanityCommand.CheckSteps(p.GetValue(sanityStepsOption));
            var options = new EvaluationOptions
            {
                Steps = n, Baseline = baselineKind, Percentiles = ps, Noise = noise, Seed = seedValue, Target = targetKind, TargetSpec = anyTarget?.ToString(),
                MemoryBudget = ExplainCommand.ParseMemory(p.GetValue(memory)!),
            };
            bool asJson = p.GetValue(json);
            var human = asJson ? stderr : stdout;
            var files = CommonOptions.ExpandImages(p.GetValue(images), "evaluate", p.GetValue(recursive));
            if (mapPath is not null && !Directory.Exists(mapPath) && files.Count > 1)
                throw new SalientException($"--map {mapPath} is one file but {files.Count} images are given; pass a folder of .npy files named like the images");
            string dir = p.GetValue(outDir)!;
            if (File.Exists(Path.Combine(dir, JsonFile)) && !p.GetValue(force))
                throw new SalientException($"'{dir}' already holds {JsonFile}; --force replaces it, or choose another --out");
            using var model = common.LoadModel(p, stderr);
            var boxList = p.GetValue(boxes) is { } bp ? BoxFile.Read(bp, model, stderr.WriteLine) : null;
            if (boxList is not null)
            {
                var names = files.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
                foreach (var unknown in boxList.Select(b => b.Image).Distinct().Where(i => !names.Contains(Path.GetFileName(i))))
                    stderr.WriteLine($"warning: {p.GetValue(boxes)}: boxes for '{unknown}', which is not among the images");
            }
            else if (metrics.Any(MetricNames.NeedsBoxes))
                throw new SalientException("pointing and energy-pointing need --boxes FILE.json");

            var rows = new List<(string Image, int Class, MetricValue Value)>();
            var errors = new List<(string Image, string Error)>();
            var page = p.GetValue(html) ? new List<Reporting.ImageReport>() : null;
            string? pagePath = page is null ? null : ReportOutput.Guard(dir, p.GetValue(force));
            using var ctrlC = new CtrlC();
            bool interrupted = ProgressDisplay.Run(human, "evaluate", files.Count, "images", display =>
            {
                for (int i = 0; i < files.Count && metrics.Count > 0; i++)
                {
                    if (ctrlC.Token.IsCancellationRequested) return true;
                    var file = files[i];
                    try
                    {
                        var values = EvaluateImage(model, file, methods, salientMethods, metrics, options, p.GetValue(cls)!, ExplainCommand.Split(p.GetValue(layer)!), parameters, mapPath, boxList, seedValue + i, anyTarget, out int c,
                            page is null ? null : (image, logits, explanations) => page.Add(Reporting.ReportSections.Explained(Path.GetFileName(file), image,
                                ReportOutput.ModelName(model), ReportOutput.Top(model, logits), ReportOutput.Distinct(explanations))));
                        foreach (var v in values) rows.Add((file, c, v));
                        display.Advance(i + 1, display.Interactive ? null : $"{file}: class {c}, {values.Count} values");
                    }
                    catch (SalientException e)
                    {
                        errors.Add((file, Program.CliWording(e.Message)));
                        stderr.WriteLine($"error: {file}: {Program.CliWording(e.Message)}");
                        display.Advance(i + 1, null);
                    }
                }
                return false;
            }, enabled: files.Count > 1);

            var summary = Summarize(rows, methods, metrics, seedValue);
            var document = Document(model, metrics, options, summary, errors);
            OutputFolder.Create(dir);
            if (sanity && !interrupted)
            {
                var modelMethods = salientMethods.ToList();
                var report = SanityCommand.Run(model, files, modelMethods, sanitySteps, seedValue, p.GetValue(cls)!, ExplainCommand.Split(p.GetValue(layer)!), parameters, human, stderr);
                document["sanity"] = SanityCommand.Write(report, model, dir, seedValue, human);
                foreach (var e in report.Errors) if (!errors.Contains(e)) errors.Add(e);
            }
            string jsonPath = Path.Combine(dir, JsonFile), csvPath = Path.Combine(dir, CsvFile), curvesPath = Path.Combine(dir, CurvesFile);
            var text = JsonSerializer.Serialize(document, FiniteJson.Indented);
            OutputFolder.Guard(jsonPath, () => File.WriteAllText(jsonPath, text + "\n"));
            OutputFolder.Guard(csvPath, () => File.WriteAllText(csvPath, Csv(rows)));
            if (rows.Any(r => r.Value.Curve is not null && r.Value.Metric is MetricNames.Deletion or MetricNames.Insertion))
                OutputFolder.Guard(curvesPath, () => File.WriteAllText(curvesPath, Curves(rows)));
            var plots = WritePlots(dir, rows, summary, methods, metrics);
            if (asJson) stdout.WriteLine(JsonSerializer.Serialize(document, FiniteJson.Compact));
            if (page is not null)
            {
                ReportOutput.Write(pagePath!, new Reporting.ReportDocument
                {
                    Title = $"Salient evaluation: {string.Join(", ", methods)} on {(files.Count == 1 ? Path.GetFileName(files[0]) : $"{files.Count} images")}",
                    Images = page, Metrics = ReportOutput.MetricTable(summary, methods, metrics),
                    Models = [Reporting.ReportSections.Model(model, ReportOutput.ModelName(model))],
                    Made = ReportOutput.Provenance(p), Notes = errors.Select(e => $"failed: {e.Image}: {e.Error}").ToList(),
                });
                human.WriteLine($"wrote {pagePath}");
            }
            if (metrics.Count > 0) PrintTable(human, summary, methods, metrics);
            human.WriteLine($"wrote {jsonPath}, {csvPath}{(File.Exists(curvesPath) ? $", {curvesPath}" : "")}{(plots > 0 ? $" and {plots} plots (PNG)" : "")}");
            if (errors.Count > 0) stderr.WriteLine($"{errors.Count} of {files.Count} images failed (listed above); the others were evaluated");
            if (interrupted) { stderr.WriteLine($"interrupted: {rows.Select(r => r.Image).Distinct().Count()} images evaluated"); return CtrlC.ExitCode; }
            return errors.Count > 0 ? 1 : 0;
        });
        return cmd;
    }

    /// <summary>One image: forward, class, every method's map on the input grid, the metrics.</summary>
    private static IReadOnlyList<MetricValue> EvaluateImage(SalientModel model, string file, List<string> methods, List<string> salientMethods,
        IReadOnlyList<string> metrics, EvaluationOptions options, string classSpec, List<string> layers, Dictionary<string, string> parameters,
        string? mapPath, List<BoxFile.Entry>? boxList, int seed, Target? target, out int cls, Action<RgbImage, float[], IReadOnlyList<Explanation>>? shown = null)
    {
        var image = model.LoadImage(file);
        var item = model.Prepare(image);
        TargetScore? score = null;
        float[] logits;
        if (target is null)
        {
            logits = model.Run([item])[model.Structure().LogitsName].Data;
            cls = model.ResolveClass(classSpec, logits);
        }
        else
        {
            // The target's first slot for this image (its class, mask or box fixed on the image as given), scored on every perturbed input.
            var structure = model.Structure();
            var binding = target.Bind(model, structure);
            logits = model.Run([item], binding.ScoreTensor)[binding.ScoreTensor].Data;
            int slot = binding.Resolve(new TargetResolution(model, structure, [item], [logits], [[classSpec]]))[0][0];
            cls = binding.Describe(slot).ClassIndex;
            score = new TargetScore(binding.ScoreTensor, row => binding.Score(row, slot));
        }
        int h = item.Height, w = item.Width;
        var maps = new Dictionary<string, float[]>();
        Dictionary<string, float[]>? computed = null;
        if (salientMethods.Count > 0)
        {
            var result = Explainer.Explain(model, [item], new ExplainRequest
            {
                Methods = salientMethods, Layers = layers, Parameters = parameters, MemoryBudgetBytes = options.MemoryBudget,
                Classes = target is null ? [cls.ToString(CultureInfo.InvariantCulture)] : [classSpec], Target = target,
            });
            shown?.Invoke(image, result.Logits[0], result.Explanations);
            computed = result.Explanations.GroupBy(e => e.Method).ToDictionary(g => g.Key, g =>
            {
                var e = g.First();
                var m = e.Height == h && e.Width == w ? e.Normalized : MapMath.ResizeBilinear(e.Normalized, e.Height, e.Width, h, w);
                return Array.ConvertAll(m, v => Math.Clamp(v, 0f, 1f));
            }, StringComparer.OrdinalIgnoreCase);
        }
        foreach (var m in methods)
            maps[m] = m switch
            {
                BaselineMaps.Random => BaselineMaps.RandomMap(h, w, seed),
                BaselineMaps.Sobel => BaselineMaps.SobelMap(item),
                "map" => MapFile.Load(mapPath!, file, item),
                _ => computed![m],
            };
        int c = cls;
        var boxes = boxList?.Where(b => Path.GetFileName(b.Image) == Path.GetFileName(file) && b.Class == c).Select(b => b.Box).ToList();
        var wanted = metrics.Where(m => !MetricNames.NeedsBoxes(m) || boxes is { Count: > 0 }).ToList();
        return Evaluator.Evaluate(model, new EvaluationCase(item, c, maps, boxes) { Target = score }, wanted, options, logits);
    }

    internal sealed record Summary(string Method, string Metric, double Mean, double Low, double High, int N, List<(string Image, int Class, double Value)> PerImage);

    internal static List<Summary> Summarize(List<(string Image, int Class, MetricValue Value)> rows, List<string> methods, IReadOnlyList<string> metrics, int seed)
    {
        var list = new List<Summary>();
        foreach (var m in methods)
            foreach (var k in metrics)
            {
                var per = rows.Where(r => r.Value.Method == m && r.Value.Metric == k).Select(r => (r.Image, r.Class, r.Value.Value)).ToList();
                if (per.Count == 0) continue;
                var (mean, lo, hi) = Bootstrap.Interval(per.Select(r => r.Value).ToList(), seed);
                list.Add(new Summary(m, k, mean, lo, hi, per.Count, per));
            }
        return list;
    }

    private static Dictionary<string, object?> Document(SalientModel model, IReadOnlyList<string> metrics, EvaluationOptions o, List<Summary> summary, List<(string Image, string Error)> errors) => new()
    {
        ["schema"] = JsonSchema.Version,
        ["model"] = model.Path,
        ["options"] = new Dictionary<string, object>
        {
            ["steps"] = o.Steps, ["baseline"] = o.Baseline.ToString().ToLowerInvariant(), ["percentiles"] = o.Percentiles, ["noise"] = o.Noise,
            ["seed"] = o.Seed, ["target"] = o.TargetSpec ?? (o.Target == ScoreTarget.Logit ? "logit" : "prob"),
        },
        ["metrics"] = metrics,
        ["results"] = summary.Select(s => new Dictionary<string, object>
        {
            ["method"] = s.Method, ["metric"] = s.Metric, ["mean"] = s.Mean, ["ci95"] = new[] { s.Low, s.High }, ["n"] = s.N,
            ["higher_is_better"] = MetricNames.HigherIsBetter(s.Metric),
            ["per_image"] = s.PerImage.Select(r => new Dictionary<string, object> { ["image"] = r.Image, ["class"] = r.Class, ["value"] = r.Value }).ToList(),
        }).ToList(),
        ["errors"] = errors.Select(e => new Dictionary<string, string> { ["image"] = e.Image, ["error"] = e.Error }).ToList(),
    };

    private static string Csv(List<(string Image, int Class, MetricValue Value)> rows)
    {
        var sb = new StringBuilder("image,class,method,metric,value\n");
        foreach (var (image, c, v) in rows)
            sb.Append(CultureInfo.InvariantCulture, $"{Quote(image)},{c},{v.Method},{v.Metric},{v.Value.ToString("R", CultureInfo.InvariantCulture)}\n");
        return sb.ToString();
    }

    private static string Curves(List<(string Image, int Class, MetricValue Value)> rows)
    {
        var sb = new StringBuilder("image,class,method,metric,step,fraction,score\n");
        foreach (var (image, c, v) in rows.Where(r => r.Value.Curve is not null && r.Value.Metric is MetricNames.Deletion or MetricNames.Insertion))
        {
            int n = v.Curve!.Length - 1;
            for (int k = 0; k <= n; k++)
                sb.Append(CultureInfo.InvariantCulture, $"{Quote(image)},{c},{v.Method},{v.Metric},{k},{(double)k / n:R},{v.Curve[k]:R}\n");
        }
        return sb.ToString();
    }

    /// <summary>
    /// PNG plots into <paramref name="dir"/>: per image × method <c>curves_STEM_METHOD.png</c> (the deletion and
    /// insertion curves: score over the fraction of pixels changed, with their AUC), and per metric
    /// <c>leaderboard_METRIC.png</c> (a bar per method: the mean, the 95 % bootstrap interval as a whisker, the
    /// best highlighted). Returns how many were written.
    /// </summary>
    private static int WritePlots(string dir, List<(string Image, int Class, MetricValue Value)> rows, List<Summary> summary, List<string> methods, IReadOnlyList<string> metrics)
    {
        int count = 0;
        void Save(string name, RgbImage image)
        {
            string path = Path.Combine(dir, name);
            OutputFolder.Guard(path, () => ImageWriter.SavePng(image, path));
            count++;
        }
        var curves = rows.Where(r => r.Value.Curve is not null && r.Value.Metric is MetricNames.Deletion or MetricNames.Insertion).ToList();
        foreach (var g in curves.GroupBy(r => (r.Image, r.Value.Method)))
        {
            var series = g.Select((r, i) =>
            {
                int n = r.Value.Curve!.Length - 1;
                var xs = Enumerable.Range(0, n + 1).Select(k => (double)k / n).ToList();
                string name = string.Create(CultureInfo.InvariantCulture, $"{r.Value.Metric} (AUC {r.Value.Value:0.000})");
                return new ChartSeries(name, xs, r.Value.Curve, r.Value.Metric == MetricNames.Deletion ? Charts.Palette[0] : Charts.Palette[1]);
            }).ToList();
            var first = g.First();
            Save($"curves_{Path.GetFileNameWithoutExtension(g.Key.Image)}_{g.Key.Method}.png",
                Charts.Lines($"{Path.GetFileName(g.Key.Image)} · {g.Key.Method} · class {first.Class}", "fraction of pixels removed (deletion) / inserted (insertion)", "score", series));
        }
        foreach (var k in metrics)
        {
            var col = summary.Where(s => s.Metric == k).ToList();
            if (col.Count == 0) continue;
            bool up = MetricNames.HigherIsBetter(k);
            double best = up ? col.Max(s => s.Mean) : col.Min(s => s.Mean);
            var bars = methods.Select(m => col.FirstOrDefault(s => s.Method == m)).Where(s => s is not null)
                .Select(s => new ChartBar(s!.Method, s.Mean, s.Low, s.High, col.Count > 1 && s.Mean == best)).ToList();
            int n = col.Max(s => s.N);
            Save($"leaderboard_{k}.png", Charts.Bars($"{k} {(up ? "↑" : "↓")} · mean, 95% bootstrap interval, {n} image{(n == 1 ? "" : "s")}", $"{k} ({(up ? "higher" : "lower")} is better)", bars));
        }
        return count;
    }

    /// <summary>A CSV field, quoted when it holds a comma, quote or line break.</summary>
    internal static string Quote(string s) => s.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{s.Replace("\"", "\"\"")}\"" : s;

    /// <summary>Methods × metrics: "mean [lo, hi]", the best mean per column marked with *.</summary>
    private static void PrintTable(TextWriter w, List<Summary> summary, List<string> methods, IReadOnlyList<string> metrics)
    {
        var cols = metrics.Where(k => summary.Any(s => s.Metric == k)).ToList();
        if (cols.Count == 0) { w.WriteLine("no metric could be computed"); return; }
        var cells = new string[methods.Count + 1, cols.Count + 1];
        cells[0, 0] = "method";
        for (int j = 0; j < cols.Count; j++)
        {
            var k = cols[j];
            bool up = MetricNames.HigherIsBetter(k);
            cells[0, j + 1] = $"{k} {(up ? "↑" : "↓")}";
            var col = summary.Where(s => s.Metric == k).ToList();
            double best = up ? col.Max(s => s.Mean) : col.Min(s => s.Mean);
            for (int i = 0; i < methods.Count; i++)
            {
                var s = col.FirstOrDefault(x => x.Method == methods[i]);
                cells[i + 1, j + 1] = s is null ? "–" : string.Create(CultureInfo.InvariantCulture, $"{s.Mean:0.000} [{s.Low:0.000}, {s.High:0.000}]{(s.Mean == best && col.Count > 1 ? " *" : "")}");
            }
        }
        for (int i = 0; i < methods.Count; i++) cells[i + 1, 0] = methods[i];
        var width = Enumerable.Range(0, cols.Count + 1).Select(j => Enumerable.Range(0, methods.Count + 1).Max(i => cells[i, j].Length)).ToArray();
        for (int i = 0; i <= methods.Count; i++)
            w.WriteLine(string.Join("  ", Enumerable.Range(0, cols.Count + 1).Select(j => cells[i, j].PadRight(width[j]))).TrimEnd());
        w.WriteLine("mean [95% bootstrap interval] over images; * best per column; ↑ higher is better, ↓ lower is better");
    }

}

/// <summary>Maps from .npy files for the method 'map'.</summary>
internal static class MapFile
{
    /// <summary>
    /// The map of <paramref name="image"/>: the file itself, or <c>STEM.npy</c> in the folder. H×W (or 1×H×W):
    /// on the model's input grid as is; at the original image's size, sampled (bilinearly) at the input
    /// pixels' centres. Values outside [0, 1] are min–max scaled.
    /// </summary>
    public static float[] Load(string mapPath, string image, PreparedInput item)
    {
        string file = Directory.Exists(mapPath) ? Path.Combine(mapPath, Path.GetFileNameWithoutExtension(image) + ".npy") : mapPath;
        if (!File.Exists(file)) throw new SalientException($"no map for this image: '{file}' does not exist");
        float[] data;
        int[] shape;
        try { (data, shape) = Npy.Read(file); }
        catch (Exception e) when (e is not SalientException) { throw new SalientException($"cannot read the map '{file}': {e.Message}"); }
        var dims = shape.Where((d, i) => !(d == 1 && i < shape.Length - 2)).ToArray();
        if (dims.Length != 2) throw new SalientException($"the map '{file}' has shape [{string.Join(",", shape)}]; expected H×W");
        int mh = dims[0], mw = dims[1], h = item.Height, w = item.Width;
        var g = item.Geometry;
        float[] map;
        if (mh == h && mw == w) map = data;
        else if (mh == g.SourceHeight && mw == g.SourceWidth)
        {
            map = new float[h * w];
            for (int v = 0; v < h; v++)
                for (int u = 0; u < w; u++)
                {
                    var (x, y) = MapMetrics.ToSource(g, u, v, w, h);
                    map[v * w + u] = Sample(data, mh, mw, x - 0.5, y - 0.5);
                }
        }
        else throw new SalientException($"the map '{file}' is {mw}×{mh} (W×H); expected the model's input grid {w}×{h} or the image's {g.SourceWidth}×{g.SourceHeight}");
        if (map.Any(v => !float.IsFinite(v))) throw new SalientException($"the map '{file}' holds NaN or infinite values");
        return map.All(v => v is >= 0 and <= 1) ? map : MapMath.NormalizeMinMax(map);
    }

    private static float Sample(float[] m, int h, int w, double x, double y)
    {
        x = Math.Clamp(x, 0, w - 1);
        y = Math.Clamp(y, 0, h - 1);
        int x0 = (int)x, y0 = (int)y, x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
        double fx = x - x0, fy = y - y0;
        return (float)((1 - fy) * ((1 - fx) * m[y0 * w + x0] + fx * m[y0 * w + x1]) + fy * ((1 - fx) * m[y1 * w + x0] + fx * m[y1 * w + x1]));
    }
}

/// <summary>
/// Boxes for the pointing games, in the original image's pixels: a JSON list of {"image": NAME, "class":
/// INDEX|LABEL, "box": [x0, y0, x1, y1]}; Pascal VOC XML (one .xml file or a folder of them); or COCO JSON
/// (an object with "images", "annotations" and "categories"). VOC and COCO classes are matched to the
/// model's labels by name; a name the model does not know is one warning line and its boxes are skipped.
/// </summary>
internal static class BoxFile
{
    internal sealed record Entry(string Image, int Class, Box Box);

    public static List<Entry> Read(string path, SalientModel model, Action<string>? warn = null)
    {
        warn ??= _ => { };
        if (Directory.Exists(path))
        {
            var files = Directory.GetFiles(path, "*.xml").Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new SalientException($"the boxes folder '{path}' holds no Pascal VOC .xml file");
            return ReadVoc(files, model, warn);
        }
        if (path.EndsWith(".xml", StringComparison.OrdinalIgnoreCase)) return ReadVoc([path], model, warn);
        JsonElement root;
        try { root = JsonDocument.Parse(File.ReadAllText(path)).RootElement; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        { throw new SalientException($"cannot read the boxes '{path}': {e.Message.Split('\n')[0]}"); }
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("annotations", out _)) return ReadCoco(path, root, model, warn);
        return ReadSimple(path, root, model);
    }

    /// <summary>A class named by a dataset (VOC object name, COCO category name): an index or one of the model's labels; null if unknown.</summary>
    private static int? ClassByName(SalientModel model, string name, HashSet<string> warned, Action<string> warn, string path)
    {
        int classes = model.Structure().ClassCount;
        var n = name.Trim();
        bool special = n.Length == 0 || n.Equals("auto", StringComparison.OrdinalIgnoreCase)
            || System.Text.RegularExpressions.Regex.IsMatch(n, "^(top|rank)[0-9]+$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        if (!special)
            try { return model.ResolveClass(n, new float[classes]); }
            catch (SalientException e) { if (warned.Add(n)) warn($"warning: {path}: class '{n}' skipped: {e.Message}"); return null; }
        if (warned.Add(n)) warn($"warning: {path}: class '{n}' is not a class name; its boxes are skipped");
        return null;
    }

    private static Box CheckedBox(double x0, double y0, double x1, double y1, string where) =>
        new[] { x0, y0, x1, y1 }.Any(d => !double.IsFinite(d)) || x1 <= x0 || y1 <= y0
            ? throw new SalientException($"{where}: the box must have x0 < x1 and y0 < y1 (got [{x0}, {y0}, {x1}, {y1}])")
            : new Box(x0, y0, x1, y1);

    /// <summary>
    /// Pascal VOC: per file &lt;filename&gt; and each &lt;object&gt;'s &lt;name&gt; and &lt;bndbox&gt; (xmin, ymin, xmax, ymax:
    /// 1-based pixel indices, inclusive). The box covers those pixels: [xmin − 1, ymin − 1, xmax, ymax] in pixel-edge coordinates.
    /// </summary>
    private static List<Entry> ReadVoc(List<string> files, SalientModel model, Action<string> warn)
    {
        var list = new List<Entry>();
        var warned = new HashSet<string>(StringComparer.Ordinal);
        var settings = new System.Xml.XmlReaderSettings { DtdProcessing = System.Xml.DtdProcessing.Prohibit, XmlResolver = null };
        foreach (var file in files)
        {
            System.Xml.Linq.XDocument doc;
            try { using var reader = System.Xml.XmlReader.Create(file, settings); doc = System.Xml.Linq.XDocument.Load(reader); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Xml.XmlException)
            { throw new SalientException($"cannot read the boxes '{file}': {e.Message.Split('\n')[0]}"); }
            var ann = doc.Root;
            string? image = ann?.Element("filename")?.Value.Trim();
            if (ann is null || ann.Name.LocalName != "annotation" || string.IsNullOrEmpty(image))
                throw new SalientException($"{file}: not a Pascal VOC annotation (needs <annotation> with <filename>)");
            int k = 0;
            foreach (var obj in ann.Elements("object"))
            {
                string where = $"{file}, object {k++}";
                string name = obj.Element("name")?.Value ?? "";
                var bb = obj.Element("bndbox");
                double V(string tag) => bb?.Element(tag) is { } el && double.TryParse(el.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
                    : throw new SalientException($"{where}: <bndbox> needs numeric <xmin>, <ymin>, <xmax>, <ymax>");
                var box = CheckedBox(V("xmin") - 1, V("ymin") - 1, V("xmax"), V("ymax"), where);
                if (ClassByName(model, name, warned, warn, file) is { } cls) list.Add(new Entry(image, cls, box));
            }
        }
        return list;
    }

    /// <summary>COCO: "bbox": [x, y, width, height] in pixel-edge coordinates → [x, y, x + width, y + height]; the image by "file_name", the class by the category's "name".</summary>
    private static List<Entry> ReadCoco(string path, JsonElement root, SalientModel model, Action<string> warn)
    {
        if (!root.TryGetProperty("images", out var images) || images.ValueKind != JsonValueKind.Array
            || !root.TryGetProperty("categories", out var categories) || categories.ValueKind != JsonValueKind.Array
            || root.GetProperty("annotations").ValueKind != JsonValueKind.Array)
            throw new SalientException($"the COCO boxes '{path}' need the lists \"images\", \"annotations\" and \"categories\"");
        static long? Id(JsonElement e) => e.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && id.TryGetInt64(out var v) ? v : null;
        var names = new Dictionary<long, string>();
        foreach (var im in images.EnumerateArray())
            if (Id(im) is { } id && im.TryGetProperty("file_name", out var fn) && fn.ValueKind == JsonValueKind.String) names[id] = fn.GetString()!;
            else throw new SalientException($"{path}: every image needs a numeric \"id\" and a \"file_name\"");
        var warned = new HashSet<string>(StringComparer.Ordinal);
        var classOf = new Dictionary<long, int?>();
        foreach (var cat in categories.EnumerateArray())
            if (Id(cat) is { } id && cat.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String) classOf[id] = ClassByName(model, nm.GetString()!, warned, warn, path);
            else throw new SalientException($"{path}: every category needs a numeric \"id\" and a \"name\"");
        var list = new List<Entry>();
        int i = 0;
        foreach (var a in root.GetProperty("annotations").EnumerateArray())
        {
            string where = $"{path}, annotation {i++}";
            if (!(a.TryGetProperty("image_id", out var imgId) && imgId.TryGetInt64(out var iid) && names.TryGetValue(iid, out var image)))
                throw new SalientException($"{where}: \"image_id\" names no image of \"images\"");
            if (!(a.TryGetProperty("category_id", out var catId) && catId.TryGetInt64(out var cid) && classOf.TryGetValue(cid, out var cls)))
                throw new SalientException($"{where}: \"category_id\" names no category of \"categories\"");
            if (!a.TryGetProperty("bbox", out var bbox) || bbox.ValueKind != JsonValueKind.Array || bbox.GetArrayLength() != 4)
                throw new SalientException($"{where}: \"bbox\" must be [x, y, width, height]");
            var v = bbox.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number ? x.GetDouble() : double.NaN).ToArray();
            var box = CheckedBox(v[0], v[1], v[0] + v[2], v[1] + v[3], where);
            if (cls is { } c) list.Add(new Entry(image, c, box));
        }
        return list;
    }

    private static List<Entry> ReadSimple(string path, JsonElement root, SalientModel model)
    {
        if (root.ValueKind != JsonValueKind.Array) throw new SalientException($"the boxes '{path}' must be a JSON list of {{\"image\", \"class\", \"box\"}}");
        var list = new List<Entry>();
        int i = 0;
        foreach (var e in root.EnumerateArray())
        {
            string where = $"{path}, entry {i++}";
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("image", out var img) || img.ValueKind != JsonValueKind.String
                || !e.TryGetProperty("class", out var c) || !e.TryGetProperty("box", out var b) || b.ValueKind != JsonValueKind.Array || b.GetArrayLength() != 4)
                throw new SalientException($"{where}: needs \"image\" (a name), \"class\" and \"box\": [x0, y0, x1, y1]");
            int cls = c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var ci) ? ci
                : c.ValueKind == JsonValueKind.String ? model.ResolveClass(c.GetString()!, new float[model.Structure().ClassCount])
                : throw new SalientException($"{where}: \"class\" must be an index or a label");
            if (cls < 0 || cls >= model.Structure().ClassCount) throw new SalientException($"{where}: class {cls} is out of range (the model has {model.Structure().ClassCount} classes)");
            var v = b.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number ? x.GetDouble() : double.NaN).ToArray();
            if (v.Any(d => !double.IsFinite(d)) || v[2] <= v[0] || v[3] <= v[1]) throw new SalientException($"{where}: \"box\" must be [x0, y0, x1, y1] with x0 < x1, y0 < y1");
            list.Add(new Entry(img.GetString()!, cls, new Box(v[0], v[1], v[2], v[3])));
        }
        return list;
    }
}
