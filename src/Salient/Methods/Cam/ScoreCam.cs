using Salient.Perturbation;

namespace Salient.Methods;

/// <summary>
/// Score-CAM (Wang et al. 2020). Each channel A_k of the layer, upsampled bilinearly to the input
/// size and min–max normalized to [0, 1], masks the preprocessed input: x ⊙ M_k (every input channel).
/// The masked inputs run through the model in batches, and the channel weights come from their scores:
/// <list type="bullet">
/// <item><c>variant=default</c> (what most tools do): w_k = softmax over the channels of the target
/// logit (or the target's score, <see cref="Target"/>) of x ⊙ M_k.</item>
/// <item><c>variant=paper</c>: w_k = p_c(x ⊙ M_k) − p_c(x_b), the increase of the target's softmax
/// probability over a baseline x_b; the baseline is the all-zero input tensor in preprocessing space
/// (x ⊙ 0: what an all-zero mask gives, i.e. the dataset-mean colour for mean/std preprocessing).</item>
/// </list>
/// Map = ReLU(Σ_k w_k A_k) (or its principal component with eigen-smooth). Channels that are
/// constant over the layer's grid carry no spatial information and are skipped (weight 0, no forward
/// pass); <c>top-channels=N</c> (Faster-Score-CAM) keeps only the N channels with the largest mean
/// activation.
/// </summary>
internal sealed class ScoreCam : WeightedCam
{
    public static readonly ChoiceParameter Variant = new("variant", "default",
        "default: softmax over channels of the masked logits; paper: probability increase over a zero baseline", "default", "paper");
    public static readonly IntParameter TopChannels = new("top-channels", null,
        "only the N channels with the largest mean activation (Faster-Score-CAM)", 1, automatic: "all channels");

    public override IReadOnlyList<Parameter> Parameters => [.. base.Parameters, Variant, TopChannels, CommonParameters.BatchSize];
    public bool ManyForwardPasses => true;

    public override string Name => "scorecam";
    public override string Summary => "Score-CAM: channel weights from the scores of the input masked by each upsampled channel (Wang et al. 2020); variant, top-channels";

    protected override IReadOnlyList<CamTerms> ComputeTerms(MethodContext ctx)
    {
        ctx.RequireLayer(Name);
        bool paper = ctx.Get(Variant) == "paper";
        // The paper variant's score of a row: the class's softmax probability for the logit target (the
        // paper's p_c), the target's own score for any other target (prob:C gives p_c itself).
        bool logit = ctx.Target.IsClassLogit;
        double Paper(ReadOnlySpan<float> row, int slot) => logit ? Statistics.Probability(row, slot) : row[slot];
        int? top = ctx.Get(TopChannels);
        var terms = new List<CamTerms>();
        for (int item = 0; item < ctx.Items.Count; item++)
        {
            var a = ctx.LayerActivation(item);
            var x = ctx.Items[item];
            var channels = SelectChannels(a, top);
            var logits = channels.Length == 0 ? [] : RunMasked(ctx, item, a, channels);
            double[]? baseline = null;
            if (paper && channels.Length > 0)
            {
                var zero = ctx.RunRows(x, 1, (_, n, dst) => dst.Clear(), out int bc);
                baseline = ctx.Classes[item].Select(c => Paper(zero.AsSpan(0, bc), c)).ToArray();
            }
            int ci = 0;
            foreach (int cls in ctx.Classes[item])
            {
                var w = new float[a.C];
                if (channels.Length > 0)
                {
                    int per = logits.Length / channels.Length;
                    if (paper)
                    {
                        for (int j = 0; j < channels.Length; j++)
                            w[channels[j]] = (float)(Paper(logits.AsSpan(j * per, per), cls) - baseline![ci]);
                    }
                    else
                    {
                        var scores = new float[channels.Length];
                        for (int j = 0; j < channels.Length; j++) scores[j] = logits[j * per + cls];
                        var soft = Statistics.SoftmaxPrecise(scores);
                        for (int j = 0; j < channels.Length; j++) w[channels[j]] = (float)soft[j];
                    }
                }
                terms.Add(new CamTerms(item, cls, a, w));
                ci++;
            }
        }
        return terms;
    }

    /// <summary>Channels to score: non-constant ones, restricted to the <paramref name="top"/> largest mean activations when given (ascending index order).</summary>
    internal static int[] SelectChannels(Activation a, int? top)
    {
        int plane = a.Plane;
        IEnumerable<int> all = Enumerable.Range(0, a.C);
        if (top is int n && n < a.C)
        {
            var mean = new double[a.C];
            for (int k = 0; k < a.C; k++)
            {
                double s = 0;
                foreach (var v in a.Data.AsSpan(k * plane, plane)) s += v;
                mean[k] = s / plane;
            }
            all = all.OrderByDescending(k => mean[k]).ThenBy(k => k).Take(n).Order();
        }
        return all.Where(k => !SpanMath.IsConstant(a.Data.AsSpan(k * plane, plane))).ToArray();
    }

    private static float[] RunMasked(MethodContext ctx, int item, Activation a, int[] channels)
    {
        var x = ctx.Items[item];
        int plane = a.Plane;
        var up = new BilinearUpsampler(a.H, a.W, x.Height, x.Width);
        var mask = new float[x.Height * x.Width];
        var scratch = new float[up.ScratchLength];
        int rowLength = x.Tensor.Length;
        void Fill(int start, int count, Span<float> dst)
        {
            for (int r = 0; r < count; r++)
            {
                int k = channels[start + r];
                var (min, max) = up.Resize(a.Data.AsSpan(k * plane, plane), mask, scratch);
                // Channels were chosen non-constant, but upsampling can still flatten a tiny range.
                float scale = max > min ? 1f / (max - min) : 0f;
                SpanMath.Affine(mask, min, scale);
                InputMasking.Apply(x.Tensor, mask, dst.Slice(r * rowLength, rowLength), x.Channels, x.Layout);
            }
        }
        return ctx.RunRows(x, channels.Length, Fill, out _);
    }
}
