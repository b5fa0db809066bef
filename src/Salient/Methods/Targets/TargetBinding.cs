using Salient.Imaging;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Methods;

/// <summary>What a slot of a target is shown as: a class (index and label) or a named score (ClassIndex −1).</summary>
internal sealed record TargetSlot(int ClassIndex, string Label)
{
    public bool IsClass => ClassIndex >= 0;
}

/// <summary>What a target's resolution sees: the model, the items, each item's row of the score tensor from the pipeline's forward pass, and the class specs of the request.</summary>
internal sealed record TargetResolution(SalientModel Model, ModelStructure Structure, IReadOnlyList<PreparedInput> Items,
    IReadOnlyList<float[]> Rows, IReadOnlyList<IReadOnlyList<string>> ClassSpecs);

/// <summary>
/// A <see cref="Target"/> bound to one model: the score tensor S it reads (one output of the model)
/// and a table of <em>slots</em>, each a scalar score of one row of S with its exact gradient
/// d score / d row. Methods see slots where they used to see classes (<see cref="MethodContext.Classes"/>
/// holds slot numbers): for class targets the slot is the class index itself, so the logit target is
/// exactly today's pipeline. Slots never depend on which row they score (a row of a perturbed or
/// noisy copy is scored like the original): what depends on the original image (a segmentation mask,
/// a detection's class) was fixed at <see cref="Resolve"/> and lives in the slot.
/// </summary>
internal abstract class TargetBinding
{
    protected TargetBinding(string spec, string scoreTensor, int rowLength)
    {
        Spec = spec;
        ScoreTensor = scoreTensor;
        RowLength = rowLength;
    }

    /// <summary>The target as the user writes it, e.g. "prob:243" (what the results record).</summary>
    public string Spec { get; }
    /// <summary>The model tensor S whose row each slot scores.</summary>
    public string ScoreTensor { get; }
    /// <summary>Elements of S per item.</summary>
    public int RowLength { get; }
    /// <summary>True for the class-logit target: today's fast path (index seeds, the Gemm gather), scores are the logits themselves.</summary>
    public virtual bool IsClassLogit => false;
    /// <summary>True when every slot's score is one element of the row (<see cref="SeedIndex"/>): gradients use index seeds.</summary>
    public virtual bool IndexSeeds => false;
    /// <summary>The element of the row a slot's score is (only when <see cref="IndexSeeds"/>).</summary>
    public virtual long SeedIndex(int slot) => throw new InvalidOperationException($"target '{Spec}' has no index seeds");
    /// <summary>True when a slot holds something fixed on the original image's grid (a mask, a box), which flips and zooms would move.</summary>
    public virtual bool Spatial => false;
    /// <summary>Number of slots: the width of the score rows <see cref="MethodContext.RunRows"/> returns.</summary>
    public abstract int SlotCount { get; }
    /// <summary>The score of <paramref name="slot"/> for one row of S.</summary>
    public abstract float Score(ReadOnlySpan<float> row, int slot);
    /// <summary>d score / d row for one row of S, added into <paramref name="dst"/> (cleared by the caller).</summary>
    public abstract void Seed(ReadOnlySpan<float> row, int slot, Span<float> dst);
    /// <summary>How a slot is shown.</summary>
    public abstract TargetSlot Describe(int slot);
    /// <summary>Every slot's score of one row (default: <see cref="Score"/> per slot).</summary>
    public virtual void ScoreAll(ReadOnlySpan<float> row, Span<float> dst)
    {
        for (int s = 0; s < SlotCount; s++) dst[s] = Score(row, s);
    }
    /// <summary>The slots to explain for each item, from the items' forward rows (may add slots, e.g. one mask per item).</summary>
    public abstract int[][] Resolve(TargetResolution r);

    /// <summary>The dense seed of a batch: row b of S seeded with d score(slot_b) / d row.</summary>
    public float[] DenseSeed(TensorValue score, IReadOnlyList<int> slotPerRow)
    {
        int n = slotPerRow.Count;
        if (score.Length != (long)n * RowLength)
            throw new SalientException($"target '{Spec}': the score tensor '{ScoreTensor}' has {score.Length} values for {n} rows, not {RowLength} per row");
        var seed = new float[score.Length];
        for (int b = 0; b < n; b++)
            if (slotPerRow[b] >= 0) Seed(score.Data.AsSpan(b * RowLength, RowLength), slotPerRow[b], seed.AsSpan(b * RowLength, RowLength));
        return seed;
    }

    /// <summary>Elements per item of a tensor of the model (its probed shape without the batch axis).</summary>
    internal static int RowLengthOf(ModelStructure s, string tensor) =>
        s.Shapes.TryGetValue(tensor, out var shape) && shape.Rank > 0 ? (int)(shape.Rank == 1 ? shape.Dims[0] : Onnx.Tensor.ElementCount(shape.Dims[1..])) : 0;
}
