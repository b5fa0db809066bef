using Salient.Models;

namespace Salient.Methods;

/// <summary>
/// <c>concept:FILE.npy</c>: the dot product e·v of the model's embedding e (its first output) with a
/// concept vector v, as given (normalize it beforehand if its length should not matter). A dot product,
/// not a cosine: its gradient is v itself (TCAV's directional derivative), so the map shows what moves
/// the embedding along v; a cosine would also reward shrinking the embedding's other components.
/// </summary>
internal sealed class ConceptTarget(string? path, float[]? vector) : Target
{
    internal override string Kind => "concept";

    public override string ToString() => path is null ? "concept:vector" : $"concept:{path}";

    internal override TargetBinding Bind(SalientModel model, ModelStructure s)
    {
        var (tensor, d) = SimilarityTarget.EmbeddingOutput(model, s, ToString());
        var v = vector ?? NpyFormat.ReadFile(path!, "concept vector").Data;
        if (v.Length != d)
            throw new SalientException($"target '{ToString()}': the concept vector has {v.Length} values, the model's embedding '{tensor}' has {d}");
        return new Binding(ToString(), tensor, d, v, path is null ? "concept" : $"concept {Path.GetFileNameWithoutExtension(path)}");
    }

    private sealed class Binding(string spec, string tensor, int d, float[] v, string label) : TargetBinding(spec, tensor, d)
    {
        public override int SlotCount => 1;
        public override TargetSlot Describe(int slot) => new(-1, label);
        public override int[][] Resolve(TargetResolution r) => r.Items.Select(_ => new[] { 0 }).ToArray();

        public override float Score(ReadOnlySpan<float> row, int slot)
        {
            double s = 0;
            for (int i = 0; i < row.Length; i++) s += (double)row[i] * v[i];
            return (float)s;
        }

        public override void Seed(ReadOnlySpan<float> row, int slot, Span<float> dst)
        {
            for (int i = 0; i < row.Length; i++) dst[i] += v[i];
        }
    }
}
