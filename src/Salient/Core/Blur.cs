using System.Runtime.CompilerServices;

namespace Salient.Core;

/// <summary>How a filter reads past the edge of a plane.</summary>
internal enum BorderMode
{
    /// <summary>… c b a | a b c … (scipy's "reflect"): a constant image stays constant.</summary>
    Mirror,
    /// <summary>The edge value repeats.</summary>
    Clamp,
}

/// <summary>The separable Gaussian blur (one implementation for baselines, DeepVis and maps).</summary>
internal static class Blur
{
    /// <summary>The normalized 1-D Gaussian kernel of standard deviation <paramref name="sigma"/> pixels, radius ⌈3σ⌉ (at least 1); [1] for σ ≤ 0.</summary>
    public static float[] GaussianKernel(float sigma)
    {
        if (!(sigma > 0)) return [1f];
        int radius = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var k = new float[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++) sum += Math.Exp(-i * i / (2.0 * sigma * sigma));
        for (int i = -radius; i <= radius; i++) k[i + radius] = (float)(Math.Exp(-i * i / (2.0 * sigma * sigma)) / sum);
        return k;
    }

    /// <summary>Blurs every h × w plane of <paramref name="planes"/> in place (rows, then columns).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gaussian(Span<float> planes, int h, int w, float sigma, BorderMode border = BorderMode.Mirror)
    {
        if (!(sigma > 0)) return;
        var kernel = GaussianKernel(sigma);
        int r = kernel.Length / 2;
        int plane = h * w;
        if (plane == 0 || planes.Length % plane != 0) throw new ArgumentException($"{planes.Length} values are not whole {h}×{w} planes");
        var line = new float[Math.Max(h, w) + 2 * r];
        for (int p = 0; p < planes.Length / plane; p++)
        {
            var img = planes.Slice(p * plane, plane);
            for (int y = 0; y < h; y++)
            {
                var row = img.Slice(y * w, w);
                for (int i = -r; i < w + r; i++) line[i + r] = row[Edge(i, w, border)];
                for (int x = 0; x < w; x++)
                {
                    float s = 0;
                    for (int k = 0; k < kernel.Length; k++) s += kernel[k] * line[x + k];
                    row[x] = s;
                }
            }
            for (int x = 0; x < w; x++)
            {
                for (int i = -r; i < h + r; i++) line[i + r] = img[Edge(i, h, border) * w + x];
                for (int y = 0; y < h; y++)
                {
                    float s = 0;
                    for (int k = 0; k < kernel.Length; k++) s += kernel[k] * line[y + k];
                    img[y * w + x] = s;
                }
            }
        }
    }

    private static int Edge(int i, int n, BorderMode border)
    {
        if (border == BorderMode.Clamp) return Math.Clamp(i, 0, n - 1);
        if (n == 1) return 0;
        int period = 2 * n;
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - 1 - i;
    }
}
