namespace Salient.Core;

/// <summary>
/// The cancellation token of the pipeline call running on this async flow (set by
/// <c>Explainer.Explain</c>), checked between the batches of long method runs (perturbation batches,
/// gradient batches) without threading a token through every method's signature. Outside a call it is
/// <see cref="CancellationToken.None"/>.
/// </summary>
internal static class AmbientCancellation
{
    private static readonly AsyncLocal<CancellationToken> s_token = new();

    public static CancellationToken Token => s_token.Value;

    /// <summary>Throws <see cref="OperationCanceledException"/> when the current call was cancelled.</summary>
    public static void ThrowIfRequested() => s_token.Value.ThrowIfCancellationRequested();

    /// <summary>Makes <paramref name="token"/> the current one until the returned scope is disposed.</summary>
    public static Scope Enter(CancellationToken token)
    {
        var previous = s_token.Value;
        s_token.Value = token;
        return new Scope(previous);
    }

    public readonly struct Scope(CancellationToken previous) : IDisposable
    {
        public void Dispose() => s_token.Value = previous;
    }
}
