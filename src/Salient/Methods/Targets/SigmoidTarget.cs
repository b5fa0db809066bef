using Salient.Models;

namespace Salient.Methods;

/// <summary>
/// <c>sigmoid:C</c> for multi-label models: σ(z_c). The score tensor z is the input of the model's final
/// Sigmoid when the model ends in one (through Identity/Flatten/Reshape/Squeeze), so σ(z) is exactly the
/// model's output and the derivative σ(1 − σ) is applied once, at the seed; on a model without a final
/// Sigmoid, z is the logits. d σ(z_c) / d z = σ(z_c)(1 − σ(z_c)) e_c.
/// </summary>
internal sealed class SigmoidTarget(string[] classes) : ClassTarget(classes)
{
    internal override string Kind => "sigmoid";

    protected override string ClassTensor(SalientModel model, ModelStructure s) => FinalSigmoidInput(model) ?? s.LogitsName;

    /// <summary>The input of the Sigmoid the first output comes from, or null.</summary>
    internal static string? FinalSigmoidInput(SalientModel model) => SalientModel.FinalSigmoidInput(model.Graph);

    protected override ClassBinding Make(SalientModel model, string tensor, int classes) => new Binding(this, model, tensor, classes);

    private sealed class Binding(ClassTarget t, SalientModel model, string tensor, int classes) : ClassBinding(t, model, tensor, classes)
    {
        private static double Sigma(float z) => 1 / (1 + Math.Exp(-z));
        public override float Score(ReadOnlySpan<float> row, int slot) => (float)Sigma(row[slot]);
        public override double ClassProbability(ReadOnlySpan<float> row, int cls) => Sigma(row[cls]);
        public override void Seed(ReadOnlySpan<float> row, int slot, Span<float> dst)
        {
            double s = Sigma(row[slot]);
            dst[slot] += (float)(s * (1 - s));
        }
    }
}
