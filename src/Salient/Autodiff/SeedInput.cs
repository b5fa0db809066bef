using Salient.Onnx;

namespace Salient.Autodiff;

/// <summary>The backward program's seed: its input and the gradient it gives the score.</summary>
/// <param name="ScoreGradient">the score's gradient: the dense seed input, or the one-hot built from the indices.</param>
/// <param name="IndexTensor">with index seeds, the int64 index input (one score index per batch item); null for a dense seed.</param>
internal sealed record SeedInput(string ScoreGradient, string? IndexTensor)
{
    public const string Prefix = "seed:";

    /// <summary>
    /// Adds the seed input <c>seed:&lt;score&gt;</c>: a dense float tensor of the score's shape, or
    /// (<see cref="GradientRequest.SeedIndices"/>) one index per batch item turned one-hot here.
    /// </summary>
    public static SeedInput Add(BackwardGraphWriter w, GradientRequest request, long[] scoreDims, long batch)
    {
        string score = request.ScoreTensor;
        string seed = Prefix + score;
        w.Reserve(seed);
        if (!request.SeedIndices)
        {
            w.AddInput(seed, InputSource.Seed, DataType.Float, scoreDims);
            return new SeedInput(seed, null);
        }
        // Items are counted by the model input's batch axis: the score may have lost its own
        // (logits squeezed to [K] at batch 1) or carry trailing axes ([N, K, 1, 1]).
        long total = Tensor.ElementCount(scoreDims);
        if (batch <= 0 || total % batch != 0)
            throw new SalientException($"score tensor '{score}' (shape {Shapes.Format(scoreDims)}) does not split into the batch's {batch} items; use a dense seed");
        long perItem = total / batch;
        w.AddInput(seed, InputSource.Seed, DataType.Int64, [batch]);
        string oneHot = w.Emit("OneHot", [seed, w.IntConstant([perItem]), w.FloatConstant([2], [0f, 1f])], 1).Set("axis", -1L).Outputs[0];
        string dense = Shapes.Equal(scoreDims, [batch, perItem]) ? oneHot : w.Emit("Reshape", [oneHot, w.IntConstant(scoreDims)], 1).Outputs[0];
        return new SeedInput(dense, seed);
    }
}
