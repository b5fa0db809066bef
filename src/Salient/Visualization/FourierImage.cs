using System.Runtime.CompilerServices;
namespace Salient.Visualization;

/// <summary>
/// The decorrelated Fourier image parameterization of Olah et al. 2017 ("Feature Visualization",
/// Distill): per image, three planes of complex Fourier coefficients on a P × P grid (P the power of
/// two ≥ the image side), each coefficient scaled by 1/max(|f|, 1/P)^decay (|f| in cycles per pixel),
/// so every frequency starts with roughly the energy of natural images; the real part of the unitary
/// inverse DFT, times <see cref="Amplitude"/>, cropped to W × H, gives three decorrelated colour
/// planes; the colour-correlation square root <see cref="ColorCorrelation"/> maps them to RGB and a
/// sigmoid to pixels in [0, 255]. Gradients flow back through every step exactly (see
/// <see cref="Backward"/>). Two real planes share one complex FFT in both directions.
/// </summary>
internal sealed partial class FourierImage
{
    /// <summary>
    /// Square root of the colour correlation of ImageNet (the matrix published with Olah et al.'s
    /// Lucid library), rows = R, G, B; normalized by its largest column norm in the constructor.
    /// </summary>
    public static readonly float[,] ColorCorrelationSqrt =
    {
        { 0.26f, 0.09f, 0.02f },
        { 0.27f, 0.00f, -0.05f },
        { 0.27f, -0.09f, 0.03f },
    };

    private readonly Fft _fft;
    private readonly float[] _scale;      // P×P frequency scale s_k / √N
    private readonly int[] _negIndex;     // index of −k
    private readonly float[,] _m;         // RGB ← decorrelated
    private readonly float[,] _mInv;
    private readonly float[][] _bufRe;    // work buffers: job j transforms planes 2j and 2j + 1
    private readonly float[][] _bufIm;

    /// <summary>
    /// The parameters: for image b and decorrelated plane j (0–2), <c>Coefficients[2·(3b + j)]</c> holds
    /// the real and <c>Coefficients[2·(3b + j) + 1]</c> the imaginary parts of the P × P coefficients
    /// (stored transposed: element kx·P + ky, which saves transposes in the FFTs; the 1/f scale is symmetric).
    /// </summary>
    public float[][] Coefficients { get; }
    public int Width { get; }
    public int Height { get; }
    public int GridSize { get; }
    public int Count { get; }
    /// <summary>Factor applied to the inverse DFT before the colour transform.</summary>
    public float Amplitude { get; }
    public bool Decorrelate { get; }
    public float[,] ColorCorrelation => _m;

