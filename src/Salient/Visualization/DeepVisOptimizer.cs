using System.Runtime.CompilerServices;

namespace Salient.Visualization;

/// <summary>
/// DeepVis (Yosinski et al. 2015): gradient ascent in pixel space, x ← r_θ(x + η·∇), where x is the
/// image minus the neutral colour and r_θ the preset's regularizers, applied in order; then the
/// valid pixel range. The optimizer knows no regularizer by name.
/// </summary>
internal static class DeepVisOptimizer
{
    public static float[][] Run(BatchRun batch, DeepVisSettings s)
    {
        int b = batch.Count, n = 3 * batch.PixelPlane;
        var x = new float[b][];
        var start = batch.StartPixels();
        for (int i = 0; i < b; i++) x[i] = Start(batch, i, s, start);
        var pixels = new float[b][];
        for (int i = 0; i < b; i++) pixels[i] = new float[n];
        for (int step = 0; step < batch.Plan.Steps; step++)
        {
            batch.Cancellation.ThrowIfCancellationRequested();
            for (int i = 0; i < b; i++) ToPixels(batch, x[i], pixels[i]);
            var warps = new Warp[b];
            for (int i = 0; i < b; i++) warps[i] = batch.Warp(s.Transforms);
            var (values, grads, div) = batch.Gradient(pixels, warps);
            batch.Record(step, values, div);
            int current = step;
            Parallel.For(0, b, i => Update(batch, x[i], grads[i], s, current));
        }
        for (int i = 0; i < b; i++) ToPixels(batch, x[i], pixels[i]);
        return pixels;
    }

    /// <summary>x ← r_θ(x + η·∇): the step, the regularizers in order, and the valid pixel range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Update(BatchRun batch, float[] xi, float[] g, DeepVisSettings s, int step)
    {
        var neutral = batch.Plan.Neutral;
        int plane = batch.PixelPlane;
        float lr = s.LearningRate;
        if (s.Policy != LearningRatePolicy.Constant)
        {
            double n2 = 0;
            foreach (var v in g) n2 += (double)v * v;
            lr = n2 <= 0 ? 0f : s.Policy == LearningRatePolicy.Progress
                ? (float)Math.Min(s.LearningRate, s.DesiredProgress / n2)
                : (float)(s.LearningRate / Math.Sqrt(n2 / g.Length));
        }
        for (int k = 0; k < xi.Length; k++) xi[k] += lr * g[k];
        foreach (var r in s.Regularizers) r.Apply(xi, g, step, batch.Height, batch.Width);
        for (int c = 0; c < 3; c++)
        {
            float lo = -neutral[c], hi = 255f - neutral[c];
            var p = xi.AsSpan(c * plane, plane);
            for (int k = 0; k < p.Length; k++) p[k] = Math.Clamp(p[k], lo, hi);
        }
    }

    /// <summary>The start: the start image, else the neutral colour plus seeded Gaussian noise (minus the neutral colour).</summary>
    private static float[] Start(BatchRun batch, int item, DeepVisSettings s, float[]? start)
    {
        var neutral = batch.Plan.Neutral;
        int plane = batch.PixelPlane;
        var x = new float[3 * plane];
        if (start is not null)
        {
            for (int c = 0; c < 3; c++)
                for (int k = 0; k < plane; k++) x[c * plane + k] = start[c * plane + k] - neutral[c];
            return x;
        }
        var rng = new Random(batch.ItemSeed(item));
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < plane; k++)
                x[c * plane + k] = Math.Clamp(s.StartNoise * Noise.Gaussian(rng), -neutral[c], 255f - neutral[c]);
        return x;
    }

    private static void ToPixels(BatchRun batch, float[] x, float[] pixels)
    {
        var neutral = batch.Plan.Neutral;
        int plane = batch.PixelPlane;
        for (int c = 0; c < 3; c++)
        {
            float n = neutral[c];
            for (int k = 0; k < plane; k++) pixels[c * plane + k] = Math.Clamp(x[c * plane + k] + n, 0f, 255f);
        }
    }
}
