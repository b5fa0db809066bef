using System.Runtime.CompilerServices;
using Salient.Imaging;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Visualization;

/// <summary>
/// Image space ↔ model-input space for the optimizers: planar RGB pixels in [0, 255] seen through a
/// <see cref="Warp"/>, then the model's own normalization (<see cref="Preprocessor.WriteTensor"/>:
/// gray luma, BGR swap, mean / std / scale, NCHW or NHWC); and the adjoint of that chain, which takes
/// the engine's input gradient back to a pixel gradient.
/// </summary>
internal sealed class InputMapping
{
    private readonly InputSpec _spec;
    private readonly Preprocessing _pp;

    public InputMapping(SalientModel model, int width, int height, int modelWidth, int modelHeight)
    {
        _spec = model.Input;
        _pp = model.Preprocessing;
        Width = width;
        Height = height;
        ModelWidth = modelWidth;
        ModelHeight = modelHeight;
    }

    public int Width { get; }
    public int Height { get; }
    public int ModelWidth { get; }
    public int ModelHeight { get; }
    private int ModelPlane => ModelWidth * ModelHeight;

    /// <summary>The model input for every item's pixels (planar, Width × Height) seen through its warp.</summary>
    public InputValue Forward(float[][] pixels, Warp[] warps)
    {
        int b = pixels.Length, per = _spec.Channels * ModelPlane;
        var data = new float[b * per];
        Parallel.For(0, b, i => Forward(pixels[i], warps[i], data.AsSpan(i * per, per)));
        return new InputValue(_spec.Name, _spec.ShapeFor(b, ModelHeight, ModelWidth), data);
    }

    private void Forward(float[] pixels, Warp warp, Span<float> dst)
    {
        int mp = ModelPlane;
        var view = new float[3 * mp];
        warp.Apply(pixels, view, 3, 127.5f);
        var interleaved = new float[3 * mp];
        for (int k = 0; k < mp; k++)
            for (int c = 0; c < 3; c++) interleaved[3 * k + c] = view[c * mp + k];
        var layout = _spec.Layout == TensorLayout.Nchw ? TensorLayout.Nchw : TensorLayout.Nhwc;
        Preprocessor.WriteTensor(new RgbImage(ModelWidth, ModelHeight, interleaved), dst, _spec.Channels, layout, _pp);
    }

    /// <summary>Input-tensor gradient (a batch of <paramref name="warps"/>.Length items) → RGB pixel gradients (planar).</summary>
    public float[][] Backward(float[] inputGradient, Warp[] warps)
    {
        int per = _spec.Channels * ModelPlane;
        var result = new float[warps.Length][];
        Parallel.For(0, warps.Length, i => result[i] = Backward(inputGradient.AsSpan(i * per, per), warps[i]));
        return result;
    }

    /// <summary>
    /// The adjoint of <see cref="Forward(float[], Warp, Span{float})"/>: ∂x/∂p = Scale / Std[c] per model
    /// channel (BGR swap and gray luma undone), then the adjoint of the warp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float[] Backward(ReadOnlySpan<float> src, Warp warp)
    {
        int mp = ModelPlane, ch = _spec.Channels;
        bool nchw = _spec.Layout == TensorLayout.Nchw;
        var view = new float[3 * mp];
        for (int c = 0; c < ch; c++)
        {
            float f = _pp.Scale / _pp.StdOf(c);
            int dstChannel = _pp.Bgr ? 2 - c : c;
            for (int k = 0; k < mp; k++)
            {
                float g = (nchw ? src[c * mp + k] : src[k * ch + c]) * f;
                if (ch == 1)
                {
                    view[k] += 0.299f * g;
                    view[mp + k] += 0.587f * g;
                    view[2 * mp + k] += 0.114f * g;
                }
                else view[dstChannel * mp + k] += g;
            }
        }
        var pg = new float[3 * Width * Height];
        warp.AddAdjoint(view, pg, 3);
        return pg;
    }

    /// <summary>
    /// The RGB pixel values that the preprocessing maps to zero (the "mean image" of DeepVis): the
    /// decay and clipping regularizers pull pixels towards it. Falls back to mid-gray (127.5) when
    /// that value lies outside (0, 255), e.g. for "raw" preprocessing whose zero is black.
    /// </summary>
    public static float[] NeutralColor(Preprocessing pp, int channels)
    {
        var rgb = new float[3];
        for (int k = 0; k < 3; k++)
        {
            int c = channels == 1 ? 0 : pp.Bgr ? 2 - k : k;
            float v = pp.MeanOf(c) / pp.Scale;
            rgb[k] = v > 0 && v < 255 ? v : 127.5f;
        }
        return rgb;
    }
}
