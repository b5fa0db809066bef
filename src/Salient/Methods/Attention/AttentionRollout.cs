using Salient.Models;
using Salient.Onnx;

namespace Salient.Methods;

/// <summary>
/// Attention rollout (Abnar &amp; Zuidema 2020) for vision transformers: the attention probabilities
/// of every block (the outputs of the Softmax nodes over [N·heads, T, T] or [N, heads, T, T] token
/// attention that the graph exposes), heads fused (mean, max or min), optionally the lowest
/// <c>discard-ratio</c> of each fused matrix's entries set to 0 (the class token's attention to itself
/// is kept; as in the common implementation, jacobgil/vit-explain), then A' = (A + I)/2 with rows
/// renormalized to sum 1 (the residual connection), multiplied through the blocks: R = A'_L ⋯ A'_1.
/// The map is the class token's row of R over the patch tokens, on the patch grid. Class-agnostic.
/// </summary>
internal sealed class AttentionRollout : IExplanationMethod
{
    public static readonly ChoiceParameter HeadFusion = new("head-fusion", "mean", "how the heads of a block are combined", "mean", "max", "min");
    public static readonly NumberParameter DiscardRatio = new("discard-ratio", 0, "fraction of each block's lowest fused attention entries set to 0 before the rollout", 0, 1, maxExclusive: true);

    public string Name => "rollout";
    public string Summary => "attention rollout: the class token's attention multiplied through the blocks, heads fused, residual added (Abnar & Zuidema 2020); vision transformers";
    public bool UsesLayer => false;
    public bool ClassAgnostic => true;
    /// <summary>Min–max: the residual identity gives every patch a large common share (≈ uniform for untrained attention), which ÷max would show as one flat colour.</summary>
    public MapNormalization Normalization => MapNormalization.MinMax;
    public IReadOnlyList<Parameter> Parameters => [HeadFusion, DiscardRatio];

    public IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        var (attentions, tokens, grid) = Find(ctx.Model.Graph, ctx.Structure);
        string fusion = ctx.Get(HeadFusion);
        double discard = ctx.Get(DiscardRatio);
        ctx.Prefetch(attentions);
        int t = tokens, n = ctx.Items.Count;
        var maps = new List<RawMap>();
        for (int item = 0; item < n; item++)
        {
            // Row 0 of A'_L ⋯ A'_1 is e₀ᵀ A'_L ⋯ A'_1: a row vector times each block's matrix, last block first.
            var blocks = new List<double[]>(attentions.Count);
            foreach (var name in attentions)
            {
                var a = ctx.Forward(name);
                int heads = (int)(a.Length / ((long)n * t * t));
                var fused = Fuse(a.Data.AsSpan(item * heads * t * t, heads * t * t), heads, t, fusion);
                if (discard > 0) Discard(fused, discard);
                for (int i = 0; i < t; i++)
                {
                    double sum = 0;
                    for (int j = 0; j < t; j++)
                    {
                        fused[i * t + j] = 0.5 * (fused[i * t + j] + (i == j ? 1 : 0));
                        sum += fused[i * t + j];
                    }
                    for (int j = 0; j < t; j++) fused[i * t + j] /= sum;
                }
                blocks.Add(fused);
            }
            var row = new double[t];
            row[0] = 1;
            for (int b = blocks.Count - 1; b >= 0; b--) row = RowTimes(row, blocks[b], t);
            var result = row;
            var map = new float[grid.H * grid.W];
            for (int p = 0; p < map.Length; p++) map[p] = (float)result[grid.Skip + p];
            foreach (int cls in ctx.Classes[item]) maps.Add(new RawMap(item, cls, map, grid.H, grid.W));
        }
        return maps;
    }

    /// <summary>
    /// The attention Softmax outputs on the path to the logits, in graph order, with the token count and
    /// the grid of the token layers they attend over (which must have a leading class token).
    /// </summary>
    internal static (List<string> Attentions, int Tokens, TokenGrid Grid) Find(Graph g, ModelStructure s)
    {
        var grids = s.Layers.Where(l => l.Tokens is not null).GroupBy(l => l.Shape[1]).ToDictionary(x => x.Key, x => x.First().Tokens!);
        long batch = s.Shapes.TryGetValue(s.Input.Name, out var inShape) ? inShape.Dims[0] : 1;
        var found = new List<string>();
        long tokens = 0;
        foreach (var node in g.Nodes)
        {
            if (node.OpType != "Softmax" || node.Outputs.Count == 0 || !s.Shapes.TryGetValue(node.Outputs[0], out var shape)) continue;
            var d = shape.Dims;
            if (d.Length is not (3 or 4) || d[^1] != d[^2] || !grids.ContainsKey(d[^1]) || d[0] % batch != 0) continue;
            if (tokens != 0 && d[^1] != tokens) continue;
            tokens = d[^1];
            found.Add(node.Outputs[0]);
        }
        if (found.Count == 0)
            throw new SalientException("attention rollout needs a vision transformer whose attention attends over all its tokens: no Softmax over [heads, tokens, tokens] " +
                "matching a token layer was found (`salient layers` lists token layers; the `tokens` option gives their grid)");
        var grid = grids[tokens];
        if (grid.Skip == 0)
            throw new SalientException($"attention rollout reads the class token's attention, but the model's {tokens} tokens are all patches ({grid.H}×{grid.W}); it has no class token");
        return (found, (int)tokens, grid);
    }

    private static double[] Fuse(ReadOnlySpan<float> a, int heads, int t, string fusion)
    {
        int size = t * t;
        var f = new double[size];
        for (int e = 0; e < size; e++)
        {
            double v = a[e];
            for (int h = 1; h < heads; h++)
            {
                double x = a[h * size + e];
                v = fusion switch { "max" => Math.Max(v, x), "min" => Math.Min(v, x), _ => v + x };
            }
            f[e] = fusion is "max" or "min" ? v : v / heads;
        }
        return f;
    }

    /// <summary>The lowest ⌊ratio·T²⌋ entries set to 0, except entry 0 (the class token's attention to itself).</summary>
    private static void Discard(double[] f, double ratio)
    {
        int count = (int)(f.Length * ratio);
        var order = Enumerable.Range(0, f.Length).OrderBy(i => f[i]).ThenBy(i => i).Take(count).ToList();
        foreach (int i in order)
            if (i != 0) f[i] = 0;
    }

    /// <summary>vᵀ · m for a T×T row-major matrix.</summary>
    private static double[] RowTimes(double[] v, double[] m, int t)
    {
        var r = new double[t];
        for (int k = 0; k < t; k++)
        {
            double x = v[k];
            if (x == 0) continue;
            for (int j = 0; j < t; j++) r[j] += x * m[k * t + j];
        }
        return r;
    }
}
