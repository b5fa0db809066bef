using System.Runtime.CompilerServices;

namespace Salient.Visualization;

/// <summary>The adjoint of <see cref="FourierImage.Render"/>: pixel gradients back to the Fourier coefficients.</summary>
internal sealed partial class FourierImage
{
    /// <summary>
    /// Gradients of a scalar with respect to the coefficients (laid out like <see cref="Coefficients"/>),
    /// given its gradient with respect to the pixels (3 × H × W per image) and the pixels <see cref="Render"/> returned.
    /// </summary>
    public float[][] Backward(float[][] pixelGradients, float[][] pixels)
    {
        int n = GridPlane;
        // Through the sigmoid and the colour matrix to the decorrelated planes, written into the work
        // buffers (zero outside the W × H window): plane q goes to the real part of job q/2 if q is even, else the imaginary part.
        Parallel.For(0, Jobs, job =>
        {
            Array.Clear(_bufRe[job]);
            Array.Clear(_bufIm[job]);
        });
        const int bands = 4;
        Parallel.For(0, Count * bands, t => BackwardRows(t / bands, pixelGradients[t / bands], pixels[t / bands], t % bands * Height / bands, (t % bands + 1) * Height / bands));
        var result = new float[Coefficients.Length][];
        for (int i = 0; i < result.Length; i++) result[i] = new float[n];
        Parallel.For(0, Jobs, job => BackwardJob(job, result));
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardRows(int b, float[] g, float[] px, int rowStart, int rowEnd)
    {
        int p = GridSize, w = Width, plane = w * Height;
        var d0 = Buffer(3 * b);
        var d1 = Buffer(3 * b + 1);
        var d2 = Buffer(3 * b + 2);
        for (int y = rowStart; y < rowEnd; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x;
                float g0 = 0, g1 = 0, g2 = 0;
                for (int c = 0; c < 3; c++)
                {
                    float s = px[c * plane + i] * (1f / 255f);
                    float pre = g[c * plane + i] * 255f * s * (1 - s) * Amplitude;
                    g0 += _m[c, 0] * pre;
                    g1 += _m[c, 1] * pre;
                    g2 += _m[c, 2] * pre;
                }
                int o = y * p + x;
                d0[o] = g0;
                d1[o] = g1;
                d2[o] = g2;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardJob(int job, float[][] result)
    {
        int n = GridPlane, planes = 3 * Count;
        int q1 = 2 * job, q2 = 2 * job + 1;
        bool pair = q2 < planes;
        var zr = _bufRe[job];
        var zi = _bufIm[job];
        _fft.ForwardToTransposed(zr, zi);
        // Z = G₁ + i·G₂ with G₁, G₂ the (Hermitian) DFTs of the two real planes:
        // G₁[k] = (Z[k] + conj Z[−k]) / 2, G₂[k] = (Z[k] − conj Z[−k]) / (2i); ∂/∂(re, im) of c_k = s_k/√N · (Re, Im) G_k.
        var r1 = result[2 * q1];
        var i1 = result[2 * q1 + 1];
        var r2 = pair ? result[2 * q2] : r1;
        var i2 = pair ? result[2 * q2 + 1] : i1;
        for (int k = 0; k < n; k++)
        {
            int nk = _negIndex[k];
            float s = 0.5f * _scale[k];
            float ar = zr[k], ai = zi[k], br = zr[nk], bi = -zi[nk]; // b = conj Z[−k]
            r1[k] = s * (ar + br);
            i1[k] = s * (ai + bi);
            if (pair)
            {
                r2[k] = s * (ai - bi);
                i2[k] = -s * (ar - br);
            }
        }
    }

    private static float[,] Invert3(float[,] m)
    {
        double a = m[0, 0], b = m[0, 1], c = m[0, 2], d = m[1, 0], e = m[1, 1], f = m[1, 2], g = m[2, 0], h = m[2, 1], i = m[2, 2];
        double det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
        if (Math.Abs(det) < 1e-12) throw new InvalidOperationException("singular colour matrix");
        var r = new float[3, 3];
        r[0, 0] = (float)((e * i - f * h) / det); r[0, 1] = (float)((c * h - b * i) / det); r[0, 2] = (float)((b * f - c * e) / det);
        r[1, 0] = (float)((f * g - d * i) / det); r[1, 1] = (float)((a * i - c * g) / det); r[1, 2] = (float)((c * d - a * f) / det);
        r[2, 0] = (float)((d * h - e * g) / det); r[2, 1] = (float)((b * g - a * h) / det); r[2, 2] = (float)((a * e - b * d) / det);
        return r;
    }
}
