namespace Salient.Tests.Methods;

/// <summary>
/// An independent first principal component for the Eigen-CAM tests. Salient runs a power iteration
/// on the channels×channels matrix MᵀM; this reference instead diagonalizes the positions×positions
/// Gram matrix K = MMᵀ with cyclic Jacobi rotations (a different algorithm on a different matrix).
/// With M = positions×channels, each channel centred over positions, the projection of the rows of
/// M on the first right singular vector v₁ is Mv₁ = σ₁u₁ = √λ₁·u₁ (u₁, λ₁: top eigenpair of K).
/// </summary>
internal static class ReferencePca
{
    /// <summary>
    /// One score per position: the projection on the first principal component, its sign chosen so
    /// that it correlates positively with the plain channel sum Σ_k x_k(p). Also the two largest eigenvalues.
    /// </summary>
    public static (double[] Scores, double Lambda1, double Lambda2) FirstComponent(float[] chw, int channels, int positions)
    {
        var m = new double[positions, channels];
        for (int k = 0; k < channels; k++)
        {
            double mean = 0;
            for (int p = 0; p < positions; p++) mean += chw[k * positions + p];
            mean /= positions;
            for (int p = 0; p < positions; p++) m[p, k] = chw[k * positions + p] - mean;
        }
        var gram = new double[positions, positions];
        for (int i = 0; i < positions; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int k = 0; k < channels; k++) s += m[i, k] * m[j, k];
                gram[i, j] = gram[j, i] = s;
            }
        var (values, vectors) = Jacobi(gram);
        var order = Enumerable.Range(0, positions).OrderByDescending(i => values[i]).ToArray();
        int top = order[0];
        double lambda = Math.Max(0, values[top]);
        var scores = new double[positions];
        for (int p = 0; p < positions; p++) scores[p] = Math.Sqrt(lambda) * vectors[p, top];
        var sum = new double[positions];
        for (int k = 0; k < channels; k++) for (int p = 0; p < positions; p++) sum[p] += chw[k * positions + p];
        if (Correlation(scores, sum) < 0) for (int p = 0; p < positions; p++) scores[p] = -scores[p];
        return (scores, lambda, positions > 1 ? values[order[1]] : 0);
    }

    /// <summary>Eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations.</summary>
    public static (double[] Values, double[,] Vectors) Jacobi(double[,] matrix)
    {
        int n = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        var v = new double[n, n];
        for (int i = 0; i < n; i++) v[i, i] = 1;
        double total = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) total += a[i, j] * a[i, j];
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) off += a[i, j] * a[i, j];
            if (off <= 1e-30 * total || off == 0) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (a[p, q] == 0) continue;
                    // Rotation angle that zeroes a[p,q]: tan(2θ) = 2a_pq / (a_qq − a_pp).
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq;
                        v[k, q] = s * vkp + c * vkq;
                    }
                }
        }
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = a[i, i];
        return (values, v);
    }

    /// <summary>Pearson correlation.</summary>
    public static double Correlation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Count; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx == 0 || syy == 0 ? 0 : sxy / Math.Sqrt(sxx * syy);
    }

    public static double[] D(float[] x) => x.Select(v => (double)v).ToArray();
}
