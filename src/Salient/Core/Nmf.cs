namespace Salient.Core;

/// <summary>
/// Non-negative matrix factorization X ≈ W·H (X: n×m, W: n×k, H: k×m, all ≥ 0, row-major doubles) for
/// the Frobenius loss, with the two classic solvers and scikit-learn's random initialization (so that a
/// factorization can be compared with scikit-learn's <c>NMF(init='random', random_state=s)</c>):
/// <list type="bullet">
/// <item><see cref="CoordinateDescent"/>: exact coordinate minimization, one entry of W (then of H) at a time,
/// projected on ≥ 0 (Cichocki &amp; Phan 2009; scikit-learn's default solver <c>cd</c>), stopped when the sum of
/// the projected gradients' magnitudes falls below <c>tol</c> times the first iteration's.</item>
/// <item><see cref="MultiplicativeUpdate"/>: Lee &amp; Seung's multiplicative updates
/// W ← W ⊙ XHᵀ / WHHᵀ, then H ← H ⊙ WᵀX / WᵀWH (scikit-learn's solver <c>mu</c> for the Frobenius loss),
/// stopped when ‖X − WH‖_F improves by less than <c>tol</c> of its initial value over 10 iterations.</item>
/// </list>
/// </summary>
internal static class Nmf
{
    /// <summary>scikit-learn's <c>init='random'</c>: √(mean X / k) · |N(0,1)|, H's k×m draws first, then W's n×k, from numpy's legacy <c>RandomState(seed)</c>.</summary>
    public static (double[] W, double[] H) RandomInit(double[] x, int n, int m, int k, uint seed)
    {
        double avg = Math.Sqrt(x.Average() / k);
        var rng = new LegacyNormal(seed);
        var h = new double[k * m];
        for (int i = 0; i < h.Length; i++) h[i] = Math.Abs(avg * (float)rng.Next());
        var w = new double[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = Math.Abs(avg * (float)rng.Next());
        return (w, h);
    }

    /// <summary>Coordinate descent on W and H in place; returns the iterations run.</summary>
    public static int CoordinateDescent(double[] x, double[] w, double[] h, int n, int m, int k, int maxIterations = 200, double tol = 1e-4)
    {
        var xt = Transpose(x, n, m);
        var ht = Transpose(h, k, m);   // m×k
        double first = 0;
        int iter = 1;
        for (; iter <= maxIterations; iter++)
        {
            double violation = UpdateFactor(x, w, ht, n, m, k) + UpdateFactor(xt, ht, w, m, n, k);
            if (iter == 1) first = violation;
            if (first == 0 || violation / first <= tol) break;
        }
        Array.Copy(Transpose(ht, m, k), h, h.Length);
        return Math.Min(iter, maxIterations);
    }

    /// <summary>
    /// One sweep of exact coordinate updates of <paramref name="a"/> (rows×k) in X ≈ A·Bᵀ (X rows×cols,
    /// B cols×k): each entry moves to the minimizer of the loss along it, clipped at 0. Returns Σ |projected gradient|.
    /// </summary>
    private static double UpdateFactor(double[] x, double[] a, double[] b, int rows, int cols, int k)
    {
        var btb = new double[k * k];
        for (int s = 0; s < k; s++)
            for (int t = 0; t < k; t++)
            {
                double v = 0;
                for (int j = 0; j < cols; j++) v += b[j * k + s] * b[j * k + t];
                btb[s * k + t] = v;
            }
        var xb = new double[rows * k];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double xv = x[i * cols + j];
                if (xv == 0) continue;
                for (int t = 0; t < k; t++) xb[i * k + t] += xv * b[j * k + t];
            }
        double violation = 0;
        for (int t = 0; t < k; t++)
            for (int i = 0; i < rows; i++)
            {
                double grad = -xb[i * k + t];
                for (int r = 0; r < k; r++) grad += btb[t * k + r] * a[i * k + r];
                double pg = a[i * k + t] == 0 ? Math.Min(0, grad) : grad;
                violation += Math.Abs(pg);
                double hess = btb[t * k + t];
                if (hess != 0) a[i * k + t] = Math.Max(a[i * k + t] - grad / hess, 0);
            }
        return violation;
    }

