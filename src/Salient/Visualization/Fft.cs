using System.Runtime.CompilerServices;
namespace Salient.Visualization;

/// <summary>
/// In-place radix-2 complex FFT on separate real/imaginary arrays, and its 2-D form on row-major
/// n × n grids. Unnormalized in both directions: <see cref="Forward"/> computes
/// X[k] = Σ x[j]·e^(−2πi·jk/n) and <see cref="Inverse"/> computes x[j] = Σ X[k]·e^(+2πi·jk/n)
/// (so Inverse(Forward(x)) = n·x). Used by the Fourier image parameterization.
/// </summary>
internal sealed class Fft
{
    private readonly int _n;
    private readonly int[] _bitReverse;
    private readonly float[] _cos;
    private readonly float[] _sin;

    /// <summary>A plan for length <paramref name="n"/>, a power of two ≥ 2.</summary>
    public Fft(int n)
    {
        if (n < 2 || (n & (n - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(n), n, "FFT length must be a power of two ≥ 2");
        _n = n;
        int bits = System.Numerics.BitOperations.Log2((uint)n);
        _bitReverse = new int[n];
        for (int i = 0; i < n; i++)
        {
            int r = 0;
            for (int b = 0; b < bits; b++) if ((i & (1 << b)) != 0) r |= 1 << (bits - 1 - b);
            _bitReverse[i] = r;
        }
        _cos = new float[n / 2];
        _sin = new float[n / 2];
        for (int k = 0; k < n / 2; k++)
        {
            double a = 2 * Math.PI * k / n;
            _cos[k] = (float)Math.Cos(a);
            _sin[k] = (float)Math.Sin(a);
        }
    }

    public int Length => _n;

    /// <summary>The smallest power of two ≥ max(n, 2).</summary>
    public static int NextPowerOfTwo(int n)
    {
        int p = 2;
        while (p < n) p <<= 1;
        return p;
    }

    /// <summary>X[k] = Σ x[j]·e^(−2πi·jk/n), in place.</summary>
    public void Forward(Span<float> re, Span<float> im) => Transform(re, im, -1f);

    /// <summary>x[j] = Σ X[k]·e^(+2πi·jk/n), in place (no 1/n).</summary>
    public void Inverse(Span<float> re, Span<float> im) => Transform(re, im, +1f);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Transform(Span<float> re, Span<float> im, float sign)
    {
        int n = _n;
        if (re.Length != n || im.Length != n) throw new ArgumentException($"FFT plan is for length {n}");
        for (int i = 0; i < n; i++)
        {
            int j = _bitReverse[i];
            if (j > i)
            {
                (re[i], re[j]) = (re[j], re[i]);
                (im[i], im[j]) = (im[j], im[i]);
            }
        }
        for (int size = 2; size <= n; size <<= 1)
        {
            int half = size >> 1;
            int step = n / size;
            for (int start = 0; start < n; start += size)
            {
                for (int k = 0; k < half; k++)
                {
                    float wr = _cos[k * step], wi = sign * _sin[k * step];
                    int a = start + k, b = a + half;
                    float tr = re[b] * wr - im[b] * wi;
                    float ti = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - tr;
                    im[b] = im[a] - ti;
                    re[a] += tr;
                    im[a] += ti;
                }
            }
        }
    }

    /// <summary>2-D forward transform of a row-major n × n grid, in place.</summary>
    public void Forward2D(float[] re, float[] im) => Transform2D(re, im, -1f);

    /// <summary>2-D inverse transform (unnormalized) of a row-major n × n grid, in place.</summary>
    public void Inverse2D(float[] re, float[] im) => Transform2D(re, im, +1f);

    // The 2-D transform as two passes of "column" transforms, each butterfly combining two whole rows
    // (SIMD across the columns), with a transpose between and after them.
    private void Transform2D(float[] re, float[] im, float sign)
    {
        int n = _n;
        if (re.Length != n * n || im.Length != n * n) throw new ArgumentException($"2-D FFT plan is for {n}×{n} grids");
        ColumnTransform(re, im, sign);
        Transpose(re);
        Transpose(im);
        ColumnTransform(re, im, sign);
        Transpose(re);
        Transpose(im);
    }

    /// <summary>
    /// The 2-D inverse transform of a spectrum stored transposed (element [kx·n + ky]) into a
    /// row-major image: half the transposes of <see cref="Inverse2D"/>.
    /// </summary>
    internal void InverseFromTransposed(float[] re, float[] im)
    {
        ColumnTransform(re, im, +1f);
        Transpose(re);
        Transpose(im);
        ColumnTransform(re, im, +1f);
    }

    /// <summary>The 2-D forward transform of a row-major image into a spectrum stored transposed (inverse of <see cref="InverseFromTransposed"/> up to n²).</summary>
    internal void ForwardToTransposed(float[] re, float[] im)
    {
        ColumnTransform(re, im, -1f);
        Transpose(re);
        Transpose(im);
        ColumnTransform(re, im, -1f);
    }

    /// <summary>1-D transforms of every column of a row-major n × n grid: radix-2 butterflies on whole rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ColumnTransform(float[] re, float[] im, float sign)
    {
        int n = _n;
        for (int i = 0; i < n; i++)
        {
            int j = _bitReverse[i];
            if (j <= i) continue;
            SwapRows(re, i * n, j * n, n);
            SwapRows(im, i * n, j * n, n);
        }
        for (int size = 2; size <= n; size <<= 1)
        {
            int half = size >> 1;
            int step = n / size;
            for (int start = 0; start < n; start += size)
                for (int k = 0; k < half; k++)
                    Butterfly(re, im, (start + k) * n, (start + k + half) * n, n, _cos[k * step], sign * _sin[k * step]);
        }
    }

    private static void SwapRows(float[] a, int x, int y, int n)
    {
        Span<float> tmp = stackalloc float[n <= 1024 ? n : 0];
        if (tmp.Length == 0) { for (int c = 0; c < n; c++) (a[x + c], a[y + c]) = (a[y + c], a[x + c]); return; }
        a.AsSpan(x, n).CopyTo(tmp);
        a.AsSpan(y, n).CopyTo(a.AsSpan(x, n));
        tmp.CopyTo(a.AsSpan(y, n));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Butterfly(float[] re, float[] im, int a, int b, int n, float wr, float wi)
    {
        var ra = re.AsSpan(a, n);
        var ia = im.AsSpan(a, n);
        var rb = re.AsSpan(b, n);
        var ib = im.AsSpan(b, n);
        int c = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int width = System.Numerics.Vector<float>.Count;
            var vwr = new System.Numerics.Vector<float>(wr);
            var vwi = new System.Numerics.Vector<float>(wi);
            for (; c <= n - width; c += width)
            {
                var xr = new System.Numerics.Vector<float>(rb.Slice(c, width));
                var xi = new System.Numerics.Vector<float>(ib.Slice(c, width));
                var tr = xr * vwr - xi * vwi;
                var ti = xr * vwi + xi * vwr;
                var ar = new System.Numerics.Vector<float>(ra.Slice(c, width));
                var ai = new System.Numerics.Vector<float>(ia.Slice(c, width));
                (ar - tr).CopyTo(rb.Slice(c, width));
                (ai - ti).CopyTo(ib.Slice(c, width));
                (ar + tr).CopyTo(ra.Slice(c, width));
                (ai + ti).CopyTo(ia.Slice(c, width));
            }
        }
        for (; c < n; c++)
        {
            float tr = rb[c] * wr - ib[c] * wi;
            float ti = rb[c] * wi + ib[c] * wr;
            rb[c] = ra[c] - tr;
            ib[c] = ia[c] - ti;
            ra[c] += tr;
            ia[c] += ti;
        }
    }

    /// <summary>In-place transpose of a row-major n × n grid, in 32 × 32 blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Transpose(float[] a)
    {
        int n = _n;
        const int B = 32;
        for (int bi = 0; bi < n; bi += B)
            for (int bj = bi; bj < n; bj += B)
            {
                int iEnd = Math.Min(bi + B, n), jEnd = Math.Min(bj + B, n);
                for (int i = bi; i < iEnd; i++)
                    for (int j = bi == bj ? i + 1 : bj; j < jEnd; j++)
                        (a[i * n + j], a[j * n + i]) = (a[j * n + i], a[i * n + j]);
            }
    }
}
