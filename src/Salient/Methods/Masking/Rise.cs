using Salient.Perturbation;

namespace Salient.Methods;

/// <summary>
/// RISE (Petsiuk et al. 2018): N random smooth masks M_i (<see cref="RiseMasks"/>) multiply the
/// preprocessed input; the map is the score-weighted mean of the masks,
/// S(x) = 1/(N·p) · Σ_i (f_i − f̄) · M_i(x), with f_i the target logit of x ⊙ M_i.
/// <para>Scores are logits (pre-softmax). f̄, the mean score over the masks, is subtracted: the term
/// f̄·Σ_i M_i(x)/(N·p) it removes tends to a constant (every pixel is kept with probability p) and
/// only adds mask-count noise, so the normalized map is the paper's with less variance.</para>
/// <para>Options: <c>masks</c> (default 1000), <c>cell</c> (grid cell in input pixels, default
/// ⌈min(H, W)/7⌉ = 32 at 224, the paper's 7×7 grid), <c>p</c> (keep probability, default 0.5),
/// <c>seed</c> (default 0; the same seed gives the same map).</para>
/// </summary>
internal sealed class Rise : IExplanationMethod
{
    public static readonly IntParameter Masks = new("masks", DefaultMasks, "number of random masks", 1, 1 << 24);
    public static readonly IntParameter Cell = new("cell", null, "side of one cell of the low-resolution mask grid, in input pixels", 1, automatic: "input size / 7 (32 at 224)");
    public static readonly NumberParameter KeepProbability = new("p", 0.5, "probability that a mask cell is kept", 0, 1, minExclusive: true);
    public static readonly IntParameter Seed = new("seed", 0, "random seed; the same seed gives the same map");

    public IReadOnlyList<Parameter> Parameters => [Masks, Cell, KeepProbability, Seed, CommonParameters.BatchSize];
    public bool ManyForwardPasses => true;

    public const int DefaultMasks = 1000;

    public string Name => "rise";
    public string Summary => "RISE: score-weighted mean of random smooth masks (Petsiuk et al. 2018); masks, cell, p, seed";
    public bool UsesLayer => false;
    public MapNormalization Normalization => MapNormalization.MinMax;

    public IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        int count = ctx.Get(Masks)!.Value;
        double keep = ctx.Get(KeepProbability);
        int seed = ctx.Get(Seed)!.Value;
        var maps = new List<RawMap>();
        for (int item = 0; item < ctx.Items.Count; item++)
        {
            var x = ctx.Items[item];
            int h = x.Height, w = x.Width, plane = h * w;
            int cell = ctx.Get(Cell) ?? Occlusion.DefaultPatch(h, w);
            var masks = new RiseMasks(count, h, w, cell, keep, seed);
            var mask = new float[plane];
            var scratch = new float[masks.ScratchLength];
            int rowLength = x.Tensor.Length;
            void Fill(int start, int n, Span<float> dst)
            {
                for (int r = 0; r < n; r++)
                {
                    masks.Write(start + r, mask, scratch);
                    InputMasking.Apply(x.Tensor, mask, dst.Slice(r * rowLength, rowLength), x.Channels, x.Layout);
                }
            }
            var logits = ctx.RunRows(x, count, Fill, out int per);

            var classes = ctx.Classes[item];
            var weights = new double[classes.Length][];
            for (int c = 0; c < classes.Length; c++)
            {
                var f = new double[count];
                for (int i = 0; i < count; i++) f[i] = logits[i * per + classes[c]];
                double mean = f.Average();
                for (int i = 0; i < count; i++) f[i] -= mean;
                weights[c] = f;
            }
            // Second pass: rebuild each mask once and add it to every class's sum.
            var acc = new double[classes.Length][];
            for (int c = 0; c < classes.Length; c++) acc[c] = new double[plane];
            for (int i = 0; i < count; i++)
            {
                masks.Write(i, mask, scratch);
                for (int c = 0; c < classes.Length; c++) SpanMath.AddScaled(acc[c], mask, weights[c][i]);
            }
            for (int c = 0; c < classes.Length; c++)
            {
                var map = new float[plane];
                double scale = 1.0 / (count * keep);
                for (int i = 0; i < plane; i++) map[i] = (float)(acc[c][i] * scale);
                maps.Add(new RawMap(item, classes[c], map, h, w));
            }
        }
        return maps;
    }
}
