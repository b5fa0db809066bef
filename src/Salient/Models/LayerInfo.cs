using Salient.Imaging;

namespace Salient.Models;

/// <summary>One row of the layer summary: a tensor produced by a node.</summary>
public sealed record LayerInfo(
    int Index, string Name, string OpType, string NodeName, long[] Shape, long Parameters,
    TensorLayout? Layout, bool IsCandidate, bool IsDefault)
{
    /// <summary>The patch grid of a token layer [N, skip + h·w, C] (a transformer's tokens); null for other tensors.</summary>
    internal TokenGrid? Tokens { get; init; }

    /// <summary>True for a transformer token layer [N, skip + h·w, C], which CAM methods read as a C×h×w map without its leading (class) tokens.</summary>
    public bool IsTokenLayer => Tokens is not null;

    /// <summary>Leading tokens of a token layer that are not patches (class, distillation, register tokens); 0 otherwise.</summary>
    public int SkippedTokens => Tokens?.Skip ?? 0;

    /// <summary>
    /// A token layer after the model's last attention whose head reads only the class token: its patch
    /// tokens get no gradient, so gradient CAMs there are all zero.
    /// </summary>
    internal bool ClassTokenOnly { get; init; }

    /// <summary>Spatial height/width of a 4-D tensor (layout-aware) or the grid of a token layer, else 0.</summary>
    public (int H, int W) Spatial => Tokens is { } t ? (t.H, t.W)
        : Shape.Length == 4 && Layout is { } l
        ? (l == TensorLayout.Nchw ? ((int)Shape[2], (int)Shape[3]) : ((int)Shape[1], (int)Shape[2]))
        : (0, 0);

    public int Channels => Tokens is not null ? (int)Shape[2]
        : Shape.Length == 4 && Layout is { } l ? (int)(l == TensorLayout.Nchw ? Shape[1] : Shape[3]) : 0;
}
