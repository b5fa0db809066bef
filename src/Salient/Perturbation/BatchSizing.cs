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

    /// <summary>The default batch for whole-model runs of <paramref name="model"/>.</summary>
    public static int ForModel(SalientModel model, long budget = BudgetBytes) => Choose(ModelBytesPerRow(model), budget);

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
