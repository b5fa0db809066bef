namespace Salient.Evaluation;

/// <summary>
/// Noisy linear imputation (Rong et al. 2022, ROAD): every removed pixel becomes the weighted mean of its
/// eight neighbours (orthogonal 1/6, diagonal 1/12; neighbours outside the image are dropped and the
/// remaining weights are not renormalized, exactly as the paper's system), solved jointly for all removed
/// pixels per channel, plus <c>noise</c> × N(0, 1). The system (D − W_removed) x = W_known · image is
/// symmetric positive definite whenever some pixel is kept; it is solved by Jacobi-preconditioned
/// conjugate gradients in double precision to a relative residual of 1e-10.
/// </summary>
internal static class Imputation
{
    private static readonly (int Dy, int Dx, double W)[] Neighbours =
    [
        (1, 1, 1.0 / 12), (0, 1, 1.0 / 6), (-1, 1, 1.0 / 12), (1, -1, 1.0 / 12),
        (0, -1, 1.0 / 6), (-1, -1, 1.0 / 12), (1, 0, 1.0 / 6), (-1, 0, 1.0 / 6),
    ];

    /// <summary>
    /// Writes <paramref name="x"/> with the pixels where <paramref name="removed"/> is true imputed into
    /// <paramref name="destination"/> (one input row, NCHW or NHWC).
    /// </summary>
    public static void Impute(ReadOnlySpan<float> x, ReadOnlySpan<bool> removed, Span<float> destination,
        int channels, int h, int w, TensorLayout layout, double noise, Random? rng)
    {
        int plane = h * w;
        x.CopyTo(destination);
        var index = new int[plane];
        var unknown = new List<int>();
        for (int p = 0; p < plane; p++)
        {
            index[p] = removed[p] ? unknown.Count : -1;
            if (removed[p]) unknown.Add(p);
        }
        int n = unknown.Count;
        if (n == 0) return;
        if (n == plane)
        {
            // Nothing to interpolate from: the system is singular; zeros (plus noise) stand in.
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < plane; p++) destination[At(c, p, channels, plane, layout)] = (float)(noise * (rng is null ? 0 : Noise.Gaussian(rng)));
            return;
        }

        // Sparse rows: diagonal and the (column, weight) pairs of removed neighbours.
        var diag = new double[n];
        var cols = new int[n * 8];
        var weights = new double[n * 8];
        var counts = new int[n];
        var knownCols = new int[n * 8];
        var knownWeights = new double[n * 8];
        var knownCounts = new int[n];
        for (int i = 0; i < n; i++)
        {
            int p = unknown[i], y = p / w, xx = p % w;
            foreach (var (dy, dx, wt) in Neighbours)
            {
                int ny = y + dy, nx = xx + dx;
                if (ny < 0 || nx < 0 || ny >= h || nx >= w) continue;
                diag[i] += wt;
                int q = ny * w + nx;
                if (index[q] >= 0) { cols[i * 8 + counts[i]] = index[q]; weights[i * 8 + counts[i]++] = wt; }
                else { knownCols[i * 8 + knownCounts[i]] = q; knownWeights[i * 8 + knownCounts[i]++] = wt; }
            }
        }

        var b = new double[n];
        var sol = new double[n];
        var r = new double[n];
        var z = new double[n];
        var d = new double[n];
        var q2 = new double[n];
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int k = 0; k < knownCounts[i]; k++) s += knownWeights[i * 8 + k] * x[At(c, knownCols[i * 8 + k], channels, plane, layout)];
                b[i] = s;
                sol[i] = s / diag[i];
            }
            Solve(diag, cols, weights, counts, b, sol, r, z, d, q2);
            for (int i = 0; i < n; i++)
            {
                double v = sol[i];
                if (noise != 0 && rng is not null) v += noise * Noise.Gaussian(rng);
                destination[At(c, unknown[i], channels, plane, layout)] = (float)v;
            }
        }
    }

    private static int At(int c, int p, int channels, int plane, TensorLayout layout) =>
        layout == TensorLayout.Nchw ? c * plane + p : p * channels + c;

    private static void Multiply(double[] diag, int[] cols, double[] weights, int[] counts, double[] v, double[] result)
    {
        for (int i = 0; i < diag.Length; i++)
        {
            double s = diag[i] * v[i];
            for (int k = 0; k < counts[i]; k++) s -= weights[i * 8 + k] * v[cols[i * 8 + k]];
            result[i] = s;
        }
    }

    /// <summary>Preconditioned conjugate gradients from the initial guess in <paramref name="x"/>.</summary>
    private static void Solve(double[] diag, int[] cols, double[] weights, int[] counts, double[] b, double[] x,
        double[] r, double[] z, double[] d, double[] q)
    {
        int n = b.Length;
        Multiply(diag, cols, weights, counts, x, q);
        double bNorm = 0, rz = 0;
        for (int i = 0; i < n; i++)
        {
            r[i] = b[i] - q[i];
            z[i] = r[i] / diag[i];
            d[i] = z[i];
            rz += r[i] * z[i];
            bNorm += b[i] * b[i];
        }
        double tol = 1e-20 * Math.Max(bNorm, 1e-30);
        for (int it = 0; it < 10 * n + 100; it++)
        {
            double rr = 0;
            for (int i = 0; i < n; i++) rr += r[i] * r[i];
            if (rr <= tol) break;
            Multiply(diag, cols, weights, counts, d, q);
            double dq = 0;
            for (int i = 0; i < n; i++) dq += d[i] * q[i];
            if (dq <= 0) break;
            double alpha = rz / dq, rzNew = 0;
            for (int i = 0; i < n; i++)
            {
                x[i] += alpha * d[i];
                r[i] -= alpha * q[i];
                z[i] = r[i] / diag[i];
                rzNew += r[i] * z[i];
            }
            double beta = rzNew / rz;
            rz = rzNew;
            for (int i = 0; i < n; i++) d[i] = z[i] + beta * d[i];
        }
    }
}
