using Salient.Models;

namespace Salient.Methods;

/// <summary>
/// Base of the class targets (logit, prob, sigmoid): one slot per class, the slot number being the class
/// index, so methods index score rows by class exactly as they always did. Classes come from the target
/// ("prob:243") or, when it names none, from the request ("auto", "top3", labels…), resolved on each
/// item's class scores (softmax and sigmoid keep the logits' order, so "auto" is the same class).
/// </summary>
internal abstract class ClassTarget(string[] classes) : Target
{
    public IReadOnlyList<string> Classes { get; } = classes;

    public override string ToString() => Classes.Count == 0 ? Kind : $"{Kind}:{string.Join(",", Classes)}";

    /// <summary>The tensor of class scores this kind reads (default: the logits).</summary>
    protected virtual string ClassTensor(SalientModel model, ModelStructure s) => s.LogitsName;

    internal override TargetBinding Bind(SalientModel model, ModelStructure s)
    {
        var tensor = ClassTensor(model, s);
        if (!s.Shapes.TryGetValue(tensor, out var shape) || !IsClassVector(shape.Dims))
            throw DoesNotFit(ToString(), $"needs class scores [N, K], but the model's output '{s.OutputName}' has shape {(s.Shapes.TryGetValue(s.OutputName, out var o) ? Onnx.Shapes.Format(o.Dims) : "?")}", model, s);
        return Make(model, tensor, TargetBinding.RowLengthOf(s, tensor));
    }

    protected abstract ClassBinding Make(SalientModel model, string tensor, int classes);

    /// <summary>A class target bound to a model: slot = class index.</summary>
    internal abstract class ClassBinding : TargetBinding
    {
        private readonly ClassTarget target;
        private readonly SalientModel model;

        protected ClassBinding(ClassTarget target, SalientModel model, string tensor, int classes) : base(target.ToString(), tensor, classes)
        {
            this.target = target;
            this.model = model;
        }

        public override int SlotCount => RowLength;
        /// <summary>The class's probability shown beside its score: softmax of the row (sigmoid overrides).</summary>
        public virtual double ClassProbability(ReadOnlySpan<float> row, int cls) => Statistics.Probability(row, cls);
        public override TargetSlot Describe(int slot) => new(slot, model.ClassName(slot));

        public override int[][] Resolve(TargetResolution r)
        {
            var specs = target.Classes.Count > 0 ? null : r.ClassSpecs;
            var result = new int[r.Items.Count][];
            for (int i = 0; i < result.Length; i++)
            {
                IReadOnlyList<string> list = specs is null ? target.Classes : specs[i].Count == 0 ? ["auto"] : specs[i];
                result[i] = list.SelectMany(c => model.ResolveClasses(c, r.Rows[i])).Distinct().ToArray();
            }
            return result;
        }
    }
}
