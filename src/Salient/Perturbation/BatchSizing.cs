using Salient.Models;
using Salient.Onnx;

namespace Salient.Perturbation;

/// <summary>
/// The default number of rows per ORT batch, from the model's memory footprint: the bytes of every
/// intermediate tensor for one row (from the shape probe) — an upper bound of what ORT holds at once,
/// since its planner reuses buffers — must fit <see cref="BudgetBytes"/> per batch, and the batch is
/// capped at <see cref="MaxRows"/> (on CPU, bigger batches no longer run faster per row; see
/// docs/perturbation.md).
/// </summary>
internal static class BatchSizing
{
    /// <summary>Activation memory allowed for one batch.</summary>
    public const long BudgetBytes = 1L << 30;
    /// <summary>Rows per batch at most, when the user gives no --batch-size.</summary>
    public const int MaxRows = 32;

    /// <summary>Bytes of the given tensors (default: every node output of the graph) for one row.</summary>
    public static long BytesPerRow(Graph graph, IReadOnlyDictionary<string, TensorShape> shapes, int probeBatch, IEnumerable<string>? tensors = null)
    {
        long total = 0;
        foreach (var t in tensors ?? graph.IntermediateNames())
        {
            if (!shapes.TryGetValue(t, out var s) || graph.IsConstant(t)) continue;
            int size = s.Type == DataType.Undefined ? 4 : Math.Max(1, DataTypes.SizeOf(s.Type));
            total += s.Count * size;
        }
        return Math.Max(1, total / Math.Max(1, probeBatch));
    }

    /// <summary>Rows per batch for a per-row footprint.</summary>
    public static int Choose(long bytesPerRow, long budget = BudgetBytes, int maxRows = MaxRows) =>
        (int)Math.Clamp(budget / Math.Max(1, bytesPerRow), 1, maxRows);

    /// <summary>The batch that fits <paramref name="budget"/> for whole-model runs of <paramref name="model"/> (at most <see cref="MaxRows"/>).</summary>
    public static int ForModel(SalientModel model, long budget = BudgetBytes) => Choose(ModelBytesPerRow(model), budget);

    /// <summary>Activation memory of one batch of generated rows by default: small batches run faster per row on CPU.</summary>
    public const long RowBatchBytes = 128L << 20;

    /// <summary>
    /// The default batch for runs of many generated rows (perturbation methods, evaluation metrics): as many
    /// rows as hold <see cref="RowBatchBytes"/> of activations, at least 2, within <paramref name="budget"/>.
    /// Measured on 2 cores: MobileNetV2 rows cost ~30 % more CPU at batch 20 (what the 1 GiB budget alone
    /// gives) than at batch 2, ResNet-50 rows the same from 1 to 10 (docs/evaluation.md); Score-CAM + RISE on
    /// both.png took 9.7–10.0 s at batch 2 vs 11.8–12.0 s at 20 with one thread, 11 vs 13 s CPU with two.
    /// </summary>
    public static int ForRows(SalientModel model, long budget = BudgetBytes)
    {
        long perRow = ModelBytesPerRow(model);
        return Math.Min(Choose(perRow, budget), Math.Max(2, Choose(perRow, RowBatchBytes)));
    }

    /// <summary>Bytes of every intermediate tensor of the whole model for one row.</summary>
    public static long ModelBytesPerRow(SalientModel model)
    {
        var s = model.Structure();
        return BytesPerRow(model.Graph, s.Shapes, model.Input.DynamicBatch ? 1 : model.Input.FixedBatch);
    }

    /// <summary>
    /// Rows per gradient run (forward + backward) within <paramref name="budget"/>: a gradient program
    /// keeps the forward values the backward reads and holds a gradient of similar size per tensor, so a
    /// row is counted as <see cref="GradientFactor"/> × the forward footprint; at most <paramref name="maxRows"/>.
    /// </summary>
    public static int ForGradients(SalientModel model, long budget, int maxRows) =>
        Choose(GradientFactor * ModelBytesPerRow(model), budget, maxRows);

    /// <summary>Forward values kept + their gradients + the backward's temporaries, per forward byte.</summary>
    public const int GradientFactor = 3;
}
