using System.CommandLine;
using System.Globalization;
using Salient.Imaging;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Cli.Commands;

/// <summary>Options shared by every command that loads a model and reads images.</summary>
internal sealed class CommonOptions
{
    public readonly Option<string?> Model = new("--model", "-m") { Description = "ONNX model file (default: the built-in ImageNet MobileNetV2, mobilenetv2-w8)" };
    public readonly Option<string?> Labels = new("--labels") { Description = "class labels file, one per line (default: sidecar or a labels file next to the model)" };
    public readonly Option<string?> Preprocess = new("--preprocess") { Description = "imagenet | caffe | tf | raw (default: sidecar, else imagenet for RGB models)" };
    public readonly Option<string?> Mean = new("--mean") { Description = "custom per-channel mean, e.g. 0.5,0.5,0.5 (in units after --scale)" };
    public readonly Option<string?> Std = new("--std") { Description = "custom per-channel std, e.g. 0.5,0.5,0.5" };
    public readonly Option<float?> Scale = new("--scale") { Description = "multiply 0–255 pixels by this before mean/std (e.g. 0.00392157)" };
    public readonly Option<bool?> Bgr = new("--bgr") { Description = "feed channels in BGR order" };
    public readonly Option<string?> Resize = new("--resize") { Description = "crop (shorter side to 256/224 of the input, center crop; default) | stretch" };
    public readonly Option<string?> Size = new("--size") { Description = "input size WxH for models with dynamic spatial size (default: the model's, else 224x224)" };
    public readonly Option<long?> MaxPixels = new("--max-pixels") { Description = "decoded-pixel limit per image (default 100000000)" };
    public readonly Option<int?> Threads = new("--threads") { Description = "ONNX Runtime intra-op threads (default: one per core)" };
    public readonly Option<string?> Provider = new("--provider") { Description = "execution provider: cpu (default) | cuda" };
    public readonly Option<string?> Tokens = new("--tokens") { Description = "transformer token layers [N, skip+H·W, C] when their grid is not detected: grid=HxW,skip=N (e.g. grid=14x14,skip=1)" };

    /// <summary>The names of the shared options (generated options must not reuse them).</summary>
    public IEnumerable<string> Names => new Option[] { Model, Labels, Preprocess, Mean, Std, Scale, Bgr, Resize, Size, MaxPixels, Threads, Provider, Tokens }.Select(o => o.Name);

    public void AddTo(Command c)
    {
        foreach (var o in new Option[] { Model, Labels, Preprocess, Mean, Std, Scale, Bgr, Resize, Size, MaxPixels, Threads, Provider, Tokens })
            c.Options.Add(o);
    }

    public bool UsesDefaultModel(ParseResult p) => p.GetValue(Model) is null;

    /// <summary>
    /// Loads --model (or the built-in MobileNetV2 when none is given). For a model with no labels or no
    /// preprocessing information (no sidecar, no flags), <paramref name="notes"/> gets one line saying which defaults were assumed.
    /// </summary>
    public SalientModel LoadModel(ParseResult p, TextWriter? notes = null, string? modelArgument = null)
    {
        if (modelArgument is not null && p.GetValue(Model) is not null)
            throw new SalientException("give the model either as the argument or with --model, not both");
        string? path = modelArgument ?? p.GetValue(Model);
        if (p.GetValue(Threads) is int threads && (threads < 1 || threads > RuntimeOptions.MaxThreads))
            throw new SalientException($"--threads {threads} must be between 1 and {RuntimeOptions.MaxThreads} (4 per core)");
        var pp = p.GetValue(Preprocess) is { } name ? Preprocessing.Parse(name) : null;
        float[]? mean = ParseFloats(p.GetValue(Mean), "--mean");
        float[]? std = ParseFloats(p.GetValue(Std), "--std");
        float? scale = p.GetValue(Scale);
        bool? bgr = p.GetValue(Bgr);
        var options = new ModelOptions
        {
            LabelsPath = p.GetValue(Labels),
            Resize = p.GetValue(Resize) is { } r ? ResizeModes.Parse(r) : null,
            Size = p.GetValue(Size) is { } s ? ParseSize(s) : null,
            MaxPixels = p.GetValue(MaxPixels) ?? 100_000_000,
            Tokens = p.GetValue(Tokens),
            Runtime = new RuntimeOptions { IntraOpThreads = p.GetValue(Threads) ?? 0, ExecutionProvider = p.GetValue(Provider) ?? "cpu", Verbose = p.GetValue(Program.Verbose) },
        };
        bool custom = mean is not null || std is not null || scale is not null || bgr is not null;
        if (custom) pp = (pp ?? Preprocessing.Imagenet).WithOverrides(mean, std, scale, bgr);
        if (pp is not null) options = options with { Preprocessing = pp };
        if (path is null) return SalientModel.LoadBuiltIn(options);
        if (Directory.Exists(path))
            throw new SalientException($"--model '{path}' is a folder; give the model file: --model {Path.Combine(path, "model.onnx")} (or leave --model out to use the built-in MobileNetV2)");
        if (!File.Exists(path))
            throw new SalientException($"model file '{path}' not found; give an ONNX model with --model PATH/TO/MODEL.onnx, or leave --model out to use the built-in ImageNet MobileNetV2");
        var model = SalientModel.Load(path, options);
        if (notes is not null) NoteAssumedDefaults(model, notes);
        return model;
    }

