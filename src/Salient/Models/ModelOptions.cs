using Salient.Imaging;
using Salient.Runtime;

namespace Salient.Models;

/// <summary>How to load and feed a model. Anything left null comes from the sidecar, then from defaults.</summary>
public sealed record ModelOptions
{
    /// <summary>Labels file (one class per line).</summary>
    public string? LabelsPath { get; init; }
    /// <summary>Preprocessing; default: sidecar, else imagenet for 3-channel float inputs, raw for 1 channel, 0–255 for uint8.</summary>
    public Preprocessing? Preprocessing { get; init; }
    public ResizeMode? Resize { get; init; }
    /// <summary>Input (width, height); default: the model's fixed size, else the sidecar's, else 224×224.</summary>
    public (int Width, int Height)? Size { get; init; }
    /// <summary>Default target layer ("auto" when null and the sidecar names none).</summary>
    public string? DefaultLayer { get; init; }
    /// <summary>
    /// Token layers of transformers, when their patch grid cannot be detected: <c>grid=14x14,skip=1</c>
    /// (the patch grid H×W and the number of leading non-patch tokens — class, distillation, register
    /// tokens — before it; either part may be left out). Null: detected from the patch embedding.
    /// </summary>
    public string? Tokens { get; init; }
    public RuntimeOptions Runtime { get; init; } = RuntimeOptions.Default;
    /// <summary>Decoded-pixel limit for images (decompression-bomb guard).</summary>
    public long MaxPixels { get; init; } = 100_000_000;
}
