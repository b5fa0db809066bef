using System.Diagnostics;
using System.Threading.Channels;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;

namespace Salient.Explain;

/// <summary>How a <see cref="FolderRun"/> groups and reads its images.</summary>
public sealed record FolderRunOptions
{
    /// <summary>
    /// Images explained together (one forward run for the batch). Null: 1 when any requested method
    /// runs many forward passes per image (perturbation methods, so progress moves per image), else 8.
    /// </summary>
    public int? ImagesPerBatch { get; init; }

    /// <summary>Images decoded ahead on a background task while the current batch is explained. Null: twice the batch, at least 2.</summary>
    public int? DecodeAhead { get; init; }
}

/// <summary>
/// One image of a <see cref="FolderRun"/>: its explanations, or the error that stopped it.
/// <see cref="Explanation.Item"/> of the explanations is the image's position in the batch it was
/// explained with; use the outcome (<see cref="Index"/>, <see cref="Path"/>) to know the image.
/// </summary>
public sealed class ImageOutcome
{
    /// <summary>Position in the run's list of paths.</summary>
    public required int Index { get; init; }
    public required string Path { get; init; }
    /// <summary>The decoded image (null when decoding failed).</summary>
    public RgbImage? Image { get; init; }
    /// <summary>The model input made from <see cref="Image"/> (null when decoding failed).</summary>
    public PreparedInput? Prepared { get; init; }
    /// <summary>Every method × class map of this image, in the request's method order; empty on failure.</summary>
    public IReadOnlyList<Explanation> Explanations { get; init; } = [];
    /// <summary>The model's logits for this image (null on failure).</summary>
    public float[]? Logits { get; init; }
    /// <summary>The error (a <see cref="SalientException"/>, or an I/O error reading the file); null on success.</summary>
    public Exception? Error { get; init; }
    /// <summary>The first line of the error's message; null on success.</summary>
    public string? ErrorMessage => Error?.Message.Split('\n')[0].TrimEnd('\r');
    public bool Succeeded => Error is null;

    public TimeSpan DecodeTime { get; init; }
    /// <summary>This image's share of its batch's forward run.</summary>
    public TimeSpan ForwardTime { get; init; }
    /// <summary>This image's share of its batch's whole explain call (forward run and methods).</summary>
    public TimeSpan ExplainTime { get; init; }
}

/// <summary>
/// How far a <see cref="FolderRun"/> is: <paramref name="Done"/> images handled (explained or failed) of
/// <paramref name="Total"/>, <paramref name="Elapsed"/> since the run started, and the image just handled.
/// </summary>
public readonly record struct FolderProgress(int Done, int Total, int Failed, TimeSpan Elapsed, ImageOutcome Last)
{
    /// <summary>Images handled per second since the start.</summary>
    public double ImagesPerSecond => Elapsed > TimeSpan.Zero ? Done / Elapsed.TotalSeconds : 0;

    /// <summary>The time left at the average rate so far (null before the rate is known).</summary>
    public TimeSpan? Remaining => ImagesPerSecond > 0 ? TimeSpan.FromSeconds((Total - Done) / ImagesPerSecond) : null;
}

/// <summary>
/// Explains many image files with one request: the next images are decoded on a background task while
/// the current batch is explained; a file that cannot be read, or an image the request fails on,
/// becomes a failed <see cref="ImageOutcome"/> and never stops the run (a batch that fails is explained
/// again image by image, so only the image at fault fails). Outcomes come in input order, each as soon
/// as its batch is done, so a caller can write an image's files while the next batch is explained.
/// </summary>
/// <remarks>
/// Progress is reported once per image, after the caller has handled its outcome (when the enumeration
/// moves on), so the rate and time left include the caller's work. Cancellation is checked before each
/// batch and between the methods of a batch: the outcomes of finished batches have been delivered, the
/// interrupted batch is dropped, and the enumeration throws <see cref="OperationCanceledException"/>.
/// Errors that are not a single image's fault (bugs, a broken runtime) end the enumeration as exceptions.
/// </remarks>
public static class FolderRun
{
    /// <summary>The default batch: 1 when any method runs many forward passes per image, else 8.</summary>
    internal static int DefaultImagesPerBatch(IEnumerable<IExplanationMethod> methods) =>
        methods.Any(m => m.ManyForwardPasses) ? 1 : 8;

    /// <summary>
    /// The outcomes of explaining <paramref name="paths"/> with <paramref name="request"/>, lazily and in
    /// order. The request's methods and parameters are checked up front (a bad one throws before any image is read).
    /// <see cref="ExplainRequest.ClassesPerItem"/>, when set, has one class list per path.
    /// </summary>
    public static IEnumerable<ImageOutcome> Explain(SalientModel model, IReadOnlyList<string> paths, ExplainRequest request,
        FolderRunOptions? options = null, IProgress<FolderProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(request);
        model.ThrowIfDisposed();
        if (paths.Any(p => p is null)) throw new ArgumentNullException(nameof(paths), "a path is null");
        var methods = request.Methods.Select(MethodRegistry.Get).ToList();
        if (methods.Count == 0) throw new SalientException("no method given");
        ParameterCheck.Validate(methods, new Dictionary<string, string>(request.Parameters, StringComparer.OrdinalIgnoreCase));
        if (request.ClassesPerItem is { } perItem && perItem.Count != paths.Count)
            throw new SalientException($"{perItem.Count} class lists given for {paths.Count} images");
        options ??= new FolderRunOptions();
        int perBatch = options.ImagesPerBatch ?? DefaultImagesPerBatch(methods);
        if (perBatch < 1) throw new ArgumentOutOfRangeException(nameof(options), perBatch, "images per batch must be at least 1");
        int ahead = options.DecodeAhead ?? Math.Max(2, 2 * perBatch);
        if (ahead < 1) throw new ArgumentOutOfRangeException(nameof(options), ahead, "decode-ahead must be at least 1");
        return Run(model, paths.ToList(), request, perBatch, ahead, progress, cancellationToken);
    }