    /// <summary>One line naming the defaults assumed for a model that says nothing about its labels or preprocessing.</summary>
    internal static void NoteAssumedDefaults(SalientModel model, TextWriter notes)
    {
        var assumed = new List<string>();
        if (model.Options.Preprocessing is null && model.Sidecar?.Preprocess is null && model.Sidecar?.Mean is null)
            assumed.Add($"{model.Preprocessing.Name} preprocessing (--preprocess to change)");
        if (model.Options.Resize is null && model.Sidecar?.Resize is null)
            assumed.Add($"{model.Resize.ToString().ToLowerInvariant()} resize");
        if (model.Labels is null && model.Structure().ClassCount > 0)
            assumed.Add("no labels, classes shown as numbers (--labels FILE)");
        if (assumed.Count > 0)
            notes.WriteLine($"note: {Path.GetFileName(model.Path)} has no sidecar ({Path.GetFileName(model.Path)}.json) — assumed {string.Join("; ", assumed)}");
    }

    public static (int Width, int Height) ParseSize(string s)
    {
        var parts = s.ToLowerInvariant().Split('x', '×', ',');
        if (parts.Length == 1 && int.TryParse(parts[0], out int one) && one > 0) return (one, one);
        if (parts.Length == 2 && int.TryParse(parts[0], out int w) && int.TryParse(parts[1], out int h) && w > 0 && h > 0) return (w, h);
        throw new SalientException($"--size '{s}' is not WxH (e.g. 224x224)");
    }

    public static float[]? ParseFloats(string? s, string what)
    {
        if (s is null) return null;
        var parts = s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var r = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out r[i]))
                throw new SalientException($"{what} '{s}' is not a comma-separated list of numbers");
        return r;
    }

    /// <summary>Image arguments: files, or folders (their images, sorted; with <paramref name="recursive"/> also in subfolders).</summary>
    public static List<string> ExpandImages(IEnumerable<string>? args, string command, bool recursive = false)
    {
        var list = new List<string>();
        foreach (var a in args ?? [])
        {
            if (a.StartsWith('-') && !File.Exists(a))
                throw new SalientException($"unknown option '{a}' (see --help)");
            if (Directory.Exists(a))
                list.AddRange(Directory.EnumerateFiles(a, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)
                    .Where(IsImageName).Order(StringComparer.Ordinal));
            else list.Add(a);
        }
        if (list.Count == 0 && args?.Any() == true)
            throw new SalientException($"no images (.png, .jpg, .jpeg, .bmp, .webp, .gif) in {string.Join(", ", args)}{(recursive ? "" : " (--recursive to look in subfolders)")}");
        if (list.Count == 0)
            throw new SalientException($"no image given: salient {command} IMAGE|FOLDER… (e.g. salient {command} photo.jpg)");
        return list;
    }

    public static bool IsImageName(string p) =>
        Path.GetExtension(p).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg" or ".bmp" or ".webp" or ".gif";
}
