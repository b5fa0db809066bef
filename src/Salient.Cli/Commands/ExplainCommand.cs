using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Rendering;

namespace Salient.Cli.Commands;

/// <summary><c>salient explain</c>: heatmap panels (and raw maps, JSON) per image × method × class.</summary>
internal static class ExplainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var images = new Argument<string[]>("images") { Description = "image files or folders (default: shared/images/both.png)", Arity = ArgumentArity.ZeroOrMore };
        var method = new Option<string>("--method") { Description = "comma-separated methods (see `salient methods`)", DefaultValueFactory = _ => "cam" };
        var layer = new Option<string>("--layer", "-l") { Description = "target layer: auto | NAME | NAME1,NAME2 (maps averaged)", DefaultValueFactory = _ => "auto" };
        var cls = new Option<string>("--class", "-c") { Description = "class(es) to explain: auto (top-1) | topK | INDEX | LABEL, comma-separated", DefaultValueFactory = _ => "auto" };
        var outDir = new Option<string>("--out", "-o") { Description = "output folder", DefaultValueFactory = _ => "salient-out" };
        var colormap = new Option<string>("--colormap") { Description = "jet | turbo | viridis | inferno | gray", DefaultValueFactory = _ => "jet" };
        var alpha = new Option<float>("--alpha") { Description = "heatmap opacity in the overlay (0–1)", DefaultValueFactory = _ => 0.5f };
        var raw = new Option<bool>("--raw") { Description = "also write the raw map (layer resolution) and the [0,1] map at the image's resolution as float32 .npy" };
        var json = new Option<bool>("--json") { Description = "write summary.json (model, input, layer, class, score, map shape, files, timings)" };
        var param = new Option<string[]>("--param") { Description = "method parameter NAME=VALUE (repeatable)", AllowMultipleArgumentsPerToken = false, Arity = ArgumentArity.ZeroOrMore };

        var cmd = new Command("explain", "write heatmap panels (original | heatmap | overlay) showing where the model looks");
        cmd.Arguments.Add(images);
        common.AddTo(cmd);
        foreach (var o in new Option[] { method, layer, cls, outDir, colormap, alpha, raw, json, param }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var cm = Colormaps.Parse(p.GetValue(colormap)!);
            float a = p.GetValue(alpha);
            if (a is < 0 or > 1 || float.IsNaN(a)) throw new SalientException($"--alpha {a} must be between 0 and 1");
            var request = new ExplainRequest
            {
                Methods = Split(p.GetValue(method)!),
                Layers = Split(p.GetValue(layer)!),
                Classes = Split(p.GetValue(cls)!),
                Parameters = ParseParams(p.GetValue(param)),
            };
            foreach (var m in request.Methods) Methods.MethodRegistry.Get(m); // fail fast on a typo
            var files = CommonOptions.ExpandImages(p.GetValue(images));
            var total = Stopwatch.StartNew();
            using var model = common.LoadModel(p);
            var loadTime = total.Elapsed;
            string dir = p.GetValue(outDir)!;
            Directory.CreateDirectory(dir);
            var summary = new List<object>();
            int failures = 0;
            foreach (var file in files)
            {
                try
                {
                    summary.AddRange(ExplainOne(model, file, request, dir, cm, a, p.GetValue(raw), stdout));
                }
                catch (SalientException e) when (files.Count > 1)
                {
                    stderr.WriteLine($"error: {file}: {e.Message}");
                    failures++;
                }
            }
            if (p.GetValue(json))
            {
                var doc = new
                {
                    model = model.Path,
                    input = new { name = model.Input.Name, layout = model.Input.Layout.ToString().ToUpperInvariant(), width = model.InputSize.Width, height = model.InputSize.Height, channels = model.Input.Channels },
                    preprocessing = model.Preprocessing.Name,
                    resize = model.Resize.ToString().ToLowerInvariant(),
                    model_load_ms = loadTime.TotalMilliseconds,
                    total_ms = total.Elapsed.TotalMilliseconds,
                    explanations = summary,
                };
                var path = Path.Combine(dir, "summary.json");
                File.WriteAllText(path, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
                stdout.WriteLine($"wrote {path}");
            }
            if (failures > 0) { stderr.WriteLine($"{failures} of {files.Count} images failed"); return 1; }
            return 0;
        });
        return cmd;
    }

    private static List<object> ExplainOne(SalientModel model, string file, ExplainRequest request, string dir, Colormap cm, float alpha, bool raw, TextWriter stdout)
    {
        var sw = Stopwatch.StartNew();
        var image = model.LoadImage(file);
        var prepared = model.Prepare(image);
        var decode = sw.Elapsed;
        var result = Explainer.Explain(model, [prepared], request);
        var entries = new List<object>();
        string stem = Slug(Path.GetFileNameWithoutExtension(file));
        foreach (var e in result.Explanations)
        {
            var render = Stopwatch.StartNew();
            string baseName = $"{stem}_{Slug(e.Method)}_{e.ClassIndex}-{Slug(e.Label)}";
            var atOriginal = e.NormalizedAtOriginal();
            var title = $"{e.Method} · {e.Layer} · {e.ClassIndex} {e.Label} · logit {e.Logit:0.00} · p {e.Probability:0.000}";
            var panel = HeatmapRenderer.Panel(image, atOriginal, cm, alpha, title, e.Geometry);
            string panelPath = Path.Combine(dir, baseName + ".png");
            ImageWriter.SavePng(panel, panelPath);
            string? rawPath = null, normPath = null;
            if (raw)
            {
                rawPath = Path.Combine(dir, baseName + "_raw.npy");
                Npy.Write(rawPath, e.RawMap, e.Height, e.Width);
                normPath = Path.Combine(dir, baseName + "_map.npy");
                Npy.Write(normPath, atOriginal, image.Height, image.Width);
            }
            stdout.WriteLine($"wrote {panelPath}  ({e.Method}, layer {e.Layer}, class {e.ClassIndex} '{e.Label}', logit {e.Logit:0.000}, p {e.Probability:0.000})");
            entries.Add(new
            {
                image = file,
                image_size = new[] { image.Width, image.Height },
                method = e.Method,
                layer = e.Layer,
                @class = e.ClassIndex,
                label = e.Label,
                logit = e.Logit,
                probability = e.Probability,
                map_shape = new[] { e.Height, e.Width },
                crop = new { x = e.Geometry.X, y = e.Geometry.Y, width = e.Geometry.Width, height = e.Geometry.Height },
                files = new { panel = panelPath, raw = rawPath, map = normPath },
                timings_ms = new { decode_preprocess = decode.TotalMilliseconds, forward = result.ForwardTime.TotalMilliseconds, method = e.Elapsed.TotalMilliseconds, render = render.Elapsed.TotalMilliseconds },
            });
        }
        return entries;
    }

    internal static List<string> Split(string s) =>
        s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static Dictionary<string, string> ParseParams(string[]? ps)
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in ps ?? [])
        {
            int eq = p.IndexOf('=');
            if (eq <= 0) throw new SalientException($"--param '{p}' is not NAME=VALUE");
            d[p[..eq].Trim()] = p[(eq + 1)..].Trim();
        }
        return d;
    }

    internal static string Slug(string s)
    {
        var sb = new StringBuilder();
        foreach (var ch in s.ToLowerInvariant())
            sb.Append(char.IsLetterOrDigit(ch) || ch is '+' or '.' ? ch : '-');
        var r = sb.ToString().Trim('-');
        while (r.Contains("--")) r = r.Replace("--", "-");
        return r.Length == 0 ? "x" : r.Length > 60 ? r[..60] : r;
    }
}
