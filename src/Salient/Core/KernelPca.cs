namespace Salient.Core;

/// <summary>The kernels of <see cref="KernelPca"/> (the names and defaults of scikit-learn's pairwise kernels).</summary>
internal enum PcaKernel
{
    /// <summary>⟨x, y⟩.</summary>
    Linear,
    /// <summary>(γ⟨x, y⟩ + c₀)^degree.</summary>
    Poly,
    /// <summary>exp(−γ‖x − y‖²).</summary>
    Rbf,
    /// <summary>tanh(γ⟨x, y⟩ + c₀).</summary>
    Sigmoid,
    /// <summary>⟨x, y⟩ / (‖x‖‖y‖).</summary>
    Cosine,
}

/// <summary>
/// Kernel PCA's first component (Schölkopf et al. 1998): the n×n kernel matrix of the rows, centred in
/// feature space (K̃ = K − 1ₙK − K1ₙ + 1ₙK1ₙ), its eigenvector v of the largest eigenvalue λ, and the
/// rows' projections v·√λ (zero when λ ≤ 0). The sign is scikit-learn's: the entry of v with the largest
/// magnitude is positive.
/// </summary>
internal static class KernelPca
{
    /// <summary>The kernel matrix of the rows of <paramref name="x"/> (n × d, row-major).</summary>
    public static double[] KernelMatrix(double[] x, int n, int d, PcaKernel kernel, double gamma, double coef0 = 1, int degree = 3)
    {
        var k = new double[n * n];
        var norms = new double[n];
        for (int i = 0; i < n; i++) norms[i] = Math.Sqrt(Dot(x, i, i, d));
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double dot = Dot(x, i, j, d);
                double v = kernel switch
                {
                    PcaKernel.Linear => dot,
                    PcaKernel.Poly => Math.Pow(gamma * dot + coef0, degree),
                    PcaKernel.Rbf => Math.Exp(-gamma * Math.Max(0, norms[i] * norms[i] + norms[j] * norms[j] - 2 * dot)),
                    PcaKernel.Sigmoid => Math.Tanh(gamma * dot + coef0),
                    _ => norms[i] == 0 || norms[j] == 0 ? 0 : dot / (norms[i] * norms[j]),
                };
                k[i * n + j] = k[j * n + i] = v;
            }
        return k;
    }

    /// <summary>Centres a symmetric kernel matrix in feature space, in place.</summary>
    public static void Centre(double[] k, int n)
    {
        var rowMean = new double[n];
        double all = 0;
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < n; j++) s += k[i * n + j];
            rowMean[i] = s / n;
            all += s;
        }
        all /= (double)n * n;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) k[i * n + j] += all - rowMean[i] - rowMean[j];
    }

    /// <summary>The projections of the n rows of <paramref name="x"/> on kernel PCA's first component.</summary>
    public static double[] FirstComponent(double[] x, int n, int d, PcaKernel kernel, double gamma, double coef0 = 1, int degree = 3)
    {
        var k = KernelMatrix(x, n, d, kernel, gamma, coef0, degree);
        Centre(k, n);
        var (lambda, v) = TopEigenpair(k, n);
        int big = 0;
        for (int i = 1; i < n; i++) if (Math.Abs(v[i]) > Math.Abs(v[big])) big = i;
        double scale = Math.Sqrt(Math.Max(0, lambda)) * (v[big] < 0 ? -1 : 1);
        var p = new double[n];
        for (int i = 0; i < n; i++) p[i] = v[i] * scale;
        return p;
    }

    /// <summary>
    /// The largest (algebraic) eigenvalue of a symmetric matrix and a unit eigenvector, by power
    /// iteration on A + sI with s = a Gershgorin bound on −λ_min, so that every shifted eigenvalue is
    /// non-negative and the dominant one is the largest. Stops when the vector moves less than 1e-13.
    /// </summary>
    public static (double Value, double[] Vector) TopEigenpair(double[] a, int n, int maxIterations = 20000)
    {
        double shift = 0;
        for (int i = 0; i < n; i++)
        {
            double off = 0;
            for (int j = 0; j < n; j++) if (j != i) off += Math.Abs(a[i * n + j]);
            shift = Math.Max(shift, off - a[i * n + i]);
        }
        var v = new double[n];
        var rng = new Random(1234);
        for (int i = 0; i < n; i++) v[i] = 1 + 0.1 * rng.NextDouble();
        Normalize(v);
        var next = new double[n];
        for (int iter = 0; iter < maxIterations; iter++)
        {
            MultiplyShifted(a, n, shift, v, next);
            if (Normalize(next) == 0) return (0, v);
            double diff = 0;
            for (int i = 0; i < n; i++) diff = Math.Max(diff, Math.Abs(next[i] - v[i]));
            (v, next) = (next, v);
            if (diff < 1e-13) break;
        }
        MultiplyShifted(a, n, 0, v, next);
        double lambda = 0;
        for (int i = 0; i < n; i++) lambda += v[i] * next[i];
        return (lambda, v);
    }

    private static void MultiplyShifted(double[] a, int n, double shift, double[] v, double[] result)
    {
        for (int i = 0; i < n; i++)
        {
            double s = shift * v[i];
            for (int j = 0; j < n; j++) s += a[i * n + j] * v[j];
            result[i] = s;
        }
    }

    private static double Dot(double[] x, int i, int j, int d)
    {
        double s = 0;
        for (int c = 0; c < d; c++) s += x[i * d + c] * x[j * d + c];
        return s;
    }

    private static double Normalize(double[] v)
    {
        double s = 0;
        foreach (var e in v) s += e * e;
        s = Math.Sqrt(s);
        if (s == 0) return 0;
        for (int i = 0; i < v.Length; i++) v[i] /= s;
        return s;
    }
}
