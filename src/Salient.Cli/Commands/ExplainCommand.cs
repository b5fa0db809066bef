using System.CommandLine;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Salient.Explain;
using Salient.Methods;
using Salient.Rendering;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>salient explain</c>: heatmap panels (and raw maps, JSON) per image × method × class. Any number
/// of images and folders, run by <see cref="FolderRun"/> (decode-ahead, batches, per-image errors); a
/// progress bar (images/s, ETA) shows on a terminal and plain log lines otherwise, a bad file is reported
/// and skipped (exit code 1 at the end), Ctrl-C stops between batches (exit code 130), and
/// <c>results.jsonl</c> gets one line per image × method × class and one per failed image (<see cref="ExplainOutput"/>).
/// </summary>
internal static class ExplainCommand
{

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var images = new Argument<string[]>("images") { Description = "image files or folders", Arity = ArgumentArity.ZeroOrMore };
        var method = new Option<string>("--method") { Description = "comma-separated methods (see `salient methods`)", DefaultValueFactory = _ => "cam" };
        var layer = new Option<string>("--layer", "-l") { Description = "target layer: auto | NAME | NAME1,NAME2 (maps averaged)", DefaultValueFactory = _ => "auto" };
        var cls = new Option<string>("--class", "-c") { Description = "class(es) to explain, comma-separated: auto (top-1) | topK (the K best, one map each) | rankK (the K-th best) | INDEX | LABEL", DefaultValueFactory = _ => "auto" };
        var target = new Option<string?>("--target", "-t") { Description = $"what the maps explain (default: the class logit of --class): {Methods.Target.Syntax}; see docs/targets.md" };
        var outDir = new Option<string>("--out", "-o") { Description = "output folder", DefaultValueFactory = _ => "salient-out" };
        var colormap = new Option<string>("--colormap") { Description = "jet | turbo | viridis | inferno | gray | coolwarm (diverging: signed maps centred at 0)", DefaultValueFactory = _ => "jet" };
        var scale = new Option<string>("--colorbar") { Description = "colorbar scale: norm (the [0,1] map) | raw (the map's own values; --scale is the preprocessing's)", DefaultValueFactory = _ => "norm" };
        var normalize = new Option<string>("--normalize") { Description = "map: each map to [0,1] on its own | global: one scale across the classes of an image", DefaultValueFactory = _ => "map" };
        var fullRes = new Option<bool>("--full-resolution") { Description = $"panels at the image's resolution (default: tiles at most {HeatmapRenderer.MaxTileSize} px)" };
        var memory = new Option<string>("--memory") { Description = "memory budget for batches, e.g. 512M, 2G", DefaultValueFactory = _ => "1G" };
        var alpha = new Option<float>("--alpha") { Description = "heatmap opacity in the overlay (0–1)", DefaultValueFactory = _ => 0.5f };
        var raw = new Option<bool>("--raw") { Description = "also write the raw map (layer resolution) and the [0,1] map at the image's resolution as float32 .npy" };
        var json = new Option<bool>("--json") { Description = "JSON Lines on stdout, one object per map or failed image (schema in docs/json.md); human text on stderr" };
        var force = new Option<bool>("--force") { Description = "replace the results of an earlier run in --out (its files are deleted first)" };
        var skipExisting = new Option<bool>("--skip-existing") { Description = "keep the results of an earlier run in --out and explain only the images it did not finish (resumes an interrupted run)" };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "also read images in subfolders of folder arguments" };
        var shard = new Option<string?>("--shard") { Description = "I/N: do only this worker's share of the inputs (stable hash of each input's path relative to its folder argument), writing into OUT/shard-I-of-N; join with `salient merge OUT`" };
        var param = new Option<string[]>("--param") { Description = "method parameter NAME=VALUE (repeatable)", AllowMultipleArgumentsPerToken = false, Arity = ArgumentArity.ZeroOrMore };
        var html = new Option<bool>("--html") { Description = $"also write one self-contained HTML page of the results, OUT/{ReportOutput.FileName} (docs/report.md)" };

        // One option per declared method parameter (generated from the declarations); each sets the
        // request parameter of the same name and wins over --param.
        var methodOptions = MethodOptions.Create(except: [.. common.Names, "--method", "--layer", "--class", "--target", "--out", "--colormap", "--alpha", "--raw", "--json", "--param", "--force", "--skip-existing", "--recursive", "--colorbar", "--normalize", "--full-resolution", "--memory", "--shard", "--html"]);

        var cmd = new Command("explain", "write heatmap panels (original | heatmap | overlay) showing where the model looks");
        cmd.Arguments.Add(images);
        common.AddTo(cmd);
        foreach (var o in new Option[] { method, layer, cls, target, outDir, colormap, alpha, raw, json, force, skipExisting, recursive, param, scale, normalize, fullRes, memory, shard, html }) cmd.Options.Add(o);
        foreach (var (o, _) in methodOptions) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var cm = Colormaps.Parse(p.GetValue(colormap)!);
            float a = p.GetValue(alpha);
            if (a is < 0 or > 1 || float.IsNaN(a)) throw new SalientException($"--alpha {a} must be between 0 and 1");
            var scaleName = p.GetValue(scale)!.Trim().ToLowerInvariant();
            if (scaleName is not ("norm" or "normalized" or "raw")) throw new SalientException($"--colorbar '{p.GetValue(scale)}' must be norm or raw");
            var normalizeName = p.GetValue(normalize)!.Trim().ToLowerInvariant();
            if (normalizeName is not ("map" or "global")) throw new SalientException($"--normalize '{p.GetValue(normalize)}' must be map or global");
            var panel = new PanelOptions { Colormap = cm, Alpha = a, RawScale = scaleName == "raw", FullResolution = p.GetValue(fullRes) };
            var parameters = MethodOptions.ParseParams(p.GetValue(param));
            MethodOptions.Collect(p, methodOptions, parameters);
            var request = new ExplainRequest
            {
                Methods = Split(p.GetValue(method)!),
                Layers = Split(p.GetValue(layer)!),
                Classes = Split(p.GetValue(cls)!),
                Target = ParseTarget(p.GetValue(target), p.GetValue(cls)!),
                Parameters = parameters,
                NormalizeAcrossClasses = normalizeName == "global",
                MemoryBudgetBytes = ParseMemory(p.GetValue(memory)!),
            };
            var methods = request.Methods.Select(MethodRegistry.Get).ToList(); // fail fast on a typo
            ParameterCheck.Validate(methods, parameters);
            if (parameters.TryGetValue(CommonParameters.AugSmooth.Name, out var aug) && CommonParameters.AugSmooth.Parse(aug)
                && methods.Where(m => !m.UsesLayer).Select(m => m.Name).ToList() is { Count: > 0 } pixel)
                stderr.WriteLine($"note: --aug-smooth applies to CAM (layer) methods; {string.Join(", ", pixel)} run without it");
            if (p.GetValue(force) && p.GetValue(skipExisting)) throw new SalientException("--force and --skip-existing exclude each other");
            var existing = p.GetValue(force) ? ExplainOutput.Existing.Force : p.GetValue(skipExisting) ? ExplainOutput.Existing.Skip : ExplainOutput.Existing.Refuse;
            bool asJson = p.GetValue(json);
            var human = asJson ? stderr : stdout;   // --json: stdout is only JSON
            // `salient explain MODEL.onnx IMAGE…`: a first argument ending in .onnx is the model (when --model is not given).
            var inputs = p.GetValue(images) ?? [];
            string? modelArgument = null;
            if (inputs.Length > 1 && p.GetValue(common.Model) is null && inputs[0].EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                (modelArgument, inputs) = (inputs[0], inputs[1..]);
            var files = CommonOptions.ExpandImages(inputs, "explain", p.GetValue(recursive));
            var part = p.GetValue(shard) is { } shardText ? Sharding.Parse(shardText) : (Sharding.Shard?)null;
            var keys = part is null ? null : Sharding.Keys(inputs, files);
            var mine = part is { } sh ? files.Where(f => Sharding.Owns(sh, keys![f])).ToList() : files;
            var total = Stopwatch.StartNew();
            using var model = common.LoadModel(p, stderr, modelArgument);
            var loadTime = total.Elapsed;
            string dir = part is { } shd ? Path.Combine(p.GetValue(outDir)!, shd.Folder) : p.GetValue(outDir)!;
            var failures = new List<ImageOutcome>();
            var page = p.GetValue(html) ? new List<Reporting.ImageReport>() : null;
            string? pagePath = page is null ? null : ReportOutput.Guard(dir, p.GetValue(force) || p.GetValue(skipExisting));
            var warned = new HashSet<string>(StringComparer.Ordinal); // each warning once per run
            int done = 0;
            bool interrupted;
            using var ctrlC = new CtrlC();
            // Stems come from every input (all shards), so a shard names its files as a single run would.
            using (var output = new ExplainOutput(model, dir, panel, p.GetValue(raw), files, existing, asJson ? stdout : null) { Keys = keys })
            {
                if (part is { } s) human.WriteLine($"shard {s.Index}/{s.Count}: {mine.Count} of {files.Count} images, into {dir}");
                var todo = mine.Where(f => !output.Finished.Contains(Path.GetFullPath(f))).ToList();
                if (todo.Count < mine.Count) human.WriteLine($"skipping {mine.Count - todo.Count} image{(mine.Count - todo.Count == 1 ? "" : "s")} finished by an earlier run (--skip-existing)");
                // Progress bar on a terminal, plain lines otherwise; none for a single image.
                interrupted = ProgressDisplay.Run(human, "explain", todo.Count, "images", display =>
                {
                    var progress = new Reporter<FolderProgress>(pr => display.Advance(pr.Done, pr.Last.Succeeded
                        ? $"{pr.Last.Path}: {pr.Last.Explanations.Count} map{(pr.Last.Explanations.Count == 1 ? "" : "s")} in {pr.Last.ExplainTime.TotalSeconds:0.00} s"
                        : null));
                    try
                    {
                        foreach (var o in FolderRun.Explain(model, todo, request, progress: progress, cancellationToken: ctrlC.Token))
                        {
                            done++;
                            if (o.Succeeded)
                            {
                                output.Write(o, display.Interactive ? null : human);
                                page?.Add(Reporting.ReportSections.Explained(Path.GetFileName(o.Path), o.Image!, ReportOutput.ModelName(model),
                                    ReportOutput.Top(model, o.Logits!), ReportOutput.Distinct(o.Explanations), cm, a));
                                foreach (var w in o.Explanations.Select(e => e.Warning).OfType<string>().Distinct())
                                    if (warned.Add(w)) stderr.WriteLine($"warning: {w}");
                                continue;
                            }
                            // A single image: its error is the command's error (one line, exit code 1).
                            if (files.Count == 1 && part is null) ExceptionDispatchInfo.Capture(o.Error!).Throw();
                            failures.Add(o);
                            output.WriteFailure(o);
                            if (!display.Interactive) stderr.WriteLine($"error: {o.Path}: {o.ErrorMessage}");
                        }
                        return false;
                    }
                    catch (OperationCanceledException) when (ctrlC.Token.IsCancellationRequested) { return true; }
                }, enabled: todo.Count > 1);
                if (page is not null)
                {
                    ReportOutput.Write(pagePath!, new Reporting.ReportDocument
                    {
                        Title = $"Salient: {string.Join(", ", request.Methods)} on {(mine.Count == 1 ? Path.GetFileName(mine[0]) : $"{mine.Count} images")}",
                        Images = page, Models = [Reporting.ReportSections.Model(model, ReportOutput.ModelName(model))],
                        Made = ReportOutput.Provenance(p), Notes = failures.Select(f => $"failed: {f.Path}: {f.ErrorMessage}").ToList(),
                    });
                    human.WriteLine($"wrote {pagePath}");
                }
                human.WriteLine($"wrote {output.ResultsPath}");
                human.WriteLine($"wrote {output.WriteSummary(loadTime, total.Elapsed)}");
            }
            if (failures.Count > 0)
            {
                stderr.WriteLine($"{failures.Count} of {mine.Count} images failed:");
                foreach (var f in failures) stderr.WriteLine($"  {f.Path}: {f.ErrorMessage}");
            }
            if (interrupted)
            {
                stderr.WriteLine($"interrupted: {done} of {mine.Count} images done; {ExplainOutput.ResultsFile} has their results");
                return CtrlC.ExitCode;
            }
            return failures.Count > 0 ? 1 : 0;
        });
        return cmd;
    }

    private sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>The --target option (null: the class logit); a class target naming its own classes excludes --class.</summary>
    internal static Target? ParseTarget(string? spec, string classes)
    {
        if (spec is null) return null;
        var t = Target.Parse(spec);
        if (t is ClassTarget { Classes.Count: > 0 } && !classes.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
            throw new SalientException($"--target '{spec}' names its classes and --class '{classes}' too; give them in one place");
        if (t is not ClassTarget && !classes.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
            throw new SalientException($"--class '{classes}' applies to class targets (logit, prob, sigmoid), not to --target '{spec}'");
        return t;
    }

    internal static List<string> Split(string s) =>
        s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>"1G", "512M", "1.5GB", "800MiB", or bytes; binary units (1G = 2^30 bytes), at least 1M.</summary>
    internal static long ParseMemory(string text)
    {
        var t = text.Trim().ToUpperInvariant().Replace("IB", "").TrimEnd('B');
        double unit = t.EndsWith('K') ? 1 << 10 : t.EndsWith('M') ? 1 << 20 : t.EndsWith('G') ? 1 << 30 : 1;
        if (unit > 1) t = t[..^1];
        if (!double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) || !(v * unit >= 1 << 20) || v * unit > 1L << 42)
            throw new SalientException($"--memory '{text}' must be a size between 1M and 4T, e.g. 512M or 2G");
        return (long)(v * unit);
    }

}
