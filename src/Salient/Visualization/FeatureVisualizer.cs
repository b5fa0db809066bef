using Salient.Models;

namespace Salient.Visualization;

/// <summary>
/// Activation maximization: synthesizes images that maximize objectives (<see cref="Objective"/>) of
/// a model, in pixel space through the model's own preprocessing (pixels stay in [0, 255]), with the
/// DeepVis regularizers (Yosinski et al. 2015) or the lucid recipe (Olah et al. 2017); see
/// docs/deepvis.md. Several objectives are optimized as one batch: each step is one call of the
/// gradient engine per distinct score tensor (one call when every objective reads the same tensor).
/// </summary>
public sealed class FeatureVisualizer
{
    private readonly SalientModel _model;

    public FeatureVisualizer(SalientModel model)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
    }

    /// <summary>Synthesizes one image per objective.</summary>
    public IReadOnlyList<VisualizationResult> Run(IReadOnlyList<Objective> objectives, VisualizationOptions? options = null,
        IProgress<VisualizationProgress>? progress = null, CancellationToken cancellation = default)
    {
        options ??= new VisualizationOptions();
        using var lease = _model.Enter();
        if (objectives.Count == 0) throw new SalientException("nothing to visualize");
        var plan = VisualizationPlan.Create(_model, objectives, options);
        var results = new List<VisualizationResult>(objectives.Count);
        int batch = plan.BatchSize;
        for (int first = 0; first < objectives.Count; first += batch)
        {
            int count = Math.Min(batch, objectives.Count - first);
            var units = Enumerable.Range(first, count).ToArray();
            results.AddRange(new BatchRun(_model, plan, options, units, objectives, progress, cancellation).Execute());
        }
        return results;
    }

    /// <summary>
    /// Synthesizes the objectives that <paramref name="skip"/> does not reject, batch by batch, and
    /// hands each image to <paramref name="done"/> (with its objective's index) as soon as its batch
    /// finishes, so a caller can save it at once. Seeds follow the objective's index, so a run resumed
    /// by skipping the finished objectives gives the images of an uninterrupted one (with no diversity term).
    /// </summary>
    public void Run(IReadOnlyList<Objective> objectives, VisualizationOptions? options, Func<int, bool>? skip, Action<int, VisualizationResult> done,
        IProgress<VisualizationProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(objectives);
        ArgumentNullException.ThrowIfNull(done);
        options ??= new VisualizationOptions();
        if (objectives.Count == 0) throw new SalientException("nothing to visualize");
        var todo = Enumerable.Range(0, objectives.Count).Where(i => skip is null || !skip(i)).ToArray();
        if (todo.Length == 0) return;
        var plan = VisualizationPlan.Create(_model, objectives, options);
        for (int first = 0; first < todo.Length; first += plan.BatchSize)
        {
            var units = todo[first..Math.Min(todo.Length, first + plan.BatchSize)];
            var results = new BatchRun(_model, plan, options, units, objectives, progress, cancellation).Execute();
            for (int i = 0; i < results.Count; i++) done(units[i], results[i]);
        }
    }
}
