using Salient.Models;

namespace Salient.Methods;

/// <summary>
/// <c>prob:C</c>: the softmax probability p_c of the logits z (also when the model ends in Softmax: its
/// input is the logits). d p_c / d z = p_c (e_c − p).
/// </summary>
internal sealed class ProbabilityTarget(string[] classes) : ClassTarget(classes)
{
    internal override string Kind => "prob";

    protected override ClassBinding Make(SalientModel model, string tensor, int classes) => new Binding(this, model, tensor, classes);

    private sealed class Binding(ClassTarget t, SalientModel model, string tensor, int classes) : ClassBinding(t, model, tensor, classes)
    {
        public override float Score(ReadOnlySpan<float> row, int slot) => (float)Statistics.Probability(row, slot);

        public override void ScoreAll(ReadOnlySpan<float> row, Span<float> dst)
        {
            var p = Statistics.SoftmaxPrecise(row);
            for (int k = 0; k < p.Length; k++) dst[k] = (float)p[k];
        }

        public override void Seed(ReadOnlySpan<float> row, int slot, Span<float> dst)
        {
            var p = Statistics.SoftmaxPrecise(row);
            double pc = p[slot];
            for (int k = 0; k < p.Length; k++) dst[k] += (float)(pc * ((k == slot ? 1 : 0) - p[k]));
        }
    }
}
