using System.Text.Json;
using System.Text.Json.Serialization;

namespace Salient.Models;

/// <summary>
/// Optional JSON file next to a model (<c>model.onnx.json</c> or <c>model.salient.json</c>) that
/// records how to use it, so other models need no flags. Relative paths are relative to the file.
/// <code>{ "preprocess": "caffe", "mean": [..], "std": [..], "scale": 1, "bgr": true,
///   "resize": "crop", "size": [224, 224], "labels": "classes.txt", "layer": "block5_conv3" }</code>
/// </summary>
internal sealed record Sidecar
{
    [JsonPropertyName("preprocess")] public string? Preprocess { get; init; }
    [JsonPropertyName("mean")] public float[]? Mean { get; init; }
    [JsonPropertyName("std")] public float[]? Std { get; init; }
    [JsonPropertyName("scale")] public float? Scale { get; init; }
    [JsonPropertyName("bgr")] public bool? Bgr { get; init; }
    [JsonPropertyName("resize")] public string? Resize { get; init; }
    [JsonPropertyName("size")] public int[]? Size { get; init; }
    [JsonPropertyName("labels")] public string? Labels { get; init; }
    [JsonPropertyName("layer")] public string? Layer { get; init; }

    [JsonIgnore] public string? Path { get; init; }

    public static string[] CandidatePaths(string modelPath)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(modelPath))!;
        var stem = System.IO.Path.GetFileNameWithoutExtension(modelPath);
        return [modelPath + ".json", System.IO.Path.Combine(dir, stem + ".salient.json")];
    }

    public static Sidecar? TryLoad(string modelPath)
    {
        foreach (var p in CandidatePaths(modelPath))
        {
            if (!File.Exists(p)) continue;
            try
            {
                var s = JsonSerializer.Deserialize<Sidecar>(File.ReadAllText(p), new JsonSerializerOptions { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
                        ?? throw new SalientException($"sidecar '{p}' is empty");
                return s with { Path = p };
            }
            catch (JsonException e) { throw new SalientException($"sidecar '{p}' is not valid JSON: {e.Message}", e); }
        }
        return null;
    }

    public string? Resolve(string? relative) =>
        relative is null || Path is null ? relative : System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, relative));
}
