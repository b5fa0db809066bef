using Spectre.Console;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Salient.Imaging;
using Salient.Models;
using Salient.Rendering;
using Salient.Visualization;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>salient visualize</c>: activation maximization — a PNG per class / channel / neuron that the
/// model responds to most (DeepVis or lucid recipe), plus a labelled grid when there are several.
/// </summary>
internal static class VisualizeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var cls = new Option<string?>("--class", "-c") { Description = "class(es) to visualize: INDEX | LABEL | A-B ranges, comma-separated (the pre-softmax logit is maximized)" };
        var layer = new Option<string?>("--layer", "-l") { Description = "layer whose channel(s) to visualize (see `salient layers`)" };
        var channel = new Option<string?>("--channel") { Description = "channel(s) of --layer: K | A-B | K1,K2,… (the spatial mean is maximized)" };
        var neuron = new Option<string?>("--neuron") { Description = "maximize one position y,x of the channel instead of its mean" };
        var preset = new Option<string>("--preset", "-p") { Description = $"recipe: {string.Join(" | ", VisualizationPresets.All.Select(x => x.Name))} (default deepvis; see docs/deepvis.md)", DefaultValueFactory = _ => VisualizationPresets.Default.Name };
        var steps = new Option<int?>("--steps") { Description = "optimization steps (default: the preset's)" };
        var size = new Option<string?>("--size") { Description = "image size S or WxH (default: the model's input size; fixed-size models see it resampled)" };
        var seed = new Option<int>("--seed") { Description = "random seed of the start noise and transforms", DefaultValueFactory = _ => 0 };
        var start = new Option<string?>("--start") { Description = "start from this image instead of noise" };
        var diversity = new Option<float>("--diversity") { Description = "weight of the diversity term between the images of a batch (0: off)", DefaultValueFactory = _ => 0f };
        var diversityLayer = new Option<string?>("--diversity-layer") { Description = "layer for the diversity term (default: the visualized layer, else a middle layer)" };
        var tv = new Option<float?>("--tv") { Description = "lucid: weight of the total-variation penalty (default: the preset's)" };
        var lp = new Option<float?>("--lp") { Description = "lucid: weight of the L6 penalty on saturated pixels (default: the preset's)" };
        var tile = new Option<int?>("--tile") { Description = "side of a tile in the grid PNG, px (default: the image size; half of it beyond 16 units)" };
        var batch = new Option<int>("--batch") { Description = "images optimized together (one engine call per step)", DefaultValueFactory = _ => 16 };
        var outDir = new Option<string>("--out", "-o") { Description = "output folder", DefaultValueFactory = _ => "salient-out" };
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout (schema in docs/json.md); human text on stderr" };
        var force = new Option<bool>("--force") { Description = "redo units whose image is already in --out" };
        var skipExisting = new Option<bool>("--skip-existing") { Description = "keep units whose image is already in --out (resumes an interrupted run)" };
        var cmd = new Command("visualize", "synthesize images that maximize a class logit, a channel or a neuron (activation maximization, Yosinski et al. 2015 / Olah et al. 2017)");
        // Every common option except its --size (the model input size): here --size is the image size.
        foreach (var o in new Option[] { common.Model, common.Labels, common.Preprocess, common.Mean, common.Std, common.Scale, common.Bgr, common.Resize, common.MaxPixels, common.Threads, common.Provider })
            cmd.Options.Add(o);
        foreach (var o in new Option[] { cls, layer, channel, neuron, preset, steps, size, seed, start, diversity, diversityLayer, tv, lp, batch, tile, outDir, json, force, skipExisting })
            cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var recipe = VisualizationPresets.Get(p.GetValue(preset)!);
            if (p.GetValue(tv) is not null || p.GetValue(lp) is not null)
                recipe = VisualizationPresets.WithPenaltyWeights(recipe, p.GetValue(tv), p.GetValue(lp));
            int? n = p.GetValue(steps);
            if (n is < 1) throw new SalientException($"--steps must be at least 1 (got {n})");
            if (p.GetValue(batch) < 1) throw new SalientException("--batch must be at least 1");
            int? tileSide = p.GetValue(tile);
            if (tileSide is < 16 or > 1024) throw new SalientException("--tile must be between 16 and 1024 pixels");
            (int, int)? imageSize = p.GetValue(size) is { } s ? CommonOptions.ParseSize(s) : null;
            string? classSpec = p.GetValue(cls), layerName = p.GetValue(layer), channelSpec = p.GetValue(channel), neuronSpec = p.GetValue(neuron);
            if (classSpec is null == (layerName is null && channelSpec is null))
                throw new SalientException("give either --class C or --layer L --channel K (see salient visualize --help)");
            if (classSpec is null && (layerName is null || channelSpec is null))
                throw new SalientException(layerName is null ? "--channel needs --layer (see `salient layers`)" : "--layer needs --channel K (e.g. --channel 0-15)");
            if (neuronSpec is not null && classSpec is not null) throw new SalientException("--neuron applies to --layer/--channel, not to --class");
            (int Y, int X)? position = neuronSpec is null ? null : ParseNeuron(neuronSpec);
            if (p.GetValue(force) && p.GetValue(skipExisting)) throw new SalientException("--force and --skip-existing exclude each other");
            bool quiet = p.GetValue(json);
            var human = quiet ? stderr : stdout;
            string dir = OutputFolder.Create(p.GetValue(outDir)!);

            using var model = common.LoadModel(p, stderr);
            var structure = model.Structure();
            List<Objective> objectives;
            string gridStem;
            Func<Objective, string> caption;
            if (classSpec is not null)
            {
                var classes = ParseClasses(model, classSpec, structure.ClassCount);
                objectives = classes.Select(Objective.Class).ToList();
                gridStem = classes.Count == 1 ? $"class-{classes[0]:000}" : $"classes-{classes[0]:000}-{classes[^1]:000}";
                caption = o => o is ClassObjective c ? $"{c.ClassIndex} {model.ClassName(c.ClassIndex)}" : o.Label;
            }
            else
            {
                var resolved = structure.ResolveLayer(layerName!);
                int channels = resolved.Shape.Length == 4 ? resolved.Channels : resolved.Shape.Length == 2 ? (int)resolved.Shape[1] : 0;
                if (channels == 0) throw new SalientException($"layer '{resolved.Name}' has shape [{string.Join(",", resolved.Shape)}]; channels need a 4-D or 2-D tensor");
                var list = ParseRanges(channelSpec!, "--channel", channels, "channel", $"layer '{resolved.Name}' has {channels} channels");
                objectives = list.Select(k => position is { } q ? Objective.Neuron(resolved.Name, k, q.Y, q.X) : Objective.Channel(resolved.Name, k)).ToList();
                gridStem = $"{Safe(resolved.Name)}-ch{list[0]:000}-{list[^1]:000}{(position is { } pq ? $"-y{pq.Y}x{pq.X}" : "")}";
                caption = o => o switch { NeuronObjective q => $"ch {q.ChannelIndex}", ChannelObjective c => $"ch {c.ChannelIndex}", _ => o.Label };
            }
            var options = new VisualizationOptions
            {
                Preset = recipe,
                Steps = n,
                Size = imageSize,
                Seed = p.GetValue(seed),
                Start = p.GetValue(start) is { } sp ? model.LoadImage(sp) : null,
                Diversity = p.GetValue(diversity),
                DiversityLayer = p.GetValue(diversityLayer),
                BatchSize = p.GetValue(batch),
            };
            int totalSteps = options.Steps ?? recipe.Steps;
            // DeepVis presets: the PNG is contrast-stretched per image for display (as the paper's figures);
            // the optimized values themselves go to .npy (H×W×3, pixel units).
            RgbImage Shown(RgbImage image) => recipe.DeepVis is not null ? ContrastStretch.Apply(image) : image;
            var files = objectives.Select(o => Path.Combine(dir, o.FileStem + ".png")).ToList();
            var existing = Enumerable.Range(0, files.Count).Where(i => File.Exists(files[i])).ToHashSet();
            if (existing.Count > 0 && !p.GetValue(force) && !p.GetValue(skipExisting))
                throw new SalientException($"{existing.Count} of the {files.Count} images are already in '{dir}' (e.g. {Path.GetFileName(files[existing.First()])}); " +
                    "add --skip-existing to keep them and do the rest, --force to redo them, or choose another --out");
            var skip = p.GetValue(skipExisting) ? existing : [];
            int todo = objectives.Count - skip.Count;
            human.WriteLine($"visualizing {todo} unit{(todo == 1 ? "" : "s")} with preset {recipe.Name} ({totalSteps} steps; {(object?)recipe.DeepVis ?? recipe.Lucid})" +
                (skip.Count > 0 ? $"; {skip.Count} already in {dir} (--skip-existing)" : ""));
            var clock = Stopwatch.StartNew();
            var images = new RgbImage?[objectives.Count];
            var values = new float?[objectives.Count];
            // Each unit is saved as soon as its batch is done; Ctrl-C keeps what finished (exit code 130).
            using var ctrlC = new CtrlC();
            bool interrupted = RunWithProgress(new FeatureVisualizer(model), objectives, options, totalSteps, skip, human, ctrlC.Token, (i, r) =>
            {
                string npy = Path.ChangeExtension(files[i], ".npy");
                OutputFolder.Guard(files[i], () => ImageWriter.SavePng(Shown(r.Image), files[i]));
                OutputFolder.Guard(npy, () => Npy.Write(npy, r.Image.Data, r.Image.Height, r.Image.Width, 3));
                images[i] = r.Image;
                values[i] = r.Value;
            });
            var seconds = clock.Elapsed.TotalSeconds;
            // Resumed units: their optimized values from .npy (the PNG may be contrast-stretched).
            foreach (int i in skip)
            {
                string npy = Path.ChangeExtension(files[i], ".npy");
                if (File.Exists(npy))
                {
                    var (data, shape) = Npy.Read(npy);
                    images[i] = new RgbImage((int)shape[1], (int)shape[0], data);
                }
                else images[i] = model.LoadImage(files[i]);
            }
            var rows = new List<(Objective Objective, float? Value, string File, Prediction? Top)>();
            for (int i = 0; i < objectives.Count; i++)
            {
                if (images[i] is not { } img) continue;
                Prediction? top = objectives[i] is ClassObjective ? model.Predict(img, 1)[0] : null;
                rows.Add((objectives[i], values[i], files[i], top));
            }
            var results = rows.Select(r => (r.Objective, Image: images[objectives.IndexOf(r.Objective)]!)).ToList();
            string? gridFile = null;
            if (results.Count > 1 && !interrupted)
            {
                int side = tileSide ?? (results.Count <= 16 ? 0 : Math.Max(96, results[0].Image.Width / 2));
                var tiles = results.Select(r => new Tile(side > 0 ? Imaging.Resampler.Resize(Shown(r.Image), side, side * r.Image.Height / r.Image.Width) : Shown(r.Image), caption(r.Objective))).ToList();
                gridFile = Path.Combine(dir, gridStem + "-grid.png");
                int columns = tiles.Count <= 8 ? tiles.Count : (int)Math.Ceiling(Math.Sqrt(tiles.Count));
                var gridImage = TileGrid.Compose(tiles, columns, title: $"{Path.GetFileName(model.Path)} - {recipe.Name}, {totalSteps} steps");
                OutputFolder.Guard(gridFile, () => ImageWriter.SavePng(gridImage, gridFile));
            }
            if (quiet)
            {
                var doc = new
                {
                    schema = JsonSchema.Version,
                    model = model.Path,
                    preset = recipe.Name,
                    steps = totalSteps,
                    seconds,
                    grid = gridFile,
                    interrupted,
                    units = rows.Select(x => new
                    {
                        unit = x.Objective.Label,
                        file = x.File,
                        objective = x.Value,
                        resumed = x.Value is null,
                        predicted = x.Top is { } t ? new { @class = t.ClassIndex, label = t.Label, probability = t.Probability } : null,
                    }),
                };
                stdout.WriteLine(JsonSerializer.Serialize(doc, FiniteJson.Indented));
                return interrupted ? CtrlC.ExitCode : 0;
            }
            var con = Term.For(stdout);
            var table = new Table().Border(TableBorder.Simple);
            table.AddColumn("unit");
            table.AddColumn("objective", c => c.RightAligned());
            if (rows.Any(r => r.Top is not null)) table.AddColumn("model predicts");
            table.AddColumn("file");
            foreach (var (o, value, file, top) in rows)
            {
                var cells = new List<string> { Markup.Escape(caption(o)), value is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "(kept)" };
                if (rows.Any(x => x.Top is not null))
                    cells.Add(top is { } t ? Markup.Escape($"{t.ClassIndex} {t.Label} ({t.Probability:0.00})") : "");
                cells.Add(Markup.Escape(file));
                table.AddRow(cells.ToArray());
            }
            con.Write(table);
            if (gridFile is not null) stdout.WriteLine($"wrote {gridFile}");
            stdout.WriteLine($"{todo} image{(todo == 1 ? "" : "s")} in {seconds:0.0} s");
            if (interrupted)
            {
                stderr.WriteLine($"interrupted: {rows.Count} of {objectives.Count} units saved in {dir}; run again with --skip-existing to finish");
                return CtrlC.ExitCode;
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// Runs the optimization batch by batch with the shared progress display (units done, rate and ETA;
    /// a bar on a terminal, plain lines otherwise); <paramref name="done"/> gets each unit when its batch
    /// ends. Returns true when Ctrl-C stopped it.
    /// </summary>
    private static bool RunWithProgress(FeatureVisualizer vis, List<Objective> objectives, VisualizationOptions options, int steps,
        HashSet<int> skip, TextWriter log, CancellationToken cancel, Action<int, VisualizationResult> done)
    {
        int todo = objectives.Count - skip.Count;
        int batchSize = Math.Max(1, options.BatchSize);
        int batches = (todo + batchSize - 1) / batchSize;
        int every = Math.Max(1, steps / 8);
        int finished = 0;
        return ProgressDisplay.Run(log, "visualize", todo, "units", display =>
        {
            try
            {
                vis.Run(objectives, options, skip.Contains, (i, r) => { finished++; done(i, r); }, new Reporter(pr =>
                {
                    bool line = pr.Step == 1 || pr.Step % every == 0 || pr.Step == pr.Steps;
                    display.Advance(finished + (double)pr.Step / pr.Steps * pr.Values.Count, line ? Describe(pr) : null);
                    display.Describe(Short(pr, finished / batchSize, batches));
                }), cancel);
                return false;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested) { return true; }
        });
    }

    /// <summary>The progress bar's description: short enough for an 80-column terminal.</summary>
    private static string Short(VisualizationProgress pr, int batchesDone, int batches)
    {
        var text = FormattableString.Invariant($"step {pr.Step}/{pr.Steps} objective {pr.Values.Average():0.00}");
        return batches > 1 ? FormattableString.Invariant($"batch {batchesDone + 1}/{batches} ") + text : text;
    }

    private static string Describe(VisualizationProgress pr)
    {
        var units = pr.Values.Count == 1 ? $"unit {pr.FirstUnit + 1}/{pr.TotalUnits}" : $"units {pr.FirstUnit + 1}–{pr.FirstUnit + pr.Values.Count}/{pr.TotalUnits}";
        var v = pr.Values;
        var text = FormattableString.Invariant($"{units} step {pr.Step}/{pr.Steps} objective {v.Average():0.00}");
        if (v.Count > 1) text += FormattableString.Invariant($" (min {v.Min():0.00}, max {v.Max():0.00})");
        if (pr.Diversity != 0) text += FormattableString.Invariant($" diversity {pr.Diversity:0.000}");
        return text;
    }

    private sealed class Reporter(Action<VisualizationProgress> action) : IProgress<VisualizationProgress>
    {
        public void Report(VisualizationProgress value) => action(value);
    }

    private static string Safe(string s) => new(s.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray());

    internal static (int Y, int X) ParseNeuron(string s)
    {
        var parts = s.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && int.TryParse(parts[0], out int y) && int.TryParse(parts[1], out int x) && y >= 0 && x >= 0) return (y, x);
        throw new SalientException($"--neuron '{s}' is not y,x (two non-negative integers, e.g. 3,4)");
    }

    /// <summary>"5", "0-31", "1,4,9-12" → indices in order (duplicates dropped), each checked against count.</summary>
    internal static List<int> ParseRanges(string spec, string option, int count, string what, string context)
    {
        var list = new List<int>();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-', 1);
            if (dash > 0 && int.TryParse(part[..dash], out int a) && int.TryParse(part[(dash + 1)..], out int b))
            {
                if (b < a) throw new SalientException($"{option} range '{part}' is empty (its end is before its start)");
                for (int k = a; k <= b; k++) list.Add(k);
            }
            else if (int.TryParse(part, out int k)) list.Add(k);
            else throw new SalientException($"{option} '{spec}': '{part}' is not an index or a range A-B");
        }
        if (list.Count == 0) throw new SalientException($"{option} '{spec}' names no {what}");
        foreach (var k in list)
            if (k < 0 || k >= count) throw new SalientException($"{what} {k} is out of range: {context} (0–{count - 1})");
        return list.Distinct().ToList();
    }

    private static List<int> ParseClasses(SalientModel model, string spec, int classes)
    {
        if (classes <= 0) throw new SalientException("the model's output has no class dimension; use --layer and --channel");
        var list = new List<int>();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Equals("auto", StringComparison.OrdinalIgnoreCase) || (part.StartsWith("top", StringComparison.OrdinalIgnoreCase) && part.Length > 3 && char.IsDigit(part[3]))
                || (part.StartsWith("rank", StringComparison.OrdinalIgnoreCase) && part.Length > 4 && char.IsDigit(part[4])))
                throw new SalientException($"--class '{part}' needs an image; give a class index or label to visualize");
            int dash = part.IndexOf('-', 1);
            if (dash > 0 && int.TryParse(part[..dash], out _) && int.TryParse(part[(dash + 1)..], out _))
                list.AddRange(ParseRanges(part, "--class", classes, "class", $"the model has {classes} classes"));
            else list.Add(model.ResolveClass(part, new float[classes]));
        }
        if (list.Count == 0) throw new SalientException($"--class '{spec}' names no class");
        return list.Distinct().ToList();
    }
}
