using System.CommandLine;
using System.Globalization;
using Salient.Evaluation;
using Salient.Explain;
using Salient.Methods;
using Salient.Models;
using Salient.Rendering;
using Salient.Reporting;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>salient report</c>: explain images and write ONE self-contained HTML page (docs/report.md) — per
/// image the predictions and every method's map over the original with an opacity slider, with
/// <c>--evaluate</c> a method × metric table, the model summary and how the page was made.
/// </summary>
internal static class ReportCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var images = new Argument<string[]>("images") { Description = "image files or folders", Arity = ArgumentArity.ZeroOrMore };
        var method = new Option<string>("--method") { Description = "comma-separated methods (see `salient methods`)", DefaultValueFactory = _ => "gradcam" };
        var layer = new Option<string>("--layer", "-l") { Description = "target layer: auto | NAME | NAME1,NAME2 (maps averaged)", DefaultValueFactory = _ => "auto" };
        var cls = new Option<string>("--class", "-c") { Description = "class(es) to explain: auto (top-1) | topK | rankK | INDEX | LABEL, comma-separated", DefaultValueFactory = _ => "auto" };
        var evaluate = new Option<bool>("--evaluate") { Description = "also score the methods (--metric) and show the method × metric table" };
        var metric = new Option<string>("--metric") { Description = $"with --evaluate: comma-separated metrics ({string.Join(", ", MetricNames.All.Where(m => !MetricNames.NeedsBoxes(m)))})", DefaultValueFactory = _ => "deletion,insertion" };
        var steps = new Option<int>("--steps") { Description = "with --evaluate: deletion / insertion steps", DefaultValueFactory = _ => 50 };
        var seed = new Option<int>("--seed") { Description = "with --evaluate: seed of the ROAD noise and the bootstrap", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out", "-o") { Description = "output folder (the page is OUT/report.html)", DefaultValueFactory = _ => "salient-out" };
        var colormap = new Option<string>("--colormap") { Description = "jet | turbo | viridis | inferno | gray | coolwarm", DefaultValueFactory = _ => "jet" };
        var alpha = new Option<float>("--alpha") { Description = "initial heatmap opacity (0–1); the page has a slider per map", DefaultValueFactory = _ => 0.5f };
        var force = new Option<bool>("--force") { Description = $"replace the {ReportOutput.FileName} of an earlier run in --out" };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "also read images in subfolders of folder arguments" };
        var memory = new Option<string>("--memory") { Description = "memory budget for batches, e.g. 512M, 2G", DefaultValueFactory = _ => "1G" };
        var param = new Option<string[]>("--param") { Description = "method parameter NAME=VALUE (repeatable)", Arity = ArgumentArity.ZeroOrMore };

        var cmd = new Command("report", "explain images into one self-contained HTML page (maps with opacity sliders, predictions, model summary; --evaluate adds the metrics)");
        cmd.Arguments.Add(images);
        common.AddTo(cmd);
        foreach (var o in new Option[] { method, layer, cls, evaluate, metric, steps, seed, outDir, colormap, alpha, force, recursive, memory, param }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var cm = Colormaps.Parse(p.GetValue(colormap)!);
            float a = ReportOutput.CheckAlpha(p.GetValue(alpha));
            var methods = ExplainCommand.Split(p.GetValue(method)!).Select(m => m.ToLowerInvariant()).Distinct().ToList();
            if (methods.Count == 0) throw new SalientException("--method: no method given");
            foreach (var m in methods) MethodRegistry.Get(m);
            var parameters = MethodOptions.ParseParams(p.GetValue(param));
            ParameterCheck.Validate(methods.Select(MethodRegistry.Get).ToList(), parameters);
            bool doEvaluate = p.GetValue(evaluate);
            var metrics = doEvaluate ? MetricNames.Parse(p.GetValue(metric)!) : [];
            if (metrics.FirstOrDefault(MetricNames.NeedsBoxes) is { } boxed) throw new SalientException($"--metric {boxed} needs boxes; use `salient evaluate --boxes … --html`");
            int n = p.GetValue(steps);
            if (n is < 1 or > 10000) throw new SalientException($"--steps {n} must be between 1 and 10000");
            long budget = ExplainCommand.ParseMemory(p.GetValue(memory)!);
            var files = CommonOptions.ExpandImages(p.GetValue(images), "report", p.GetValue(recursive));
            string dir = p.GetValue(outDir)!;
            string path = ReportOutput.Guard(dir, p.GetValue(force));
            using var model = common.LoadModel(p, stderr);
            var request = new ExplainRequest
            {
                Methods = methods, Layers = ExplainCommand.Split(p.GetValue(layer)!), Classes = ExplainCommand.Split(p.GetValue(cls)!),
                Parameters = parameters, MemoryBudgetBytes = budget,
            };
            var options = new EvaluationOptions { Steps = n, Seed = p.GetValue(seed), MemoryBudget = budget };
            var sections = new List<ImageReport>();
            var notes = new List<string>();
            var rows = new List<(string Image, int Class, MetricValue Value)>();
            string name = ReportOutput.ModelName(model);
            ProgressDisplay.Run(stdout, "report", files.Count, "images", display =>
            {
                for (int i = 0; i < files.Count; i++)
                {
                    var file = files[i];
                    try
                    {
                        var image = model.LoadImage(file);
                        var item = model.Prepare(image);
                        var result = Explainer.Explain(model, [item], request);
                        var top = ReportOutput.Top(model, result.Logits[0]);
                        var section = ReportSections.Explained(Path.GetFileName(file), image, name, top, ReportOutput.Distinct(result.Explanations), cm, a);
                        if (doEvaluate)
                        {
                            int c = result.Explanations[0].ClassIndex;
                            var maps = result.Explanations.Where(e => e.ClassIndex == c).GroupBy(e => e.Method)
                                .ToDictionary(g => g.Key, g => ReportOutput.OnInputGrid(g.First(), item), StringComparer.OrdinalIgnoreCase);
                            foreach (var v in Evaluator.Evaluate(model, new EvaluationCase(item, c, maps), metrics, options, result.Logits[0])) rows.Add((file, c, v));
                        }
                        sections.Add(section);
                        display.Advance(i + 1, display.Interactive ? null : $"{file}: {result.Explanations.Count} maps");
                    }
                    catch (SalientException e)
                    {
                        notes.Add($"{file}: {Program.CliWording(e.Message)}");
                        stderr.WriteLine($"error: {file}: {Program.CliWording(e.Message)}");
                        display.Advance(i + 1, null);
                    }
                }
                return false;
            }, enabled: files.Count > 1);
            if (files.Count == 1 && sections.Count == 0) return 1;
            var document = new ReportDocument
            {
                Title = $"Salient report: {string.Join(", ", methods)} on {(files.Count == 1 ? Path.GetFileName(files[0]) : $"{files.Count} images")}",
                Images = sections,
                Models = [ReportSections.Model(model, name)],
                Metrics = doEvaluate ? ReportOutput.MetricTable(EvaluateCommand.Summarize(rows, methods, metrics, options.Seed), methods, metrics) : null,
                Made = ReportOutput.Provenance(p),
                Notes = notes.Select(x => "failed: " + x).ToList(),
            };
            ReportOutput.Write(path, document);
            stdout.WriteLine($"wrote {path}");
            return notes.Count > 0 ? 1 : 0;
        });
        return cmd;
    }
}

