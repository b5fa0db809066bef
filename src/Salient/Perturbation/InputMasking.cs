using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Perturbation;

/// <summary>
/// Marks the methods that run many forward passes per image (Score-CAM, Ablation-CAM, occlusion,
/// RISE). The CLI explains images one at a time for them, so its progress moves per image.
/// </summary>
public interface IPerturbationMethod
{
}

/// <summary>Helpers shared by the perturbation methods: masking an input, running rows of the whole model, reading scores.</summary>
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

    /// <summary>Runs <paramref name="count"/> generated inputs through the whole model; returns their logits (count × classes).</summary>
    public static float[] RunModel(MethodContext ctx, PreparedInput item, int count, RowFill fill, out int classes)
    {
        var model = ctx.Model;
        var session = model.Session([ctx.Structure.LogitsName]);
        int batch = BatchSizing.Resolve(ctx.Parameters, BatchSizing.ForModel(model));
        var runner = new BatchRunner(session, [new BatchInput(model.Input.Name, RowShape(model, item), fill)], ctx.Structure.LogitsName,
            batch, model.Input.DynamicBatch ? null : model.Input.FixedBatch);
        var logits = runner.Run(count, out classes);
        return logits;
    }

}
