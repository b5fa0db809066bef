using System.Runtime.CompilerServices;
using Salient.Models;

namespace Salient.Methods;

/// <summary>
/// <c>similarity:IMAGE</c> or <c>similarity:FILE.npy</c>: the cosine similarity s = e·r / (|e| |r|) of the
/// model's embedding e (its first output, every non-batch element) with a reference r — the embedding
/// the same model gives the reference image (prepared like every input), or a float32 vector from a
/// .npy file. "Why does this image look like that one?" d s / d e = r / (|e| |r|) − s · e / |e|².
/// </summary>
internal sealed class SimilarityTarget(string? path, float[]? vector) : Target
{
    private readonly ConditionalWeakTable<SalientModel, float[]> _references = new();

    internal override string Kind => "similarity";

    public override string ToString() => path is null ? "similarity:vector" : $"similarity:{path}";

    internal override TargetBinding Bind(SalientModel model, ModelStructure s)
    {
        var (tensor, d) = EmbeddingOutput(model, s, ToString());
        var r = _references.GetValue(model, m => Reference(m, tensor, path, vector, ToString()));
        if (r.Length != d)
            throw new SalientException($"target '{ToString()}': the reference has {r.Length} values, the model's embedding '{tensor}' has {d}");
        double norm = Math.Sqrt(r.Sum(v => (double)v * v));
        if (!(norm > 0) || !double.IsFinite(norm)) throw new SalientException($"target '{ToString()}': the reference embedding is zero or not finite");
        string label = path is null ? "similarity" : $"similarity to {Path.GetFileNameWithoutExtension(path)}";
        return new Binding(ToString(), tensor, d, r, norm, label);
    }

    /// <summary>The first output as an embedding: its name and its elements per item (an error naming the targets allowed otherwise).</summary>
    internal static (string Tensor, int Length) EmbeddingOutput(SalientModel model, ModelStructure s, string spec)
    {
        string tensor = model.Graph.Outputs[0].Name;
        if (!s.Shapes.TryGetValue(tensor, out var shape) || shape.Rank < 2 || !Onnx.DataTypes.IsFloating(shape.Type))
            throw DoesNotFit(spec, $"needs an embedding output [N, D], and the first output '{tensor}' is not one", model, s);
        return (tensor, TargetBinding.RowLengthOf(s, tensor));
    }

    /// <summary>A vector from a float32 .npy file (any shape; flattened), or the embedding of an image file.</summary>
    internal static float[] Reference(SalientModel model, string tensor, string? path, float[]? vector, string spec)
    {
        if (vector is not null) return vector;
        if (path!.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) return NpyFormat.ReadFile(path, "reference vector").Data;
        var item = model.Prepare(model.LoadImage(path));
        var e = model.Run([item], tensor)[tensor];
        return e.Data;
    }

    private sealed class Binding(string spec, string tensor, int d, float[] r, double rNorm, string label) : TargetBinding(spec, tensor, d)
    {
        public override int SlotCount => 1;
        public override TargetSlot Describe(int slot) => new(-1, label);
        public override int[][] Resolve(TargetResolution res) => res.Items.Select(_ => new[] { 0 }).ToArray();

        private (double Dot, double Norm) Stats(ReadOnlySpan<float> e)
        {
            double dot = 0, nn = 0;
            for (int i = 0; i < e.Length; i++) { dot += (double)e[i] * r[i]; nn += (double)e[i] * e[i]; }
            return (dot, Math.Sqrt(nn));
        }

        public override float Score(ReadOnlySpan<float> row, int slot)
        {
            var (dot, norm) = Stats(row);
            return norm > 0 ? (float)(dot / (norm * rNorm)) : 0f;
        }

        public override void Seed(ReadOnlySpan<float> row, int slot, Span<float> dst)
        {
            var (dot, norm) = Stats(row);
            if (!(norm > 0)) return;
            double s = dot / (norm * rNorm);
            for (int i = 0; i < row.Length; i++) dst[i] += (float)(r[i] / (norm * rNorm) - s * row[i] / (norm * norm));
        }
    }
}
