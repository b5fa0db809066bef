using Salient.Imaging;
using Salient.Models;

namespace Salient.Perturbation;

/// <summary>Helpers shared by the perturbation methods: masking an input, its per-row shape.</summary>
internal static class InputMasking
{
    /// <summary>dst = x ⊙ mask, the H×W mask applied to every channel of one input (NCHW or NHWC).</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, Span<float> dst, int channels, TensorLayout layout)
    {
        int plane = mask.Length;
        if (layout == TensorLayout.Nchw)
        {
            for (int c = 0; c < channels; c++)
                SpanMath.Multiply(x.Slice(c * plane, plane), mask, dst.Slice(c * plane, plane));
        }
        else
        {
            for (int p = 0; p < plane; p++)
            {
                float m = mask[p];
                int o = p * channels;
                for (int c = 0; c < channels; c++) dst[o + c] = x[o + c] * m;
            }
        }
    }

    /// <summary>The per-row shape of the model input (no batch axis).</summary>
    public static long[] RowShape(SalientModel model, PreparedInput item) => model.Input.ShapeFor(1, item.Height, item.Width)[1..];
}
