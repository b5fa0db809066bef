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
    public byte[]? Png;
    public string? Error;
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
            if (_states.TryGetValue(file, out var known) && known.Status != "failed") return known;
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
                    state.Status = "running";
                    var options = new VisualizationOptions { Preset = preset, Steps = steps, BatchSize = 1 };
                    var progress = new Progress(state);
                    var result = new FeatureVisualizer(entry.Model).Run([Objective.Channel(layer, channel)], options, progress, explorer.Stopping)[0];
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
                state.Error = e is OperationCanceledException ? "the server is stopping" : Explorer.OneLine(e.Message);
                state.Status = "failed";
                if (e is not (SalientException or OperationCanceledException)) explorer.Log.WriteLine($"error: visualize {layer} channel {channel}: {e.GetType().Name}: {state.Error}");
            }
        });
        return state;
    }

    /// <summary>Progress without a synchronization context: the step counter is written from the optimizer's thread.</summary>
    private sealed class Progress(VisualizationState state) : IProgress<VisualizationProgress>
    {
        public void Report(VisualizationProgress value) => state.Step = value.Step;
    }

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
