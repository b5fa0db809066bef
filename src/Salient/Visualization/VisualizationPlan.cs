using Salient.Models;

namespace Salient.Visualization;

/// <summary>Everything that does not change between batches.</summary>
internal sealed class VisualizationPlan
{
    public required int Steps { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required int ModelWidth { get; init; }
    public required int ModelHeight { get; init; }
    public required ModelStructure Structure { get; init; }
    public required IReadOnlyList<ResolvedTerm>[] Terms { get; init; }
    public required float[] Neutral { get; init; }
    public required int BatchSize { get; init; }
    public required bool PadBatch { get; init; }
    public ResolvedTerm? DiversityLayer { get; init; }

    public static VisualizationPlan Create(SalientModel model, IReadOnlyList<Objective> objectives, VisualizationOptions options)
    {
        var preset = options.Preset ?? throw new SalientException("no preset");
        if (preset.DeepVis is null == preset.Lucid is null) throw new SalientException($"preset '{preset.Name}' must have exactly one of DeepVis or lucid settings");
        int steps = options.Steps ?? preset.Steps;
        if (steps < 1) throw new SalientException($"the `steps` option must be at least 1 (got {steps})");
        if (model.Input.Channels is not (1 or 3)) throw new SalientException($"the model input has {model.Input.Channels} channels; visualization needs 1 or 3");
        var (w, h) = options.Size ?? model.InputSize;
        if (w < 8 || h < 8 || w > 4096 || h > 4096) throw new SalientException($"the `size` option {w}x{h} must be between 8 and 4096 pixels per side");
        int mw = model.InputSize.Width, mh = model.InputSize.Height;
        ModelStructure structure;
        if (model.Input.DynamicSpatial && options.Size is not null)
        {
            (mw, mh) = (w, h);
            structure = model.Structure(h, w);
        }
        else structure = model.Structure();
        var terms = objectives.Select(o => ResolvedTerm.Resolve(o, structure)).ToArray();
        ResolvedTerm? diversity = null;
        if (options.Diversity != 0 && objectives.Count > 1)
        {
            string? name = options.DiversityLayer
                ?? terms.SelectMany(t => t).FirstOrDefault(t => t.Height * t.Width > 1)?.Tensor
                ?? MiddleLayer(structure);
            if (name is null) throw new SalientException("no spatial layer for the diversity term; name one with the `diversity-layer` option");
            var (layer, channels, lh, lw) = ResolvedTerm.Layer(structure, name);
            diversity = new ResolvedTerm(layer.Name, layer.Layout, channels, lh, lw, 0, 0, 0, true, 1f);
        }
        int batch = Math.Max(1, options.BatchSize);
        bool pad = false;
        if (!model.Input.DynamicBatch)
        {
            batch = model.Input.FixedBatch;
            pad = true;
        }
        return new VisualizationPlan
        {
            Steps = steps, Width = w, Height = h, ModelWidth = mw, ModelHeight = mh, Structure = structure, Terms = terms,
            Neutral = InputMapping.NeutralColor(model.Preprocessing, model.Input.Channels), BatchSize = batch, PadBatch = pad, DiversityLayer = diversity,
        };
    }

    /// <summary>The spatial layer halfway along the list of spatial layers feeding the logits.</summary>
    private static string? MiddleLayer(ModelStructure s)
    {
        var spatial = s.Layers.Where(l => l.IsCandidate).ToList();
        return spatial.Count == 0 ? null : spatial[spatial.Count / 2].Name;
    }
}