    public FourierImage(int count, int width, int height, float decayPower = 1f, float amplitude = 0.25f, bool decorrelate = true)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count));
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), "image size must be positive");
        Count = count;
        Width = width;
        Height = height;
        Amplitude = amplitude;
        Decorrelate = decorrelate;
        int p = Fft.NextPowerOfTwo(Math.Max(width, height));
        GridSize = p;
        _fft = new Fft(p);
        int n = p * p;
        _scale = new float[n];
        _negIndex = new int[n];
        for (int ky = 0; ky < p; ky++)
        {
            double fy = (ky <= p / 2 ? ky : ky - p) / (double)p;
            for (int kx = 0; kx < p; kx++)
            {
                double fx = (kx <= p / 2 ? kx : kx - p) / (double)p;
                double f = Math.Max(Math.Sqrt(fx * fx + fy * fy), 1.0 / p);
                _scale[ky * p + kx] = (float)(Math.Pow(f, -decayPower) / p); // s_k / √N, √N = P
                _negIndex[ky * p + kx] = ((p - ky) % p) * p + (p - kx) % p;
            }
        }
        _m = new float[3, 3];
        if (decorrelate)
        {
            double maxNorm = 0;
            for (int j = 0; j < 3; j++)
            {
                double s = 0;
                for (int c = 0; c < 3; c++) s += ColorCorrelationSqrt[c, j] * ColorCorrelationSqrt[c, j];
                maxNorm = Math.Max(maxNorm, Math.Sqrt(s));
            }
            for (int c = 0; c < 3; c++) for (int j = 0; j < 3; j++) _m[c, j] = (float)(ColorCorrelationSqrt[c, j] / maxNorm);
        }
        else for (int c = 0; c < 3; c++) _m[c, c] = 1f;
        _mInv = Invert3(_m);
        Coefficients = new float[6 * count][];
        for (int i = 0; i < Coefficients.Length; i++) Coefficients[i] = new float[n];
        int jobs = Jobs;
        _bufRe = new float[jobs][];
        _bufIm = new float[jobs][];
        for (int j = 0; j < jobs; j++) { _bufRe[j] = new float[n]; _bufIm[j] = new float[n]; }
    }

    private int Jobs => (3 * Count + 1) / 2;
    private int GridPlane => GridSize * GridSize;

    /// <summary>Fills the coefficients of image <paramref name="index"/> with N(0, sd²) noise from a seeded generator.</summary>
    public void InitializeRandom(int index, int seed, float sd = 0.01f)
    {
        var rng = new Random(seed);
        for (int a = 6 * index; a < 6 * index + 6; a++)
        {
            var c = Coefficients[a];
            for (int i = 0; i < c.Length; i++) c[i] = sd * Noise.Gaussian(rng);
        }
    }


    /// <summary>
    /// Sets image <paramref name="index"/>'s coefficients so that <see cref="Render"/> returns
    /// <paramref name="pixelsChw"/> (3 × H × W, values in [0, 255]; clamped to [0.5, 254.5] so the
    /// inverse sigmoid is finite). Outside the W × H window the periodic grid is filled by mirroring.
    /// </summary>
    public void SetImage(int index, ReadOnlySpan<float> pixelsChw)
    {
        int w = Width, h = Height, p = GridSize, plane = w * h;
        if (pixelsChw.Length != 3 * plane) throw new ArgumentException($"expected 3×{h}×{w} pixels");
        var pre = new float[3 * plane];
        for (int i = 0; i < 3 * plane; i++)
        {
            float v = Math.Clamp(pixelsChw[i], 0.5f, 254.5f) / 255f;
            pre[i] = MathF.Log(v / (1 - v));
        }
        for (int j = 0; j < 3; j++)
        {
            var re = new float[p * p];
            var im = new float[p * p];
            for (int y = 0; y < p; y++)
            {
                int sy = y < h ? y : MirrorFill(y, h, p);
                for (int x = 0; x < p; x++)
                {
                    int sx = x < w ? x : MirrorFill(x, w, p);
                    int o = sy * w + sx;
                    float d = 0;
                    for (int c = 0; c < 3; c++) d += _mInv[j, c] * pre[c * plane + o];
                    re[y * p + x] = d / Amplitude;
                }
            }
            _fft.ForwardToTransposed(re, im); // unnormalized DFT (spectra are stored transposed); the unitary one is ÷P
            var cre = Coefficients[2 * (3 * index + j)];
            var cim = Coefficients[2 * (3 * index + j) + 1];
            for (int k = 0; k < p * p; k++)
            {
                float s = _scale[k] * p; // s_k
                cre[k] = re[k] / p / s;
                cim[k] = im[k] / p / s;
            }
        }
    }

    // Positions n..p−1 of a periodic extension: mirror back into [0, n) so both seams are smooth.
    private static int MirrorFill(int i, int n, int p)
    {
        int beyond = i - n;
        int gap = p - n;
        int source = beyond < gap / 2 ? n - 1 - beyond : p - 1 - i;
        return Math.Clamp(source, 0, n - 1);
    }

    /// <summary>The pixels (3 × H × W in [0, 255], RGB) of every image.</summary>
    public float[][] Render()
    {
        Synthesize();
        int plane = Width * Height;
        var result = new float[Count][];
        for (int b = 0; b < Count; b++) result[b] = new float[3 * plane];
        Parallel.For(0, 3 * Count, q => RenderPlane(q / 3, q % 3, result[q / 3].AsSpan(q % 3 * plane, plane)));
        return result;
    }

    /// <summary>Colour channel c of image b: sigmoid(Amplitude · Σ_j M[c,j]·plane_j) · 255.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RenderPlane(int b, int c, Span<float> dst)
    {
        int p = GridSize;
        var y0 = Buffer(3 * b);
        var y1 = Buffer(3 * b + 1);
        var y2 = Buffer(3 * b + 2);
        float m0 = Amplitude * _m[c, 0], m1 = Amplitude * _m[c, 1], m2 = Amplitude * _m[c, 2];
        for (int y = 0; y < Height; y++)
        {
            int g = y * p, o = y * Width;
            for (int x = 0; x < Width; x++)
            {
                float v = m0 * y0[g + x] + m1 * y1[g + x] + m2 * y2[g + x];
                dst[o + x] = 255f / (1f + MathF.Exp(-v));
            }
        }
    }

    /// <summary>The decorrelated planes (3 × H × W) of every image: Amplitude · Re(unitary IDFT(s ⊙ c)), cropped.</summary>
    public float[][] SpatialPlanes()
    {
        Synthesize();
        int plane = Width * Height, p = GridSize;
        var result = new float[Count][];
        for (int b = 0; b < Count; b++)
        {
            var d = new float[3 * plane];
            for (int j = 0; j < 3; j++)
            {
                var grid = Buffer(3 * b + j);
                for (int y = 0; y < Height; y++)
                    for (int x = 0; x < Width; x++) d[j * plane + y * Width + x] = Amplitude * grid[y * p + x];
            }
            result[b] = d;
        }
        return result;
    }

    // The P × P result of plane q (= 3·image + channel) after Synthesize.
    private float[] Buffer(int q) => q % 2 == 0 ? _bufRe[q / 2] : _bufIm[q / 2];

    /// <summary>Re(unitary IDFT(s ⊙ c)) of every plane into the work buffers: z = Herm(s⊙c₁) + i·Herm(s⊙c₂), one complex IDFT per pair.</summary>
    private void Synthesize()
    {
        Parallel.For(0, Jobs, SynthesizeJob);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SynthesizeJob(int job)
    {
        int n = GridPlane, planes = 3 * Count;
        int q1 = 2 * job, q2 = 2 * job + 1;
        bool pair = q2 < planes;
        var zr = _bufRe[job];
        var zi = _bufIm[job];
        var ar = Coefficients[2 * q1];
        var ai = Coefficients[2 * q1 + 1];
        var br = pair ? Coefficients[2 * q2] : ar;
        var bi = pair ? Coefficients[2 * q2 + 1] : ai;
        for (int k = 0; k < n; k++)
        {
            int nk = _negIndex[k];
            float s = 0.5f * _scale[k]; // symmetric: s[k] = s[−k]
            float hr = s * (ar[k] + ar[nk]), hi = s * (ai[k] - ai[nk]);
            if (pair)
            {
                float gr = s * (br[k] + br[nk]), gi = s * (bi[k] - bi[nk]);
                zr[k] = hr - gi; // (hr + i·hi) + i·(gr + i·gi)
                zi[k] = hi + gr;
            }
            else { zr[k] = hr; zi[k] = hi; }
        }
        _fft.InverseFromTransposed(zr, zi);
    }
}
