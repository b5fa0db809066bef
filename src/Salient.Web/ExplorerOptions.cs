using Salient.Models;

namespace Salient.Web;

/// <summary>What `salient serve` runs: the models to offer, the image folder, limits and where to cache.</summary>
internal sealed record ExplorerOptions
{
    /// <summary>Model files (each offered under its file name); empty: the built-in MobileNetV2.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];
    /// <summary>Options every model is loaded with (threads, preprocessing, labels, pixel limit).</summary>
    public ModelOptions ModelOptions { get; init; } = new();
    /// <summary>A folder of images for "pick from folder" and a channel's top images (null: none).</summary>
    public string? ImagesFolder { get; init; }
    /// <summary>Where feature visualizations and folder activations are cached (created on demand).</summary>
    public string CacheFolder { get; init; } = Path.Combine(Path.GetTempPath(), "salient-serve-cache");
    /// <summary>Address to listen on; anything but loopback is reachable from the network.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>Port (0: any free port).</summary>
    public int Port { get; init; } = 8080;
    /// <summary>Largest request body accepted (uploads are decoded from memory, never written to disk).</summary>
    public long MaxUploadBytes { get; init; } = 16 * 1024 * 1024;
    /// <summary>Decoded-pixel limit of an uploaded image.</summary>
    public long MaxPixels { get; init; } = 40_000_000;
    /// <summary>Model runs at once (more requests wait their turn, or give up when their client goes away).</summary>
    public int MaxConcurrentRuns { get; init; } = Math.Max(1, Environment.ProcessorCount);
    /// <summary>Optimization steps of a feature visualization (null: the preset's).</summary>
    public int? VisualizationSteps { get; init; }
    /// <summary>Images of the folder ranked for a channel's top images (the first N by name).</summary>
    public int MaxFolderImages { get; init; } = 500;

    /// <summary>True for 127.0.0.1, ::1 and localhost.</summary>
    public bool IsLoopback => Host is "127.0.0.1" or "::1" or "[::1]" or "localhost";
}
