using Salient.Runtime;

namespace Salient.Methods;

/// <summary>One item's activation of a 4-D layer, as C×H×W. Read-only: it may share the tensor's array.</summary>
internal sealed record Activation(float[] Data, int C, int H, int W)
{
    public int Plane => H * W;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static Activation FromTensor(TensorValue t, int item, TensorLayout layout)
    {
        if (t.Shape.Length != 4) throw new SalientException($"layer '{t.Name}' has shape [{string.Join(",", t.Shape)}]; CAM methods need a 4-D spatial layer");
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
