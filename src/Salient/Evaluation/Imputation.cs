using System.Runtime.Intrinsics;

namespace Salient.Evaluation;

/// <summary>
/// Noisy linear imputation (Rong et al. 2022, ROAD): every removed pixel becomes the weighted mean of its
/// eight neighbours (orthogonal 1/6, diagonal 1/12; neighbours outside the image are dropped and the
/// remaining weights are not renormalized, exactly as the paper's system), solved jointly for all removed
/// pixels per channel, plus <c>noise</c> × N(0, 1). The system (D − W_removed) x = W_known · image is
/// symmetric positive definite whenever some pixel is kept; it is the same for every channel and is
/// solved for up to four channels at once by conjugate gradients preconditioned with a multigrid
/// V-cycle (<see cref="ImputationSolver"/>), in double precision to a relative residual of 1e-10 per channel.
/// </summary>
internal static class Imputation
{
    /// <summary>The weight of the neighbour in direction k = (dy + 1)·3 + (dx + 1): orthogonal 1/6, diagonal 1/12.</summary>
    private static readonly double[] Weights = [1.0 / 12, 1.0 / 6, 1.0 / 12, 1.0 / 6, 0, 1.0 / 6, 1.0 / 12, 1.0 / 6, 1.0 / 12];

    /// <summary>
    /// Writes <paramref name="x"/> with the pixels where <paramref name="removed"/> is true imputed into
    /// <paramref name="destination"/> (one input row, NCHW or NHWC).
    /// </summary>
    public static void Impute(ReadOnlySpan<float> x, ReadOnlySpan<bool> removed, Span<float> destination,
        int channels, int h, int w, TensorLayout layout, double noise, Random? rng)
    {
        int plane = h * w;
        x.CopyTo(destination);
        var unknown = new List<int>();
        for (int p = 0; p < plane; p++)
            if (removed[p]) unknown.Add(p);
        int n = unknown.Count;
        if (n == 0) return;
        if (n == plane)
        {
            // Nothing to interpolate from: the system is singular; zeros (plus noise) stand in.
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < plane; p++) destination[At(c, p, channels, plane, layout)] = (float)(noise * (rng is null ? 0 : Noise.Gaussian(rng)));
            return;
        }

        var solver = new ImputationSolver(removed, h, w, Weights);
        int len = solver.VectorLength;
        var b = new Vector256<double>[len];
        var sol = new Vector256<double>[len];
        Span<double> lanes = stackalloc double[4];
        for (int c0 = 0; c0 < channels; c0 += 4)
        {
            int lanesUsed = Math.Min(4, channels - c0);
            // Right-hand side: the weighted known neighbours; first guess: their weighted mean.
            foreach (int p in unknown)
            {
                int y = p / w, xx = p % w;
                lanes.Clear();
                double diag = 0;
                for (int k = 0; k < 9; k++)
                {
                    if (k == 4) continue;
                    int ny = y + k / 3 - 1, nx = xx + k % 3 - 1;
                    if (ny < 0 || nx < 0 || ny >= h || nx >= w) continue;
                    diag += Weights[k];
                    int q = ny * w + nx;
                    if (removed[q]) continue;
                    for (int c = 0; c < lanesUsed; c++) lanes[c] += Weights[k] * x[At(c0 + c, q, channels, plane, layout)];
                }
                int i = solver.PaddedIndex(y, xx);
                b[i] = Vector256.Create(lanes[0], lanes[1], lanes[2], lanes[3]);
                sol[i] = b[i] / Vector256.Create(diag);
            }
            solver.Solve(b, sol);
            for (int c = 0; c < lanesUsed; c++)
                foreach (int p in unknown)
                {
                    double v = sol[solver.PaddedIndex(p / w, p % w)][c];
                    if (noise != 0 && rng is not null) v += noise * Noise.Gaussian(rng);
                    destination[At(c0 + c, p, channels, plane, layout)] = (float)v;
                }
        }
    }

    private static int At(int c, int p, int channels, int plane, TensorLayout layout) =>
        layout == TensorLayout.Nchw ? c * plane + p : p * channels + c;
}