    /// <summary>
    /// Multiplicative updates of W and H in place (W first, then H with the new W; a zero denominator
    /// becomes float32's ε); every 10 iterations it stops when ‖X − WH‖_F has dropped by less than
    /// <paramref name="tol"/> of its initial value since the last check. Returns the iterations run.
    /// </summary>
    public static int MultiplicativeUpdate(double[] x, double[] w, double[] h, int n, int m, int k, int maxIterations = 200, double tol = 1e-4)
    {
        const double Epsilon = 1.1920928955078125e-07;   // float32 machine epsilon
        double initial = Math.Sqrt(2 * Loss(x, w, h, n, m, k)), previous = initial;
        int iter = 1;
        for (; iter <= maxIterations; iter++)
        {
            // W ← W ⊙ XHᵀ / (W HHᵀ)
            var hht = Gram(h, k, m);
            var wNew = new double[n * k];
            for (int i = 0; i < n; i++)
                for (int t = 0; t < k; t++)
                {
                    double num = 0, den = 0;
                    for (int j = 0; j < m; j++) num += x[i * m + j] * h[t * m + j];
                    for (int r = 0; r < k; r++) den += w[i * k + r] * hht[r * k + t];
                    wNew[i * k + t] = w[i * k + t] * num / (den == 0 ? Epsilon : den);
                }
            Array.Copy(wNew, w, w.Length);
            // H ← H ⊙ WᵀX / (WᵀW H)
            var wtw = new double[k * k];
            for (int s = 0; s < k; s++)
                for (int t = 0; t < k; t++)
                    for (int i = 0; i < n; i++) wtw[s * k + t] += w[i * k + s] * w[i * k + t];
            var hNew = new double[k * m];
            for (int t = 0; t < k; t++)
                for (int j = 0; j < m; j++)
                {
                    double num = 0, den = 0;
                    for (int i = 0; i < n; i++) num += w[i * k + t] * x[i * m + j];
                    for (int r = 0; r < k; r++) den += wtw[t * k + r] * h[r * m + j];
                    hNew[t * m + j] = h[t * m + j] * num / (den == 0 ? Epsilon : den);
                }
            Array.Copy(hNew, h, h.Length);
            if (tol > 0 && iter % 10 == 0)
            {
                double error = Math.Sqrt(2 * Loss(x, w, h, n, m, k));
                if (initial == 0 || (previous - error) / initial < tol) break;
                previous = error;
            }
        }
        return Math.Min(iter, maxIterations);
    }

    /// <summary>½‖X − WH‖²_F.</summary>
    public static double Loss(double[] x, double[] w, double[] h, int n, int m, int k)
    {
        double s = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double v = x[i * m + j];
                for (int t = 0; t < k; t++) v -= w[i * k + t] * h[t * m + j];
                s += v * v;
            }
        return s / 2;
    }

    private static double[] Gram(double[] h, int k, int m)
    {
        var g = new double[k * k];
        for (int s = 0; s < k; s++)
            for (int t = 0; t < k; t++)
            {
                double v = 0;
                for (int j = 0; j < m; j++) v += h[s * m + j] * h[t * m + j];
                g[s * k + t] = v;
            }
        return g;
    }

    private static double[] Transpose(double[] a, int rows, int cols)
    {
        var t = new double[a.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }
}

/// <summary>
/// Standard normal draws as numpy's legacy <c>RandomState(seed).standard_normal</c> makes them: the
/// Mersenne Twister MT19937 (Matsumoto &amp; Nishimura 1998) seeded by its linear recurrence, 53-bit
/// doubles from two 32-bit outputs, and the polar Box–Muller method (Marsaglia), whose second value is
/// kept for the next call.
/// </summary>
internal sealed class LegacyNormal
{
    private const int N = 624, M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _index;
    private double? _spare;

    public LegacyNormal(uint seed)
    {
        _mt[0] = seed;
        for (int i = 1; i < N; i++) _mt[i] = unchecked(1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i);
        _index = N;
    }

    public uint NextUInt32()
    {
        if (_index >= N)
        {
            for (int i = 0; i < N; i++)
            {
                uint y = (_mt[i] & 0x80000000u) | (_mt[(i + 1) % N] & 0x7fffffffu);
                _mt[i] = _mt[(i + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
            }
            _index = 0;
        }
        uint z = _mt[_index++];
        z ^= z >> 11;
        z ^= (z << 7) & 0x9d2c5680u;
        z ^= (z << 15) & 0xefc60000u;
        z ^= z >> 18;
        return z;
    }

    /// <summary>A double in [0, 1) from 27 + 26 random bits.</summary>
    public double NextDouble()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    public double Next()
    {
        if (_spare is { } s)
        {
            _spare = null;
            return s;
        }
        double x1, x2, r2;
        do
        {
            x1 = 2 * NextDouble() - 1;
            x2 = 2 * NextDouble() - 1;
            r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1 || r2 == 0);
        double f = Math.Sqrt(-2 * Math.Log(r2) / r2);
        _spare = f * x1;
        return f * x2;
    }
}