/// <summary>What explain, compare, evaluate and report share to write <c>report.html</c>.</summary>
internal static class ReportOutput
{
    public const string FileName = "report.html";

    /// <summary>The page's path in <paramref name="dir"/>, refusing an earlier page unless <paramref name="force"/>.</summary>
    public static string Guard(string dir, bool force)
    {
        string path = Path.Combine(dir, FileName);
        if (File.Exists(path) && !force) throw new SalientException($"'{dir}' already holds {FileName}; --force replaces it, or choose another --out");
        return path;
    }

    public static void Write(string path, ReportDocument document)
    {
        OutputFolder.Create(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var html = HtmlReport.Render(document);
        OutputFolder.Guard(path, () => File.WriteAllText(path, html));
    }

    public static float CheckAlpha(float a) =>
        a is < 0 or > 1 || float.IsNaN(a) ? throw new SalientException($"--alpha {a} must be between 0 and 1") : a;

    public static string ModelName(SalientModel model) =>
        model.Path == SalientModel.BuiltInModelPath ? "built-in mobilenetv2-w8" : Path.GetFileName(model.Path);

    /// <summary>The command line as typed (tokens re-quoted when they hold spaces) and the versions of the tool and its runtimes.</summary>
    public static Provenance Provenance(ParseResult p)
    {
        var tokens = p.Tokens.Select(t => t.Value).Select(v => v.Length == 0 || v.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? "'" + v.Replace("'", "'\\''") + "'" : v);
        var versions = new List<(string, string)>
        {
            ("salient", Program.InformationalVersion),
            (".NET", Environment.Version.ToString()),
            ("ONNX Runtime", typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString() ?? "?"),
            ("OS", System.Runtime.InteropServices.RuntimeInformation.OSDescription),
        };
        return new Provenance($"{Program.CommandName} {string.Join(" ", tokens)}", versions, DateTimeOffset.UtcNow);
    }

    /// <summary>The top-<paramref name="k"/> of an image from its logits (softmax probabilities).</summary>
    public static IReadOnlyList<Prediction> Top(SalientModel model, float[] logits, int k = 5)
    {
        var probs = Core.Statistics.Softmax(logits);
        return Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).Take(k)
            .Select(i => new Prediction(i, model.ClassName(i), logits[i], probs[i])).ToList();
    }

