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
}
