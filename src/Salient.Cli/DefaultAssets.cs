using Salient.Models;

namespace Salient.Cli;

/// <summary>
/// The repository's test data for tests and benchmarks (the CLI itself uses the built-in model,
/// <see cref="SalientModel.LoadBuiltIn"/>, and needs no image default): <c>shared/models/mobilenetv2-fp32.onnx</c>
/// (ImageNet MobileNetV2, imagenet preprocessing, layer features.18, labels imagenet_classes.txt) and
/// <c>shared/images/both.png</c>, found in a <c>shared</c> folder beside the repository (searched
/// upwards from the working directory and from the program's folder) or under $SALIENT_SHARED.
/// </summary>
internal static class DefaultAssets
{
    public const string ModelRelative = "models/mobilenetv2-fp32.onnx";
    public const string LabelsRelative = "models/imagenet_classes.txt";
    public const string ImageRelative = "images/both.png";
    public const string DefaultLayer = "features.18";

    public static string? FindSharedFolder()
    {
        if (Environment.GetEnvironmentVariable("SALIENT_SHARED") is { Length: > 0 } env && File.Exists(Path.Combine(env, ModelRelative)))
            return Path.GetFullPath(env);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, "shared");
                if (File.Exists(Path.Combine(candidate, ModelRelative))) return candidate;
            }
        }
        return null;
    }

    public static string RequireShared() => FindSharedFolder() ?? throw new SalientException(
        "the test data (shared/models/mobilenetv2-fp32.onnx) was not found: put the shared folder beside the repository or set SALIENT_SHARED to it");

    public static string ModelPath => Path.Combine(RequireShared(), ModelRelative);
    public static string LabelsPath => Path.Combine(RequireShared(), LabelsRelative);
    public static string ImagePath => Path.Combine(RequireShared(), ImageRelative);

    /// <summary>Options for the default model: imagenet preprocessing, its labels and layer.</summary>
    public static ModelOptions Apply(ModelOptions o) => o with
    {
        LabelsPath = o.LabelsPath ?? LabelsPath,
        Preprocessing = o.Preprocessing ?? Imaging.Preprocessing.Imagenet,
        DefaultLayer = o.DefaultLayer ?? DefaultLayer,
    };
}