    /// <summary>One image from the background decoder.</summary>
    private sealed record Decoded(int Index, string Path, RgbImage? Image, PreparedInput? Prepared, TimeSpan DecodeTime, Exception? Error);

    private static IEnumerable<ImageOutcome> Run(SalientModel model, List<string> paths, ExplainRequest request, int perBatch, int ahead,
        IProgress<FolderProgress>? progress, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var clock = Stopwatch.StartNew();
        var channel = Channel.CreateBounded<Decoded>(new BoundedChannelOptions(ahead) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(() => DecodeAll(model, paths, channel.Writer, stop.Token));
        int done = 0, failed = 0;
        try
        {
            var batch = new List<Decoded>();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                batch.Clear();
                // The next images in order (failed decodes count too, so a run of bad files still moves progress).
                while (batch.Count < perBatch && channel.Reader.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
                    while (batch.Count < perBatch && channel.Reader.TryRead(out var d)) batch.Add(d);
                if (batch.Count == 0) break;
                var outcomes = new List<ImageOutcome>(batch.Count);
                ExplainBatch(model, request, batch.Where(d => d.Error is null).ToList(), outcomes, cancellationToken);
                outcomes.AddRange(batch.Where(d => d.Error is not null).Select(d => Failed(d, d.Error!)));
                foreach (var outcome in outcomes.OrderBy(o => o.Index))
                {
                    yield return outcome;
                    done++;
                    if (!outcome.Succeeded) failed++;
                    progress?.Report(new FolderProgress(done, paths.Count, failed, clock.Elapsed, outcome));
                }
            }
        }
        finally
        {
            stop.Cancel();
            try { producer.GetAwaiter().GetResult(); }
            catch (OperationCanceledException) { }
        }
    }

    private static async Task DecodeAll(SalientModel model, List<string> paths, ChannelWriter<Decoded> writer, CancellationToken ct)
    {
        try
        {
            for (int i = 0; i < paths.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                var sw = Stopwatch.StartNew();
                Decoded d;
                try
                {
                    var image = model.LoadImage(paths[i]);
                    d = new Decoded(i, paths[i], image, model.Prepare(image), sw.Elapsed, null);
                }
                catch (Exception e) when (e is SalientException or IOException or UnauthorizedAccessException or ArgumentException)
                {
                    d = new Decoded(i, paths[i], null, null, sw.Elapsed, e);
                }
                await writer.WriteAsync(d, ct).ConfigureAwait(false);
            }
        }
        finally { writer.Complete(); }
    }

    /// <summary>Explains the images together; when that fails for an image's reason, one by one so only the image at fault fails.</summary>
    private static void ExplainBatch(SalientModel model, ExplainRequest request, List<Decoded> group, List<ImageOutcome> into, CancellationToken ct)
    {
        if (group.Count == 0) return;
        var sw = Stopwatch.StartNew();
        ExplainResult result;
        try
        {
            // Per-image classes: the batch's slice of the lists.
            var batchRequest = request.ClassesPerItem is { } perItem ? request with { ClassesPerItem = group.Select(g => perItem[g.Index]).ToList() } : request;
            result = Explainer.Explain(model, group.Select(g => g.Prepared!).ToList(), batchRequest, cancellationToken: ct);
        }
        catch (Exception e) when (IsPerImage(e) && group.Count > 1)
        {
            foreach (var g in group) ExplainBatch(model, request, [g], into, ct);
            return;
        }
        catch (Exception e) when (IsPerImage(e))
        {
            into.Add(Failed(group[0], e));
            return;
        }
        var forwardShare = result.ForwardTime / group.Count;
        var explainShare = sw.Elapsed / group.Count;
        for (int i = 0; i < group.Count; i++)
        {
            var g = group[i];
            into.Add(new ImageOutcome
            {
                Index = g.Index,
                Path = g.Path,
                Image = g.Image,
                Prepared = g.Prepared,
                Explanations = result.Explanations.Where(e => e.Item == i).ToList(),
                Logits = result.Logits[i],
                DecodeTime = g.DecodeTime,
                ForwardTime = forwardShare,
                ExplainTime = explainShare,
            });
        }
    }

    // A single image's problem (bad class for its logits, a model that rejects it, an unreadable file), not a bug.
    private static bool IsPerImage(Exception e) => e is SalientException or IOException or UnauthorizedAccessException;

    private static ImageOutcome Failed(Decoded d, Exception e) => new()
    {
        Index = d.Index,
        Path = d.Path,
        Image = d.Image,
        Prepared = d.Prepared,
        Error = e,
        DecodeTime = d.DecodeTime,
    };
}
