using Salient.Models;

namespace Salient.Methods;

/// <summary>
/// <c>logit:C</c> (the default): the pre-softmax score of class C. The fast path of the pipeline:
/// score rows are the logits as they are, and gradients are seeded by class index (the backward of a
/// Gemm head then gathers the class rows of its weights).
/// </summary>
internal sealed class LogitTarget(string[] classes) : ClassTarget(classes)
{
    internal override string Kind => "logit";

    protected override ClassBinding Make(SalientModel model, string tensor, int classes) => new Binding(this, model, tensor, classes);

    private sealed class Binding(ClassTarget t, SalientModel model, string tensor, int classes) : ClassBinding(t, model, tensor, classes)
    {
        public override bool IsClassLogit => true;
        public override bool IndexSeeds => true;
        public override long SeedIndex(int slot) => slot;
        public override float Score(ReadOnlySpan<float> row, int slot) => row[slot];
        public override void ScoreAll(ReadOnlySpan<float> row, Span<float> dst) => row.CopyTo(dst);
        public override void Seed(ReadOnlySpan<float> row, int slot, Span<float> dst) => dst[slot] += 1;
    }
}
