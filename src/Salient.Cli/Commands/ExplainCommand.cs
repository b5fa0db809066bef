using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Salient.Explain;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Rendering;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>salient explain</c>: heatmap panels (and raw maps, JSON) per image × method × class. Any number
/// of images and folders: the next images are decoded on a background task while the current ones are
/// explained, a progress bar (images/s, ETA) shows on a terminal and plain log lines otherwise, a bad
/// file is reported and skipped (exit code 1 at the end), and <c>results.jsonl</c> gets one line per
/// image × method × class (and one per failed image).
/// </summary>
internal static class ExplainCommand
{
    public const string ResultsFile = "results.jsonl";

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

        // One option per declared method parameter (generated from the declarations); each sets the
        // request parameter of the same name and wins over --param.
        var methodOptions = MethodOptions.Create(except: [.. common.Names, "--method", "--layer", "--class", "--out", "--colormap", "--alpha", "--raw", "--json", "--param"]);

        var cmd = new Command("explain", "write heatmap panels (original | heatmap | overlay) showing where the model looks");
        cmd.Arguments.Add(images);
        common.AddTo(cmd);
        foreach (var o in new Option[] { method, layer, cls, outDir, colormap, alpha, raw, json, param }) cmd.Options.Add(o);
        foreach (var (o, _) in methodOptions) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var cm = Colormaps.Parse(p.GetValue(colormap)!);
            float a = p.GetValue(alpha);
            if (a is < 0 or > 1 || float.IsNaN(a)) throw new SalientException($"--alpha {a} must be between 0 and 1");
            var parameters = ParseParams(p.GetValue(param));
            MethodOptions.Collect(p, methodOptions, parameters);
            var request = new ExplainRequest
            {
                Methods = Split(p.GetValue(method)!),
                Layers = Split(p.GetValue(layer)!),
                Classes = Split(p.GetValue(cls)!),
                Parameters = parameters,
            };
            var methods = request.Methods.Select(MethodRegistry.Get).ToList(); // fail fast on a typo
            ParameterCheck.Validate(methods, parameters);
            if (parameters.TryGetValue(CommonParameters.AugSmooth.Name, out var aug) && CommonParameters.AugSmooth.Parse(aug)
                && methods.Where(m => !m.UsesLayer).Select(m => m.Name).ToList() is { Count: > 0 } pixel)
                stderr.WriteLine($"note: --aug-smooth applies to CAM (layer) methods; {string.Join(", ", pixel)} run without it");
            var files = CommonOptions.ExpandImages(p.GetValue(images));
            var total = Stopwatch.StartNew();
            using var model = common.LoadModel(p);
            var loadTime = total.Elapsed;
            string dir = p.GetValue(outDir)!;
            Directory.CreateDirectory(dir);
            var run = new FolderRun(model, files, request, dir, cm, a, p.GetValue(raw), stdout, stderr)
            {
                // Perturbation methods run hundreds of forward passes per image: one image at a time, so
                // progress moves per image. The cheap methods share one forward pass for a few images.
                ImagesPerBatch = methods.Any(m => m.ManyForwardPasses) ? 1 : 8,
            };
            var summary = run.Execute();
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
            if (run.Failures.Count > 0)
            {
                stderr.WriteLine($"{run.Failures.Count} of {files.Count} images failed:");
                foreach (var (file, message) in run.Failures) stderr.WriteLine($"  {file}: {message}");
                return 1;
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>One decoded (or failed) image from the background decoder.</summary>
    private sealed record Decoded(int Index, string File, RgbImage? Image, PreparedInput? Prepared, TimeSpan DecodeTime, Exception? Error);

    /// <summary>The images of one explain command: decode ahead, explain, render, log, record.</summary>
    private sealed class FolderRun(SalientModel model, List<string> files, ExplainRequest request, string dir, Colormap cm, float alpha, bool raw,
        TextWriter stdout, TextWriter stderr)
    {
        public int ImagesPerBatch { get; init; } = 1;
        public List<(string File, string Message)> Failures { get; } = new();
        private readonly List<object> _summary = new();
        private StreamWriter? _jsonl;
        private int _done;
        private readonly Stopwatch _clock = new();

        private bool Interactive => files.Count > 1 && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;

        public List<object> Execute()
        {
            string jsonlPath = Path.Combine(dir, ResultsFile);
            using (_jsonl = new StreamWriter(jsonlPath, append: false, new UTF8Encoding(false)))
            {
                _clock.Start();
                if (Interactive)
                {
                    var console = AnsiConsole.Create(new AnsiConsoleSettings
                    {
                        Out = new AnsiConsoleOutput(Console.Out),
                        Ansi = AnsiSupport.Detect,
                        ColorSystem = ColorSystemSupport.Detect,
                        Interactive = InteractionSupport.Yes,
                    });
                    console.Progress()
                        .AutoClear(false)
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new CountColumn(), new RateColumn(), new EtaColumn())
                        .Start(ctx =>
                        {
                            var task = ctx.AddTask("explain", maxValue: files.Count);
                            Loop(_ => task.Increment(1));
                        });
                }
                else Loop(null);
            }
            stdout.WriteLine($"wrote {jsonlPath}");
            return _summary;
        }

        private void Loop(Action<int>? onImage)
        {
            var channel = Channel.CreateBounded<Decoded>(new BoundedChannelOptions(Math.Max(2, 2 * ImagesPerBatch)) { SingleReader = true, SingleWriter = true });
            using var cancel = new CancellationTokenSource();
            // Decode ahead on a background task while the current images are explained.
            var producer = Task.Run(async () =>
            {
                try
                {
                    for (int i = 0; i < files.Count; i++)
                    {
                        var sw = Stopwatch.StartNew();
                        Decoded d;
                        try
                        {
                            var image = model.LoadImage(files[i]);
                            d = new Decoded(i, files[i], image, model.Prepare(image), sw.Elapsed, null);
                        }
                        catch (Exception e) when (e is SalientException or IOException or UnauthorizedAccessException or ArgumentException)
                        {
                            d = new Decoded(i, files[i], null, null, sw.Elapsed, e);
                        }
                        await channel.Writer.WriteAsync(d, cancel.Token);
                    }
                }
                finally { channel.Writer.Complete(); }
            });
            try
            {
                var reader = channel.Reader;
                var group = new List<Decoded>();
                while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    group.Clear();
                    while (group.Count < ImagesPerBatch && reader.TryRead(out var d))
                    {
                        if (d.Error is not null) { Fail(d.File, d.Error); onImage?.Invoke(d.Index); continue; }
                        group.Add(d);
                    }
                    if (group.Count == 0) continue;
                    ExplainGroup(group, onImage);
                }
            }
            finally
            {
                cancel.Cancel();
                try { producer.GetAwaiter().GetResult(); } catch (OperationCanceledException) { }
            }
        }

