using Salient.Imaging;
using Salient.Autodiff;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Methods;

/// <summary>Everything a method needs for one batch: model, target layer, inputs, classes, a forward-run cache.</summary>
internal sealed class MethodContext
{
    private readonly Dictionary<string, TensorValue> _forward;

    public MethodContext(SalientModel model, ModelStructure structure, LayerInfo? layer, IReadOnlyList<PreparedInput> items,
        IReadOnlyList<int[]> classes, IReadOnlyDictionary<string, string> parameters, Dictionary<string, TensorValue> forward)
    {
        Model = model;
        Structure = structure;
        Layer = layer;
        Items = items;
        Classes = classes;
        Parameters = parameters;
        _forward = forward;
    }

    /// <summary>The key under which the pipeline passes the request's memory budget (bytes) along with the parameters.</summary>
    internal const string MemoryBudgetKey = "@memory-budget-bytes";

    /// <summary>Memory allowed for one batch of generated rows (the request's budget; default 1 GiB).</summary>
    public long MemoryBudget =>
        Parameters.TryGetValue(MemoryBudgetKey, out var s) && long.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var b) ? b : Perturbation.BatchSizing.BudgetBytes;

    public SalientModel Model { get; }
    public ModelStructure Structure { get; }
    public LayerInfo? Layer { get; }
    public IReadOnlyList<PreparedInput> Items { get; }
    /// <summary>
    /// The target's slots to explain, per item (<see cref="Target"/>). For class targets (logit, the
    /// default, prob, sigmoid) a slot is the class index itself; other targets number their slots.
    /// </summary>
    public IReadOnlyList<int[]> Classes { get; }

    private TargetBinding? _target;

    /// <summary>
    /// What the explanation is of: the score tensor and the score of each slot with its exact gradient
    /// (default: the class logit, today's fast path). <see cref="RunRows"/>, <see cref="Logit"/> and
    /// <see cref="GradientRuns"/> all go through it.
    /// </summary>
    public TargetBinding Target
    {
        get => _target ??= Methods.Target.Logit().Bind(Model, Structure);
        init => _target = value;
    }

    /// <summary>A method that needs the class-logit target (e.g. CAM's linear head) fails with one line for any other.</summary>
    public void RequireClassLogit(string method, string why)
    {
        if (!Target.IsClassLogit)
            throw new SalientException($"method '{method}' {why}, so it explains class logits only, not the target '{Target.Spec}'; use gradcam or scorecam for this target");
    }
    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>
    /// The pipeline's forward pass when it ran a method's <see cref="IExplanationMethod.SharedForwardRequest"/>
    /// program on these items (its backward can run without another forward); null otherwise.
    /// </summary>
    public ForwardPass? Pass { get; init; }

    /// <summary>Forward-pass tensors (cached: tensors already fetched are not recomputed).</summary>
    public TensorValue Forward(string tensor)
    {
        lock (_forward)
        {
            if (!_forward.TryGetValue(tensor, out var v))
            {
                foreach (var kv in Model.Run(Items, tensor)) _forward.TryAdd(kv.Key, kv.Value);
                v = _forward[tensor];
            }
            return v;
        }
    }

    /// <summary>Fetches every tensor not yet cached in one forward run.</summary>
    public void Prefetch(IEnumerable<string> tensors)
    {
        lock (_forward)
        {
            var missing = tensors.Where(t => !_forward.ContainsKey(t)).Distinct().ToArray();
            if (missing.Length == 0) return;
            foreach (var kv in Model.Run(Items, missing)) _forward.TryAdd(kv.Key, kv.Value);
        }
    }

    /// <summary>
    /// Runs <paramref name="count"/> generated inputs (rows of item <paramref name="item"/>'s shape, written by
    /// <paramref name="fill"/>) through the whole model in batches; returns their target scores
    /// (count × <paramref name="classes"/> slots: for the logit target, the logits themselves; for class
    /// targets, a score per class, so row j's score of class c is at j·classes + c, as with logits).
    /// </summary>
    public float[] RunRows(PreparedInput item, int count, Perturbation.RowFill fill, out int classes)
    {
        var target = Target;
        var session = Model.Session([target.ScoreTensor]);
        int batch = Get(CommonParameters.BatchSize) ?? Perturbation.BatchSizing.ForRows(Model, MemoryBudget);
        var runner = new Perturbation.BatchRunner(session, [new Perturbation.BatchInput(Model.Input.Name, Perturbation.InputMasking.RowShape(Model, item), fill)],
            target.ScoreTensor, batch, Model.Input.DynamicBatch ? null : Model.Input.FixedBatch);
        if (target.IsClassLogit) return runner.Run(count, out classes);
        // Other targets keep only each row's slot scores (the output itself may be a whole segmentation map per row).
        classes = target.SlotCount;
        return runner.Run(count, classes, target.ScoreAll);
    }

    public LayerInfo RequireLayer(string method) =>
        Layer ?? throw new SalientException($"method '{method}' needs a target layer");

    /// <summary>The target layer's activation of one item as a C×H×W array (whatever the tensor's layout).</summary>
    public Activation LayerActivation(int item) => Activation.FromLayer(Forward(RequireLayer("this").Name), item, Layer!);

    /// <summary>The target score of a slot (for the logit target: the class logit) on item <paramref name="item"/> as given.</summary>
    public float Logit(int item, int cls)
    {
        var t = Target;
        return t.Score(Forward(t.ScoreTensor).Data.AsSpan(item * t.RowLength, t.RowLength), cls);
    }

    /// <summary>The parameter's value: as given, else its default (null: chosen from the input by the method).</summary>
    public int? Get(IntParameter p) => Raw(p) is { } v ? p.Parse(v) : p.Default;
    public double Get(NumberParameter p) => Raw(p) is { } v ? p.Parse(v) : p.Default;
    public bool Get(FlagParameter p) => Raw(p) is { } v && p.Parse(v);
    public string Get(ChoiceParameter p) => Raw(p) is { } v ? p.Parse(v) : p.Default;
    public string Get(TextParameter p) => Raw(p) is { } v ? p.Parse(v) : p.Default;

    private string? Raw(Parameter p) => Parameters.TryGetValue(p.Name, out var v) ? v : null;

    /// <summary>
    /// The maps of another method for these items and classes, computed by the pipeline exactly as it
    /// computes that method's explanations (its layers, normalization and layer averaging) and given
    /// in <see cref="GradientRuns.ItemClassPairs"/> order as [0,1] maps on the input grid. Set by the
    /// pipeline for methods that declare <see cref="IExplanationMethod.Composes"/>.
    /// </summary>
    public Func<string, IReadOnlyList<float[]>> Compose { get; init; } =
        name => throw new SalientException($"method '{name}' can only be combined with another inside the explain pipeline");
}

