using System.CommandLine;
using System.Globalization;
using Salient.Imaging;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Cli.Commands;

/// <summary>Options shared by every command that loads a model and reads images.</summary>
internal sealed class CommonOptions
{
    public readonly Option<string?> Model = new("--model", "-m") { Description = "ONNX model file (default: shared/models/mobilenetv2-fp32.onnx)" };
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

    /// <summary>The names of the shared options (generated options must not reuse them).</summary>
    public IEnumerable<string> Names => new Option[] { Model, Labels, Preprocess, Mean, Std, Scale, Bgr, Resize, Size, MaxPixels, Threads, Provider }.Select(o => o.Name);

    public void AddTo(Command c)
    {
        foreach (var o in new Option[] { Model, Labels, Preprocess, Mean, Std, Scale, Bgr, Resize, Size, MaxPixels, Threads, Provider })
            c.Options.Add(o);
    }

    public bool UsesDefaultModel(ParseResult p) => p.GetValue(Model) is null;

    public SalientModel LoadModel(ParseResult p)
    {
        string? path = p.GetValue(Model);
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
            Runtime = new RuntimeOptions { IntraOpThreads = p.GetValue(Threads) ?? 0, ExecutionProvider = p.GetValue(Provider) ?? "cpu", Verbose = p.GetValue(Program.Verbose) },
        };
        if (path is null)
        {
            path = DefaultAssets.ModelPath;
            options = DefaultAssets.Apply(options with { Preprocessing = pp });
        }
        if (mean is not null || std is not null || scale is not null || bgr is not null)
            pp = (pp ?? options.Preprocessing ?? Preprocessing.Imagenet).WithOverrides(mean, std, scale, bgr);
        if (pp is not null) options = options with { Preprocessing = pp };
        return SalientModel.Load(path, options);
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

    /// <summary>Image arguments: files, or folders (their images, sorted); the sample image when none given.</summary>
    public static List<string> ExpandImages(IEnumerable<string>? args, bool allowDefault = true)
    {
        var list = new List<string>();
        foreach (var a in args ?? [])
        {
            if (a.StartsWith('-') && !File.Exists(a))
                throw new SalientException($"unknown option '{a}' (see --help)");
            if (Directory.Exists(a))
                list.AddRange(Directory.EnumerateFiles(a).Where(IsImageName).Order(StringComparer.Ordinal));
            else list.Add(a);
        }
        if (list.Count == 0 && args?.Any() == true) throw new SalientException($"no images (.png, .jpg, .jpeg, .bmp, .webp, .gif) in {string.Join(", ", args)}");
        if (list.Count == 0 && allowDefault) list.Add(DefaultAssets.ImagePath);
        return list;
    }

    public static bool IsImageName(string p) =>
        Path.GetExtension(p).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg" or ".bmp" or ".webp" or ".gif";
}