        private void ExplainGroup(List<Decoded> group, Action<int>? onImage)
        {
            var sw = Stopwatch.StartNew();
            ExplainResult? result = null;
            try { result = Explainer.Explain(model, group.Select(g => g.Prepared!).ToList(), request); }
            catch (Exception e) when (IsPerImage(e) && group.Count > 1)
            {
                // Find the image at fault: explain them one by one.
                foreach (var g in group) ExplainGroup([g], onImage);
                return;
            }
            catch (Exception e) when (IsPerImage(e))
            {
                Fail(group[0].File, e);
                onImage?.Invoke(group[0].Index);
                return;
            }
            var forwardShare = result.ForwardTime / group.Count;
            for (int i = 0; i < group.Count; i++)
            {
                var g = group[i];
                var entries = new List<Dictionary<string, object?>>();
                foreach (var e in result.Explanations.Where(e => e.Item == i))
                    entries.Add(Write(g, e, forwardShare));
                foreach (var entry in entries)
                {
                    _jsonl!.WriteLine(JsonSerializer.Serialize(entry));
                    _summary.Add(entry);
                }
                _jsonl!.Flush();
                _done++;
                if (!Interactive && files.Count > 1)
                {
                    double elapsed = _clock.Elapsed.TotalSeconds;
                    double rate = _done / Math.Max(1e-9, elapsed);
                    int left = files.Count - _done - Failures.Count;
                    stdout.WriteLine($"[{_done + Failures.Count}/{files.Count}] {g.File}: {entries.Count} map{(entries.Count == 1 ? "" : "s")} in {sw.Elapsed.TotalSeconds / group.Count:0.00} s · {rate:0.00} images/s · ETA {FormatDuration(left / Math.Max(rate, 1e-9))}");
                }
                onImage?.Invoke(g.Index);
            }
        }

