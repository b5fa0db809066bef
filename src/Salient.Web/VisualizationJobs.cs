using Salient.Models;
using Salient.Rendering;
using Salient.Visualization;

namespace Salient.Web;

/// <summary>One feature visualization: queued, running (step of steps), done (the PNG) or failed.</summary>
internal sealed class VisualizationState(string model, string layer, int channel, int steps)
{
    private volatile int _step;
    public string Model { get; } = model;
    public string Layer { get; } = layer;
    public int Channel { get; } = channel;
    public int Steps { get; } = steps;
    public int Step { get => _step; set => _step = value; }
    public volatile string Status = "queued";
    private long _polled = Environment.TickCount64;
    /// <summary>Marks that a client still wants this image (every status request does).</summary>
    public void Touch() => Interlocked.Exchange(ref _polled, Environment.TickCount64);
    /// <summary>How long nobody has asked for this image.</summary>
    public TimeSpan Unwatched => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _polled));
    public byte[]? Png;
    public string? Error;
    public bool FailureReported;
    public bool Cached;

    public object Describe()
    {
        string status = Status;
        var doc = new Dictionary<string, object> { ["model"] = Model, ["layer"] = Layer, ["channel"] = Channel, ["status"] = status, ["step"] = status == "done" ? Steps : Step, ["steps"] = Steps };
        if (status == "done" && Png is { } png)
        {
            doc["cached"] = Cached;
            doc["image"] = "data:image/png;base64," + Convert.ToBase64String(png);
        }
        if (status == "failed") doc["error"] = Error ?? "failed";
        return doc;
    }
}

/// <summary>
/// Feature visualizations computed on demand with the library's <see cref="FeatureVisualizer"/> (the
/// DeepVis preset), one at a time in the background, and cached on disk per model, layer and channel
/// (<c>CACHE/visualize/MODEL-KEY/LAYER/chNNNN-STEPS.png</c>): a later request, or a later server, gets the file.
/// </summary>
internal sealed class VisualizationJobs(Explorer explorer)
{
    private readonly Dictionary<string, VisualizationState> _states = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _one = new(1);

    public VisualizationState GetOrStart(ModelEntry entry, string layer, int channel)
    {
        var preset = VisualizationPresets.Default;
        int steps = explorer.Options.VisualizationSteps ?? preset.Steps;
        string file = Path.Combine(explorer.Options.CacheFolder, "visualize", ModelKey(entry), Safe(layer), $"ch{channel:0000}-{preset.Name}-{steps}.png");
        VisualizationState state;
        lock (_states)
        {
            if (_states.TryGetValue(file, out var known))
            {
                // A failure is reported once; the request after that starts the job again.
                if (known.Status != "failed" || !known.FailureReported)
                {
                    known.Touch();
                    if (known.Status == "failed") known.FailureReported = true;
                    return known;
                }
            }
            if (_states.Values.Count(v => v.Status is "queued" or "running") >= MaxPending)
                throw new ApiException(503, $"{MaxPending} feature visualizations are already waiting; try again when one is done");
            state = new VisualizationState(entry.Name, layer, channel, steps);
            _states[file] = state;
            if (File.Exists(file))
            {
                state.Png = File.ReadAllBytes(file);
                state.Cached = true;
                state.Status = "done";
                return state;
            }
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await _one.WaitAsync(explorer.Stopping);
                try
                {
                    // A page that moved on (no status request for a while) does not keep the optimizer busy.
                    using var abandoned = CancellationTokenSource.CreateLinkedTokenSource(explorer.Stopping);
                    if (state.Unwatched > Abandoned) throw new OperationCanceledException(abandoned.Token);
                    state.Status = "running";
                    var options = new VisualizationOptions { Preset = preset, Steps = steps, BatchSize = 1 };
                    var progress = new Progress(state, abandoned);
                    var result = new FeatureVisualizer(entry.Model).Run([Objective.Channel(layer, channel)], options, progress, abandoned.Token)[0];
                    // DeepVis presets: contrast-stretched for display, as `salient visualize` writes them.
                    var shown = preset.DeepVis is not null ? ContrastStretch.Apply(result.Image) : result.Image;
                    var png = ImageWriter.EncodePng(shown);
                    Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                    string temp = file + "." + Guid.NewGuid().ToString("N") + ".tmp";
                    await File.WriteAllBytesAsync(temp, png);
                    File.Move(temp, file, overwrite: true);
                    state.Png = png;
                    state.Status = "done";
                }
                finally { _one.Release(); }
            }
            catch (Exception e)
            {
                state.Error = e is not OperationCanceledException ? Explorer.OneLine(e.Message)
                    : explorer.Stopping.IsCancellationRequested ? "the server is stopping"
                    : $"abandoned: nobody asked for it for {Abandoned.TotalSeconds:0} s (ask again to restart it)";
                state.Status = "failed";
                if (e is not (SalientException or OperationCanceledException)) explorer.Log.WriteLine($"error: visualize {layer} channel {channel}: {e.GetType().Name}: {state.Error}");
            }
        });
        return state;
    }

    /// <summary>Progress without a synchronization context: the step counter is written from the optimizer's thread.</summary>
    private sealed class Progress(VisualizationState state, CancellationTokenSource abandoned) : IProgress<VisualizationProgress>
    {
        public void Report(VisualizationProgress value)
        {
            state.Step = value.Step;
            if (state.Unwatched > Abandoned) abandoned.Cancel();
        }
    }

    /// <summary>A job nobody has asked about for this long stops (the page polls every 0.4 s).</summary>
    internal static TimeSpan Abandoned { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Jobs queued or running at most; more are refused with 503.</summary>
    internal const int MaxPending = 32;

    /// <summary>A folder name per model file: its name, size and time, so a changed model gets fresh pictures.</summary>
    internal static string ModelKey(ModelEntry entry)
    {
        var path = entry.Model.Path;
        if (!File.Exists(path)) return Safe(entry.Name) + "-" + typeof(SalientModel).Assembly.GetName().Version;
        var info = new FileInfo(path);
        return $"{Safe(entry.Name)}-{info.Length:x}-{info.LastWriteTimeUtc.Ticks:x}";
    }

    internal static string Safe(string s) => new(s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray());
}
