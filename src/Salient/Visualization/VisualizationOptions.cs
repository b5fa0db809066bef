using Salient.Imaging;

namespace Salient.Visualization;

/// <summary>Options of one <see cref="FeatureVisualizer"/>.Run.</summary>
public sealed record VisualizationOptions
{
    public VisualizationPreset Preset { get; init; } = VisualizationPresets.Default;
    /// <summary>Optimization steps (default: the preset's).</summary>
    public int? Steps { get; init; }
    /// <summary>
    /// Size of the synthesized image (default: the model's input size). A model with a dynamic
    /// spatial input runs at this size; a fixed-size model sees the image resampled to its input.
    /// </summary>
    public (int Width, int Height)? Size { get; init; }
    /// <summary>Seed of the start noise and of the random transforms (same seed, same images).</summary>
    public int Seed { get; init; }
    /// <summary>Start from this image (fitted to the size like the predict path) instead of noise.</summary>
    public RgbImage? Start { get; init; }
    /// <summary>Weight of the diversity term between the images of a batch (0: off).</summary>
    public float Diversity { get; init; }
    /// <summary>Layer whose Gram matrices the diversity term compares (default: the units' layer, else a middle layer).</summary>
    public string? DiversityLayer { get; init; }
    /// <summary>Images optimized together (one engine call per step for all of them).</summary>
    public int BatchSize { get; init; } = 16;
}

/// <summary>
/// One synthesized image: <c>Value</c> is the objective of the returned image (a plain forward pass,
/// no random transform); <c>Trace</c> the objective at every step (under that step's transform, if any).
/// </summary>
public sealed record VisualizationResult(Objective Objective, RgbImage Image, float Value, IReadOnlyList<float> Trace);

/// <summary>
/// Progress after one step of one batch: <c>Values</c> holds the objective per image of the batch
/// (units FirstUnit … FirstUnit + Values.Count − 1 of TotalUnits); <c>Diversity</c> the diversity term.
/// </summary>
public sealed record VisualizationProgress(int Step, int Steps, int FirstUnit, int TotalUnits, IReadOnlyList<float> Values, double Diversity);

/// <summary>A deterministic seed from several integers (HashCode is randomized per process).</summary>
internal static class SeedMix
{
    public static int Of(params int[] parts)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (var p in parts)
        {
            h ^= (uint)p;
            h += 0x9E3779B97F4A7C15UL;
            h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
            h = (h ^ (h >> 27)) * 0x94D049BB133111EBUL;
            h ^= h >> 31;
        }
        return (int)(h & 0x7FFFFFFF);
    }
}
