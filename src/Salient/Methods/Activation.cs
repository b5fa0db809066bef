using Salient.Models;
using Salient.Runtime;

namespace Salient.Methods;

/// <summary>One item's activation of a layer, as C×H×W. Read-only: it may share the tensor's array.</summary>
internal sealed record Activation(float[] Data, int C, int H, int W)
{
    public int Plane => H * W;

    /// <summary>
    /// One item of a target layer's tensor (activation or gradient) as C×H×W: a 4-D map in its layout, or a
    /// token layer [N, skip + h·w, C] without its leading (class) tokens, the patch tokens read row by row
    /// into the h×w grid — pytorch-grad-cam's ViT reshape transform.
    /// </summary>
    public static Activation FromLayer(TensorValue t, int item, LayerInfo layer) =>
        layer.Tokens is { } grid ? FromTokens(t, item, grid) : FromTensor(t, item, layer.Layout ?? TensorLayout.Nchw);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static Activation FromTokens(TensorValue t, int item, TokenGrid grid)
    {
        if (t.Shape.Length != 3 || t.Shape[1] != grid.Skip + (long)grid.H * grid.W)
            throw new SalientException($"layer '{t.Name}' has shape [{string.Join(",", t.Shape)}], not [N, {grid.Skip}+{grid.H}·{grid.W} tokens, C]");
        int tokens = (int)t.Shape[1], c = (int)t.Shape[2];
        var d = new float[c * grid.H * grid.W];
        Layouts.HwcToChw(t.Data.AsSpan((item * tokens + grid.Skip) * c, grid.H * grid.W * c), d, c, grid.H, grid.W);
        return new Activation(d, c, grid.H, grid.W);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static Activation FromTensor(TensorValue t, int item, TensorLayout layout)
    {
        if (t.Shape.Length != 4) throw new SalientException($"layer '{t.Name}' has shape [{string.Join(",", t.Shape)}]; CAM methods need a 4-D spatial layer or a token layer");
        if (layout == TensorLayout.Nchw)
        {
            int c = (int)t.Shape[1], h = (int)t.Shape[2], w = (int)t.Shape[3];
            if (item == 0 && t.Shape[0] == 1 && t.Data.Length == c * h * w) return new Activation(t.Data, c, h, w);   // one item: share, no copy
            var d = new float[c * h * w];
            Array.Copy(t.Data, (long)item * d.Length, d, 0, d.Length);
            return new Activation(d, c, h, w);
        }
        else
        {
            int h = (int)t.Shape[1], w = (int)t.Shape[2], c = (int)t.Shape[3];
            var d = new float[c * h * w];
            Layouts.HwcToChw(t.Data.AsSpan(item * d.Length, d.Length), d, c, h, w);
            return new Activation(d, c, h, w);
        }
    }
}
