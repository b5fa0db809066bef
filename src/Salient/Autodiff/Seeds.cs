using Salient.Imaging;
using Salient.Runtime;

namespace Salient.Autodiff;

/// <summary>
/// Seeds for <see cref="GradientEngine.Run"/>: every score is Σ seed ⊙ S for one tensor S, so a
/// seed is an array with S's shape (row-major; item b occupies the b-th block of S.Length/N values).
/// </summary>
public static class Seeds
{
    /// <summary>Score = logit of class classPerItem[b] for item b: one-hot rows.</summary>
    public static float[] ClassLogit(int[] classPerItem, int classes)
    {
        var seed = new float[classPerItem.Length * classes];
        for (int b = 0; b < classPerItem.Length; b++)
        {
            CheckIndex(classPerItem[b], classes, "class");
            seed[b * classes + classPerItem[b]] = 1f;
        }
        return seed;
    }

    /// <summary>
    /// Score = softmax probability p_c of class classPerItem[b] for item b, with S = the logits:
    /// d p_c / d logits = p_c (e_c − p) per row.
    /// </summary>
    public static float[] ClassProbability(TensorValue logits, int[] classPerItem)
    {
        int n = classPerItem.Length;
        if (n == 0 || logits.Length % n != 0)
            throw new SalientException($"logits '{logits.Name}' with {logits.Length} values cannot be split into {n} items");
        int classes = (int)(logits.Length / n);
        var seed = new float[logits.Length];
        for (int b = 0; b < n; b++)
        {
            int c = classPerItem[b];
            CheckIndex(c, classes, "class");
            var p = SoftmaxRow(logits.Data.AsSpan(b * classes, classes));
            for (int j = 0; j < classes; j++)
                seed[b * classes + j] = (float)(p[c] * ((j == c ? 1.0 : 0.0) - p[j]));
        }
        return seed;
    }

    /// <summary>Score = mean of channel <paramref name="channel"/> of a layer [N,C,spatial...] (NCHW), for every item.</summary>
    public static float[] ChannelMean(long[] shape, int channel) => ChannelMean(shape, TensorLayout.Nchw, channel);

    /// <summary>Score = mean over the spatial positions of one channel of a 4-D layer, for every item.</summary>
    public static float[] ChannelMean(long[] shape, TensorLayout layout, int channel) =>
        ChannelMean(shape, layout, Enumerable.Repeat(channel, (int)shape[0]).ToArray());

    /// <summary>Score = mean of channel channelPerItem[b] for item b.</summary>
    public static float[] ChannelMean(long[] shape, TensorLayout layout, int[] channelPerItem)
    {
        var (n, c, h, w) = Dims4(shape, layout);
        if (channelPerItem.Length != n) throw new SalientException($"{channelPerItem.Length} channels given for a batch of {n}");
        var seed = new float[n * c * h * w];
        float v = 1f / (h * w);
        for (int b = 0; b < n; b++)
        {
            int k = channelPerItem[b];
            CheckIndex(k, c, "channel");
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    seed[Index(layout, b, k, y, x, c, h, w)] = v;
        }
        return seed;
    }

    /// <summary>Score = one activation (channel, y, x) of a 4-D NCHW layer, for every item.</summary>
    public static float[] Neuron(long[] shape, int channel, int y, int x) => Neuron(shape, TensorLayout.Nchw, channel, y, x);

    /// <summary>Score = one activation (channel, y, x) of a 4-D layer in the given layout, for every item.</summary>
    public static float[] Neuron(long[] shape, TensorLayout layout, int channel, int y, int x)
    {
        var (n, c, h, w) = Dims4(shape, layout);
        CheckIndex(channel, c, "channel");
        CheckIndex(y, h, "row");
        CheckIndex(x, w, "column");
        var seed = new float[n * c * h * w];
        for (int b = 0; b < n; b++) seed[Index(layout, b, channel, y, x, c, h, w)] = 1f;
        return seed;
    }

    /// <summary>Score = Σ weights ⊙ S (the weights are the seed; checked against S's size).</summary>
    public static float[] Weighted(TensorValue score, float[] weights)
    {
        if (weights.Length != score.Length)
            throw new SalientException($"{weights.Length} weights given for tensor '{score.Name}' with {score.Length} values");
        return weights;
    }

    private static long Index(TensorLayout layout, int b, int k, int y, int x, int c, int h, int w) => layout == TensorLayout.Nchw
        ? (((long)b * c + k) * h + y) * w + x
        : (((long)b * h + y) * w + x) * c + k;

    private static (int N, int C, int H, int W) Dims4(long[] shape, TensorLayout layout)
    {
        if (shape.Length == 2) return ((int)shape[0], (int)shape[1], 1, 1);
        if (shape.Length != 4)
            throw new SalientException($"channel and neuron seeds need a 4-D layer; this one has shape [{string.Join(",", shape)}]");
        return layout == TensorLayout.Nchw
            ? ((int)shape[0], (int)shape[1], (int)shape[2], (int)shape[3])
            : ((int)shape[0], (int)shape[3], (int)shape[1], (int)shape[2]);
    }

    private static void CheckIndex(int i, int count, string what)
    {
        if (i < 0 || i >= count) throw new SalientException($"{what} {i} is out of range 0–{count - 1}");
    }

    private static double[] SoftmaxRow(ReadOnlySpan<float> l) => Statistics.SoftmaxPrecise(l);
}