    /// <summary>One panel per map: class-agnostic methods (one map for every class) once.</summary>
    public static IEnumerable<Explanation> Distinct(IEnumerable<Explanation> explanations) =>
        explanations.GroupBy(e => e.ClassAgnostic ? (e.Item, e.Method, -1) : (e.Item, e.Method, e.ClassIndex)).Select(g => g.First());

    /// <summary>An explanation's [0,1] map on its item's input grid (what the evaluation metrics read).</summary>
    public static float[] OnInputGrid(Explanation e, Imaging.PreparedInput item)
    {
        var m = e.Height == item.Height && e.Width == item.Width ? e.Normalized : Core.MapMath.ResizeBilinear(e.Normalized, e.Height, e.Width, item.Height, item.Width);
        return Array.ConvertAll(m, v => float.IsFinite(v) ? Math.Clamp(v, 0f, 1f) : 0f);
    }

    /// <summary>Methods × metrics: "mean [lo, hi]" over images, the best mean per column marked.</summary>
    public static ReportTable? MetricTable(List<EvaluateCommand.Summary> summary, IReadOnlyList<string> methods, IReadOnlyList<string> metrics)
    {
        var cols = metrics.Where(k => summary.Any(s => s.Metric == k)).ToList();
        if (cols.Count == 0) return null;
        var header = new List<string> { "method" };
        header.AddRange(cols.Select(k => $"{k} {(MetricNames.HigherIsBetter(k) ? "↑ higher is better" : "↓ lower is better")}"));
        var rows = methods.Select(m => (IReadOnlyList<string>)new List<string> { m }).Select(r => (List<string>)r).ToList();
        var best = new HashSet<(int, int)>();
        for (int j = 0; j < cols.Count; j++)
        {
            var col = summary.Where(s => s.Metric == cols[j]).ToList();
            double bestValue = MetricNames.HigherIsBetter(cols[j]) ? col.Max(s => s.Mean) : col.Min(s => s.Mean);
            for (int i = 0; i < methods.Count; i++)
            {
                var s = col.FirstOrDefault(x => x.Method == methods[i]);
                rows[i].Add(s is null ? "–" : string.Create(CultureInfo.InvariantCulture, $"{s.Mean:0.000} [{s.Low:0.000}, {s.High:0.000}]"));
                if (s is not null && s.Mean == bestValue && col.Count > 1) best.Add((i, j + 1));
            }
        }
        int n = summary.Count == 0 ? 0 : summary.Max(s => s.N);
        return new ReportTable($"Evaluation: mean [95 % bootstrap interval] over {n} image{(n == 1 ? "" : "s")}", header, rows) { Best = best };
    }
}
