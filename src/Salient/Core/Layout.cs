namespace Salient.Core;

/// <summary>Memory order of the model input tensor (batch dimension excluded).</summary>
public enum TensorLayout
{
    /// <summary>channels × height × width.</summary>
    Nchw,

    /// <summary>height × width × channels.</summary>
    Nhwc,
}

/// <summary>
/// The rectangle of the ORIGINAL image (its pixel coordinates, after EXIF orientation; continuous,
/// so (0, 0, SourceWidth, SourceHeight) is the whole image) that the model input covers.
/// </summary>
public sealed record CropGeometry(double X, double Y, double Width, double Height, int SourceWidth, int SourceHeight)
{
    /// <summary>The geometry that covers the whole of a width × height image.</summary>
    public static CropGeometry Whole(int width, int height) => new(0, 0, width, height, width, height);

    /// <summary>True when the rectangle covers the whole source image (to within 1/1000 pixel).</summary>
    public bool IsWholeImage =>
        Math.Abs(X) < 1e-3 && Math.Abs(Y) < 1e-3 &&
        Math.Abs(Width - SourceWidth) < 1e-3 && Math.Abs(Height - SourceHeight) < 1e-3;
}


/// <summary>Conversions between the two memory orders of one item (no batch axis).</summary>
internal static class Layouts
{
    /// <summary>An item in <paramref name="layout"/> as C×H×W: the same array for NCHW, a reordered copy for NHWC.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float[] ToChw(float[] data, TensorLayout layout, int c, int h, int w)
    {
        if (layout == TensorLayout.Nchw) return data;
        var r = new float[checked(c * h * w)];
        HwcToChw(data, r, c, h, w);
        return r;
    }

    /// <summary>A C×H×W item in <paramref name="layout"/>: the same array for NCHW, a reordered copy for NHWC.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float[] FromChw(float[] chw, TensorLayout layout, int c, int h, int w)
    {
        if (layout == TensorLayout.Nchw) return chw;
        var r = new float[checked(c * h * w)];
        ChwToHwc(chw, r, c, h, w);
        return r;
    }

    /// <summary>dst (C×H×W) ← src (H×W×C).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void HwcToChw(ReadOnlySpan<float> src, Span<float> dst, int c, int h, int w)
    {
        int plane = h * w;
        for (int p = 0; p < plane; p++)
            for (int k = 0; k < c; k++) dst[k * plane + p] = src[p * c + k];
    }

    /// <summary>dst (H×W×C) ← src (C×H×W).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void ChwToHwc(ReadOnlySpan<float> src, Span<float> dst, int c, int h, int w)
    {
        int plane = h * w;
        for (int p = 0; p < plane; p++)
            for (int k = 0; k < c; k++) dst[p * c + k] = src[k * plane + p];
    }
}
