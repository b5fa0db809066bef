namespace Salient.Visualization;

/// <summary>
/// The lucid recipe (Olah et al. 2017): Adam on a decorrelated Fourier parameterization, the image
/// seen through the preset's random transforms each step, minus the preset's penalties. The
/// optimizer knows no transform or penalty by name.
/// </summary>
internal static class LucidOptimizer
{
    public static float[][] Run(BatchRun batch, LucidSettings s)
    {
        int b = batch.Count;
        var fourier = new FourierImage(b, batch.Width, batch.Height, s.FourierDecay, s.Amplitude, s.Decorrelate);
        for (int i = 0; i < b; i++) fourier.InitializeRandom(i, batch.ItemSeed(i), s.StartNoise);
        if (batch.StartPixels() is { } px)
            for (int i = 0; i < b; i++) fourier.SetImage(i, px);
        var adam = new Adam(fourier.Coefficients, s.LearningRate);
        var penalties = s.Penalties.Where(p => p.Weight != 0).ToArray();
        for (int step = 0; step < batch.Plan.Steps; step++)
        {
            batch.Cancellation.ThrowIfCancellationRequested();
            var pixels = fourier.Render();
            var warps = new Warp[b];
            for (int i = 0; i < b; i++) warps[i] = batch.Warp(s.Transforms);
            var (values, grads, div) = batch.Gradient(pixels, warps);
            batch.Record(step, values, div);
            if (penalties.Length > 0)
                Parallel.For(0, 3 * b, q => SubtractPenalties(penalties, pixels[q / 3], grads[q / 3], q % 3, batch.Height, batch.Width));
            adam.Ascend(fourier.Backward(grads, pixels));
        }
        return fourier.Render();
    }

    /// <summary>
    /// Objective − Σ w·P(p/255) ⇒ the pixel gradient of colour plane <paramref name="c"/> gets −(1/255)·Σ w·P′.
    /// </summary>
    private static void SubtractPenalties(IPenalty[] penalties, float[] pixels, float[] gradient, int c, int h, int w)
    {
        int plane = h * w;
        var px = pixels.AsSpan(c * plane, plane);
        var sum = new float[plane];
        foreach (var p in penalties) p.AddGradient(px, sum, h, w);
        var g = gradient.AsSpan(c * plane, plane);
        float inv = 1f / 255f;
        for (int o = 0; o < plane; o++) g[o] -= sum[o] * inv;
    }
}
