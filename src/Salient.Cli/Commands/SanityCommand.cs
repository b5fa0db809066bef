using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Salient.Evaluation;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Rendering;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>salient sanity</c> (and <c>evaluate --metric sanity</c>): Adebayo et al.'s cascading model-parameter
/// randomization (docs/evaluation.md). Per image and method: Spearman ρ and SSIM of the map after each
/// step with the original map; a table of means, <c>sanity.json</c>, <c>sanity.csv</c> and per image a
/// figure <c>sanity_STEM.png</c> (rows = methods, columns = the original model and each step).
/// </summary>
internal static class SanityCommand
{
    public const string JsonFile = "sanity.json", CsvFile = "sanity.csv";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var images = new Argument<string[]>("images") { Description = "image files or folders", Arity = ArgumentArity.ZeroOrMore };
        var method = new Option<string>("--method") { Description = "comma-separated methods (see `salient methods`)", DefaultValueFactory = _ => "gradcam,guidedbackprop" };
        var steps = new Option<int>("--steps") { Description = "randomization steps: the parametric layers, from the logits down, in this many cumulative groups", DefaultValueFactory = _ => 5 };
        var layer = new Option<string>("--layer", "-l") { Description = "target layer of CAM methods: auto | NAME", DefaultValueFactory = _ => "auto" };
        var cls = new Option<string>("--class", "-c") { Description = "the class per image (kept through the cascade): auto (top-1 of the original model) | INDEX | LABEL", DefaultValueFactory = _ => "auto" };
        var seed = new Option<int>("--seed") { Description = "seed of the re-initialized weights and the bootstrap", DefaultValueFactory = _ => 0 };
        var param = new Option<string[]>("--param") { Description = "NAME=VALUE method parameter (repeatable)", Arity = ArgumentArity.ZeroOrMore };
        var outDir = new Option<string>("--out", "-o") { Description = "output folder", DefaultValueFactory = _ => "salient-out" };
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout; human text on stderr" };
        var force = new Option<bool>("--force") { Description = $"replace the {JsonFile} of an earlier run in --out" };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "also read images in subfolders of folder arguments" };

        var cmd = new Command("sanity", "sanity check (Adebayo et al. 2018): randomize the model's layers from the top down and measure how much each method's map changes");
        cmd.Arguments.Add(images);
        common.AddTo(cmd);
        foreach (var o in new Option[] { method, steps, layer, cls, seed, param, outDir, json, force, recursive }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var methods = ParseMethods(p.GetValue(method)!);
            var parameters = MethodOptions.ParseParams(p.GetValue(param));
            ParameterCheck.Validate(methods.Select(MethodRegistry.Get).ToList(), parameters);
            int n = CheckSteps(p.GetValue(steps));
            bool asJson = p.GetValue(json);
            var human = asJson ? stderr : stdout;
            var files = CommonOptions.ExpandImages(p.GetValue(images), "sanity", p.GetValue(recursive));
            string dir = p.GetValue(outDir)!;
            if (File.Exists(Path.Combine(dir, JsonFile)) && !p.GetValue(force))
                throw new SalientException($"'{dir}' already holds {JsonFile}; --force replaces it, or choose another --out");
            using var model = common.LoadModel(p, stderr);
            var report = Run(model, files, methods, n, p.GetValue(seed), p.GetValue(cls)!, ExplainCommand.Split(p.GetValue(layer)!), parameters, human, stderr);
            var document = Write(report, model, dir, p.GetValue(seed), human);
            if (asJson) stdout.WriteLine(JsonSerializer.Serialize(document, FiniteJson.Compact));
            if (report.Errors.Count > 0) stderr.WriteLine($"{report.Errors.Count} of {files.Count} images failed (listed above); the others were checked");
            return report.Errors.Count > 0 ? 1 : 0;
        });
        return cmd;
    }

    internal static List<string> ParseMethods(string list)
    {
        var methods = ExplainCommand.Split(list).Select(m => m.ToLowerInvariant()).Distinct().ToList();
        if (methods.Count == 0) throw new SalientException("--method: no method given");
        foreach (var m in methods)
        {
            if (m is BaselineMaps.Random or BaselineMaps.Sobel or "map")
                throw new SalientException($"the sanity check needs methods that read the model; '{m}' does not");
            MethodRegistry.Get(m); // did-you-mean on a typo
        }
        return methods;
    }

    internal static int CheckSteps(int n) => n is >= 1 and <= 1000 ? n : throw new SalientException($"--steps {n} must be between 1 and 1000");

    internal sealed record Row(string Image, int Class, SanityValue Value);

    internal sealed record Report(List<string> Methods, List<SanityStep> Steps, List<Row> Rows, List<(string Image, string Error)> Errors, List<(string Image, RgbImage Figure)> Figures);

    /// <summary>The cascade on every image; a bad image is one line on stderr and the others are still checked.</summary>
    internal static Report Run(SalientModel model, IReadOnlyList<string> files, List<string> methods, int steps, int seed, string classSpec,
        List<string> layers, Dictionary<string, string> parameters, TextWriter human, TextWriter stderr)
    {
        var rows = new List<Row>();
        var errors = new List<(string, string)>();
        var figures = new List<(string, RgbImage)>();
        List<SanityStep> stepList = [];
        ProgressDisplay.Run(human, "sanity", files.Count, "images", display =>
        {
            for (int i = 0; i < files.Count; i++)
            {
                var file = files[i];
                try
                {
                    var item = model.Prepare(model.LoadImage(file));
                    int c = model.ResolveClass(classSpec, model.Run([item])[model.Structure().LogitsName].Data);
                    var (s, values) = Sanity.Run(model, item, c, methods, steps, seed, layers, parameters);
                    stepList = s;
                    rows.AddRange(values.Select(v => new Row(file, c, v)));
                    figures.Add((file, Figure(item, methods, s, values, $"{Path.GetFileName(file)}: {model.ClassName(c)} ({c}); layers re-initialized from the logits down")));
                    display.Advance(i + 1, display.Interactive ? null : $"{file}: class {c}");
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
        return new Report(methods, stepList, rows, errors, figures);
    }

    /// <summary>Rows = methods, columns = the original model and each cascade step; each tile the map over the image, captioned with ρ and SSIM.</summary>
    internal static RgbImage Figure(PreparedInput item, List<string> methods, List<SanityStep> steps, List<SanityValue> values, string title)
    {
        int h = item.Height, w = item.Width;
        int factor = Math.Max(1, 128 / Math.Max(h, w));
        var tiles = new List<Tile>();
        foreach (var m in methods)
            foreach (var s in steps)
            {
                var v = values.Single(x => x.Method == m && x.Step == s.Step);
                var image = TileGrid.Enlarge(HeatmapRenderer.Overlay(item.ModelView, v.Map, Colormap.Jet, 0.6f), factor);
                string head = s.Step == 0 ? $"{m}: original" : $"top {s.Randomized} layers";
                string caption = s.Step == 0 ? $"{head}\n(ρ, SSIM vs. this)" : string.Create(CultureInfo.InvariantCulture, $"{head}\nρ {v.Spearman:0.00}  SSIM {v.Ssim:0.00}");
                tiles.Add(new Tile(image, caption));
            }
        return TileGrid.Compose(tiles, columns: steps.Count, title: title);
    }

    /// <summary>Writes sanity.json, sanity.csv and the figures into <paramref name="dir"/>, prints the table; returns the JSON document.</summary>
    internal static Dictionary<string, object?> Write(Report r, SalientModel model, string dir, int seed, TextWriter human)
    {
        OutputFolder.Create(dir);
        var summary = Summaries(r, seed);
        var document = new Dictionary<string, object?>
        {
            ["schema"] = JsonSchema.Version,
            ["model"] = model.Path,
            ["steps"] = r.Steps.Select(s => new Dictionary<string, object> { ["step"] = s.Step, ["randomized_layers"] = s.Randomized, ["lowest_layer"] = s.LowestLayer }).ToList(),
            ["results"] = summary,
            ["errors"] = r.Errors.Select(e => new Dictionary<string, string> { ["image"] = e.Image, ["error"] = e.Error }).ToList(),
        };
        string jsonPath = Path.Combine(dir, JsonFile), csvPath = Path.Combine(dir, CsvFile);
        var text = JsonSerializer.Serialize(document, FiniteJson.Indented);
        OutputFolder.Guard(jsonPath, () => File.WriteAllText(jsonPath, text + "\n"));
        var sb = new StringBuilder("image,class,method,step,randomized_layers,lowest_layer,spearman,ssim\n");
        foreach (var row in r.Rows)
            sb.Append(CultureInfo.InvariantCulture, $"{EvaluateCommand.Quote(row.Image)},{row.Class},{row.Value.Method},{row.Value.Step},{row.Value.Randomized},{EvaluateCommand.Quote(row.Value.LowestLayer)},{row.Value.Spearman:R},{row.Value.Ssim:R}\n");
        OutputFolder.Guard(csvPath, () => File.WriteAllText(csvPath, sb.ToString()));
        var written = new List<string> { jsonPath, csvPath };
        foreach (var (image, figure) in r.Figures)
        {
            string png = Path.Combine(dir, $"sanity_{Path.GetFileNameWithoutExtension(image)}.png");
            OutputFolder.Guard(png, () => ImageWriter.SavePng(figure, png));
            written.Add(png);
        }
        PrintTable(human, r);
        human.WriteLine($"wrote {string.Join(", ", written)}");
        return document;
    }

    private static List<Dictionary<string, object>> Summaries(Report r, int seed)
    {
        var list = new List<Dictionary<string, object>>();
        foreach (var m in r.Methods)
            foreach (var s in r.Steps)
            {
                var per = r.Rows.Where(x => x.Value.Method == m && x.Value.Step == s.Step).ToList();
                if (per.Count == 0) continue;
                var (rho, rlo, rhi) = Bootstrap.Interval(per.Select(x => x.Value.Spearman).ToList(), seed);
                var (ssim, slo, shi) = Bootstrap.Interval(per.Select(x => x.Value.Ssim).ToList(), seed);
                list.Add(new Dictionary<string, object>
                {
                    ["method"] = m, ["step"] = s.Step, ["randomized_layers"] = s.Randomized, ["lowest_layer"] = s.LowestLayer,
                    ["spearman"] = rho, ["spearman_ci95"] = new[] { rlo, rhi }, ["ssim"] = ssim, ["ssim_ci95"] = new[] { slo, shi }, ["n"] = per.Count,
                    ["per_image"] = per.Select(x => new Dictionary<string, object> { ["image"] = x.Image, ["class"] = x.Class, ["spearman"] = x.Value.Spearman, ["ssim"] = x.Value.Ssim }).ToList(),
                });
            }
        return list;
    }

    /// <summary>Methods × steps: mean Spearman ρ / mean SSIM over images.</summary>
    private static void PrintTable(TextWriter w, Report r)
    {
        if (r.Rows.Count == 0) { w.WriteLine("no image could be checked"); return; }
        var header = new List<string> { "method" };
        header.AddRange(r.Steps.Skip(1).Select(s => $"top {s.Randomized}"));
        var lines = new List<List<string>> { header };
        foreach (var m in r.Methods)
        {
            var line = new List<string> { m };
            foreach (var s in r.Steps.Skip(1))
            {
                var per = r.Rows.Where(x => x.Value.Method == m && x.Value.Step == s.Step).ToList();
                line.Add(string.Create(CultureInfo.InvariantCulture, $"{per.Average(x => x.Value.Spearman):0.00} / {per.Average(x => x.Value.Ssim):0.00}"));
            }
            lines.Add(line);
        }
        var width = Enumerable.Range(0, header.Count).Select(j => lines.Max(l => l[j].Length)).ToArray();
        foreach (var l in lines) w.WriteLine(string.Join("  ", l.Select((c, j) => c.PadRight(width[j]))).TrimEnd());
        w.WriteLine($"Spearman ρ / SSIM with the original map after re-initializing the top N of {r.Steps[^1].Randomized} parametric layers (mean over images); near 1 = the map ignores the weights");
    }
}
