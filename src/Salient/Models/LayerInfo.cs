using Salient.Imaging;

namespace Salient.Models;

/// <summary>One row of the layer summary: a tensor produced by a node.</summary>
public sealed record LayerInfo(
    int Index, string Name, string OpType, string NodeName, long[] Shape, long Parameters,
    TensorLayout? Layout, bool IsCandidate, bool IsDefault)
{
    /// <summary>Spatial height/width of a 4-D tensor (layout-aware), else 0.</summary>
    public (int H, int W) Spatial => Shape.Length == 4 && Layout is { } l
        ? (l == TensorLayout.Nchw ? ((int)Shape[2], (int)Shape[3]) : ((int)Shape[1], (int)Shape[2]))
        : (0, 0);

    public int Channels => Shape.Length == 4 && Layout is { } l ? (int)(l == TensorLayout.Nchw ? Shape[1] : Shape[3]) : 0;
}
