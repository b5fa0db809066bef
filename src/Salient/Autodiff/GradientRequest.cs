using Salient.Runtime;

namespace Salient.Autodiff;

/// <summary>
/// What to differentiate: the engine computes d(Σ seed ⊙ S)/d(w) for the score tensor S and every
/// tensor w in <see cref="Wrt"/>; the seed is supplied at run time (see <see cref="Seeds"/>).
/// </summary>
public sealed record GradientRequest
{
    /// <summary>The tensor S whose seed-weighted sum is differentiated (logits, or any layer tensor).</summary>
    public required string ScoreTensor { get; init; }
    /// <summary>Layer tensors and/or the model input name to return gradients for.</summary>
    public required IReadOnlyList<string> Wrt { get; init; }
    /// <summary>How gradients pass backwards through ReLU-like ops (default <see cref="ReluMode.Standard"/>).</summary>
    public ReluMode Relu { get; init; } = ReluMode.Standard;
    /// <summary>Forward tensors to return as well.</summary>
    public IReadOnlyList<string> AlsoFetch { get; init; } = [];
    /// <summary>
    /// The seed is one score index per batch item — a one-hot row over the score's non-batch
    /// elements, e.g. a class logit — given at run time as int64 indices (ForwardPass.Backward(long[]),
    /// BackwardProgram.RunBackward(input, forward, long[])) instead of a dense seed. Where the score is a Gemm of weights, the backward then gathers
    /// the classes' weight rows instead of multiplying a one-hot matrix by all of them.
    /// </summary>
    public bool SeedIndices { get; init; }

    /// <summary>True when both requests compute the same gradients from the same kind of seed (score, wrt set, ReLU mode, SeedIndices); AlsoFetch may differ.</summary>
    public bool SameGradients(GradientRequest other) =>
        ScoreTensor == other.ScoreTensor && Relu == other.Relu && SeedIndices == other.SeedIndices &&
        Wrt.Distinct().Order(StringComparer.Ordinal).SequenceEqual(other.Wrt.Distinct().Order(StringComparer.Ordinal));

    internal string CacheKey(long[] inputShape) =>
        string.Join("\u0001", ScoreTensor, string.Join("\u0002", Wrt.Distinct().Order(StringComparer.Ordinal)), Relu.Name, SeedIndices,
            string.Join("\u0002", AlsoFetch.Distinct().Order(StringComparer.Ordinal)), string.Join(",", inputShape));
}

/// <summary>The result of one <see cref="GradientEngine.Run"/>.</summary>
public sealed class GradientResult
{
    internal GradientResult(IReadOnlyDictionary<string, TensorValue> forward, IReadOnlyDictionary<string, TensorValue> gradients)
    {
        Forward = forward;
        Gradients = gradients;
    }

    /// <summary>Forward values of the score tensor, every Wrt tensor and every AlsoFetch tensor.</summary>
    public IReadOnlyDictionary<string, TensorValue> Forward { get; }
    /// <summary>d(Σ seed ⊙ S)/d(w) for every Wrt tensor w, with w's shape.</summary>
    public IReadOnlyDictionary<string, TensorValue> Gradients { get; }
}
