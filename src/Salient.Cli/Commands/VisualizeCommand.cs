using Spectre.Console;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
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
        var json = new Option<bool>("--json") { Description = "print the results as JSON" };
        var cmd = new Command("visualize", "synthesize images that maximize a class logit, a channel or a neuron (activation maximization, Yosinski et al. 2015 / Olah et al. 2017)");
        // Every common option except its --size (the model input size): here --size is the image size.
        foreach (var o in new Option[] { common.Model, common.Labels, common.Preprocess, common.Mean, common.Std, common.Scale, common.Bgr, common.Resize, common.MaxPixels, common.Threads, common.Provider })
            cmd.Options.Add(o);
        foreach (var o in new Option[] { cls, layer, channel, neuron, preset, steps, size, seed, start, diversity, diversityLayer, tv, lp, batch, tile, outDir, json })
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

            using var model = common.LoadModel(p);
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
            Imaging.RgbImage Shown(VisualizationResult r) => recipe.DeepVis is not null ? ContrastStretch.Apply(r.Image) : r.Image;
            bool quiet = p.GetValue(json);
            if (!quiet)
                stdout.WriteLine($"visualizing {objectives.Count} unit{(objectives.Count == 1 ? "" : "s")} with preset {recipe.Name} ({totalSteps} steps; {(object?)recipe.DeepVis ?? recipe.Lucid})");
            var clock = Stopwatch.StartNew();
            var results = RunWithProgress(new FeatureVisualizer(model), objectives, options, totalSteps, quiet ? TextWriter.Null : stdout);
            var seconds = clock.Elapsed.TotalSeconds;

            string dir = p.GetValue(outDir)!;
            Directory.CreateDirectory(dir);
            var rows = new List<(VisualizationResult Result, string File, Prediction? Top)>();
            foreach (var r in results)
            {
                string file = Path.Combine(dir, r.Objective.FileStem + ".png");
                // DeepVis presets: the PNG is contrast-stretched per image for display (as the paper's
                // figures); the optimized values themselves go to .npy (H×W×3, pixel units).
                ImageWriter.SavePng(Shown(r), file);
                Npy.Write(Path.Combine(dir, r.Objective.FileStem + ".npy"), r.Image.Data, r.Image.Height, r.Image.Width, 3);
                Prediction? top = r.Objective is ClassObjective ? model.Predict(r.Image, 1)[0] : null;
                rows.Add((r, file, top));
            }
            string? gridFile = null;
            if (results.Count > 1)
            {
                int side = tileSide ?? (results.Count <= 16 ? 0 : Math.Max(96, results[0].Image.Width / 2));
                var tiles = results.Select(r => new Tile(side > 0 ? Imaging.Resampler.Resize(Shown(r), side, side * r.Image.Height / r.Image.Width) : Shown(r), caption(r.Objective))).ToList();
                gridFile = Path.Combine(dir, gridStem + "-grid.png");
                int columns = tiles.Count <= 8 ? tiles.Count : (int)Math.Ceiling(Math.Sqrt(tiles.Count));
                ImageWriter.SavePng(TileGrid.Compose(tiles, columns, title: $"{Path.GetFileName(model.Path)} - {recipe.Name}, {totalSteps} steps"), gridFile);
            }
            if (quiet)
            {
                var doc = new
                {
                    model = model.Path,
                    preset = recipe.Name,
                    steps = totalSteps,
                    seconds,
                    grid = gridFile,
                    units = rows.Select(x => new
                    {
                        unit = x.Result.Objective.Label,
                        file = x.File,
                        objective = x.Result.Value,
                        predicted = x.Top is { } t ? new { @class = t.ClassIndex, label = t.Label, probability = t.Probability } : null,
                    }),
                };
                stdout.WriteLine(JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            var con = Term.For(stdout);
            var table = new Table().Border(TableBorder.Simple);
            table.AddColumn("unit");
            table.AddColumn("objective", c => c.RightAligned());
            if (rows.Any(r => r.Top is not null)) table.AddColumn("model predicts");
            table.AddColumn("file");
            foreach (var (r, file, top) in rows)
            {
                var cells = new List<string> { Markup.Escape(caption(r.Objective)), r.Value.ToString("0.00", CultureInfo.InvariantCulture) };
                if (rows.Any(x => x.Top is not null))
                    cells.Add(top is { } t ? Markup.Escape($"{t.ClassIndex} {t.Label} ({t.Probability:0.00})") : "");
                cells.Add(Markup.Escape(file));
                table.AddRow(cells.ToArray());
            }
            con.Write(table);
            if (gridFile is not null) stdout.WriteLine($"wrote {gridFile}");
            stdout.WriteLine($"{results.Count} image{(results.Count == 1 ? "" : "s")} in {seconds:0.0} s");
            return 0;
        });
        return cmd;
    }

    /// <summary>Runs the optimization with the shared progress display: units done, rate and ETA (a bar on a terminal, plain lines otherwise).</summary>
    private static IReadOnlyList<VisualizationResult> RunWithProgress(FeatureVisualizer vis, List<Objective> objectives, VisualizationOptions options, int steps, TextWriter stdout)
    {
        int batchSize = Math.Max(1, options.BatchSize);
        int batches = (objectives.Count + batchSize - 1) / batchSize;
        int every = Math.Max(1, steps / 8);
        return ProgressDisplay.Run(stdout, "visualize", objectives.Count, "units", display =>
            vis.Run(objectives, options, new Reporter(pr =>
            {
                bool log = pr.Step == 1 || pr.Step % every == 0 || pr.Step == pr.Steps;
                display.Advance(pr.FirstUnit + (double)pr.Step / pr.Steps * pr.Values.Count, log ? Describe(pr) : null);
                display.Describe(Short(pr, batches, batchSize));
            })));
    }

    /// <summary>The progress bar's description: short enough for an 80-column terminal.</summary>
    private static string Short(VisualizationProgress pr, int batches, int batchSize)
    {
        var text = FormattableString.Invariant($"step {pr.Step}/{pr.Steps} objective {pr.Values.Average():0.00}");
        return batches > 1 ? FormattableString.Invariant($"batch {pr.FirstUnit / batchSize + 1}/{batches} ") + text : text;
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
            if (part.Equals("auto", StringComparison.OrdinalIgnoreCase) || part.StartsWith("top", StringComparison.OrdinalIgnoreCase) && part.Length > 3 && char.IsDigit(part[3]))
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