        // A single image's problem (bad class for its logits, a model that rejects it…), not a bug.
        private static bool IsPerImage(Exception e) => e is SalientException or IOException or UnauthorizedAccessException;

        private void Fail(string file, Exception e)
        {
            // A single image: the error is the command's error (one line, exit code 1).
            if (files.Count == 1) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
            string message = e.Message.Split('\n')[0];
            Failures.Add((file, message));
            if (!Interactive) stderr.WriteLine($"error: {file}: {message}");
            _jsonl!.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?> { ["image"] = file, ["status"] = "error", ["error"] = message }));
            _jsonl.Flush();
        }

        private Dictionary<string, object?> Write(Decoded g, Explanation e, TimeSpan forward)
        {
            var render = Stopwatch.StartNew();
            var image = g.Image!;
            string stem = Slug(Path.GetFileNameWithoutExtension(g.File));
            string baseName = $"{stem}_{Slug(e.Method)}_{e.ClassIndex}-{Slug(e.Label)}";
            var atOriginal = e.NormalizedAtOriginal();
            var panel = ExplanationRendering.Panel(model, e, image, cm, alpha, atOriginal);
            string panelPath = Path.Combine(dir, baseName + ".png");
            ImageWriter.SavePng(panel, panelPath);
            string? rawPath = null, normPath = null, gradientPath = null, channelsPath = null;
            // Image-valued methods (guided backprop…): the deprocessed gradient image (standardize, ×0.1, +0.5, clip).
            if (ExplanationRendering.GradientImageOf(model, e) is { } gradientImage)
            {
                gradientPath = Path.Combine(dir, baseName + "_gradient.png");
                ImageWriter.SavePng(gradientImage, gradientPath);
            }
            if (raw)
            {
                rawPath = Path.Combine(dir, baseName + "_raw.npy");
                Npy.Write(rawPath, e.RawMap, e.Height, e.Width);
                normPath = Path.Combine(dir, baseName + "_map.npy");
                Npy.Write(normPath, atOriginal, image.Height, image.Width);
                if (e.RawChannels is { } ch)
                {
                    channelsPath = Path.Combine(dir, baseName + "_channels.npy");
                    Npy.Write(channelsPath, ch, e.ChannelCount, e.Height, e.Width);
                }
            }
            if (!Interactive) stdout.WriteLine($"wrote {panelPath}  ({e.Method}, layer {e.Layer}, class {e.ClassIndex} '{e.Label}', logit {e.Logit:0.000}, p {e.Probability:0.000})");
            return new Dictionary<string, object?>
            {
                ["image"] = g.File,
                ["status"] = "ok",
                ["image_size"] = new[] { image.Width, image.Height },
                ["method"] = e.Method,
                ["layer"] = e.Layer,
                ["class"] = e.ClassIndex,
                ["label"] = e.Label,
                ["logit"] = e.Logit,
                ["probability"] = e.Probability,
                ["map_shape"] = new[] { e.Height, e.Width },
                ["crop"] = new { x = e.Geometry.X, y = e.Geometry.Y, width = e.Geometry.Width, height = e.Geometry.Height },
                ["files"] = new { panel = panelPath, raw = rawPath, map = normPath, gradient = gradientPath, channels = channelsPath },
                ["timings_ms"] = new { decode_preprocess = g.DecodeTime.TotalMilliseconds, forward = forward.TotalMilliseconds, method = e.Elapsed.TotalMilliseconds, render = render.Elapsed.TotalMilliseconds },
            };
        }
    }

    internal static string FormatDuration(double seconds)
    {
        if (double.IsNaN(seconds) || double.IsInfinity(seconds)) return "?";
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes}:{t.Seconds:00}";
    }

    /// <summary>"done/total".</summary>
    private sealed class CountColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text($"{task.Value:0}/{task.MaxValue:0}");
    }

    /// <summary>Images per second since the start.</summary>
    private sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            double s = task.ElapsedTime?.TotalSeconds ?? 0;
            return new Text(s > 0 && task.Value > 0 ? $"{task.Value / s:0.00} img/s" : "– img/s");
        }
    }

    /// <summary>Remaining time at the average rate so far.</summary>
    private sealed class EtaColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            double s = task.ElapsedTime?.TotalSeconds ?? 0;
            if (task.Value <= 0 || s <= 0) return new Text("ETA –");
            return new Text($"ETA {FormatDuration((task.MaxValue - task.Value) * s / task.Value)}");
        }
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
