namespace Salient.Imaging;

/// <summary>
/// Separable resampling with an antialiasing triangle (bilinear) filter, computed on floats.
/// Output pixel i along an axis has its center at input coordinate (i + 0.5) · in/out (pixel centers
/// aligned). When shrinking, the triangle is stretched by the shrink factor so every input pixel
/// contributes (antialiasing); when enlarging it is the plain tent of half-width one pixel. Weights that
/// would fall outside the image are dropped and the rest renormalized. This is the scheme of PIL's
/// <c>Image.resize(..., BILINEAR)</c> and torchvision's <c>antialias=True</c>; unlike PIL on 8-bit
/// images, nothing is rounded between the two passes.
/// </summary>
internal static class Resampler
{
    /// <summary>Resizes the whole image to width × height.</summary>
    public static RgbImage Resize(RgbImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        return ResizeRegion(image, width, height, 0, 0, width, height);
    }

    /// <summary>
    /// The pixels [x0, x0+cropWidth) × [y0, y0+cropHeight) of the image resized to fullWidth × fullHeight,
    /// computed without producing the rest of the resized image.
    /// </summary>
    public static RgbImage ResizeRegion(RgbImage image, int fullWidth, int fullHeight, int x0, int y0, int cropWidth, int cropHeight)
    {
        ArgumentNullException.ThrowIfNull(image);
        var data = Resample(image.Data, image.Width, image.Height, 3, fullWidth, fullHeight, x0, y0, cropWidth, cropHeight);
        return new RgbImage(cropWidth, cropHeight, data);
    }

    /// <summary>Resizes an interleaved float buffer with any number of channels (e.g. 1 for a heatmap).</summary>
    public static float[] Resize(float[] src, int width, int height, int channels, int newWidth, int newHeight) =>
        Resample(src, width, height, channels, newWidth, newHeight, 0, 0, newWidth, newHeight);

    internal static float[] Resample(float[] src, int w, int h, int ch, int fullW, int fullH, int x0, int y0, int cw, int chh)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (w <= 0 || h <= 0 || ch <= 0) throw new ArgumentOutOfRangeException(nameof(w), "source size must be positive");
        if ((long)w * h * ch != src.LongLength) throw new ArgumentException("source length does not match its size", nameof(src));
        if (fullW <= 0 || fullH <= 0) throw new ArgumentOutOfRangeException(nameof(fullW), "target size must be positive");
        if (cw <= 0 || chh <= 0 || x0 < 0 || y0 < 0 || (long)x0 + cw > fullW || (long)y0 + chh > fullH)
            throw new ArgumentOutOfRangeException(nameof(x0), "region must lie inside the resized image");

        // Horizontal pass first (over only the source rows the vertical pass needs), then vertical.
        var kx = fullW == w ? null : Kernel.Build(w, fullW, x0, cw);
        var ky = fullH == h ? null : Kernel.Build(h, fullH, y0, chh);

        int rowFirst = y0, rowEnd = y0 + chh;
        if (ky is not null)
        {
            rowFirst = int.MaxValue;
            rowEnd = 0;
            for (int i = 0; i < chh; i++)
            {
                rowFirst = Math.Min(rowFirst, ky.Start[i]);
                rowEnd = Math.Max(rowEnd, ky.Start[i] + ky.Count[i]);
            }
        }
        int rows = rowEnd - rowFirst;

        // tmp: rows [rowFirst, rowEnd) of the horizontally resampled image, cw wide.
        var tmp = new float[checked((long)rows * cw * ch)];
        int rowLen = cw * ch;
        void Horizontal(int r)
        {
            long srcRow = (long)(rowFirst + r) * w * ch;
            long dstRow = (long)r * rowLen;
            if (kx is null)
            {
                Array.Copy(src, srcRow + (long)x0 * ch, tmp, dstRow, rowLen);
                return;
            }
            for (int x = 0; x < cw; x++)
            {
                int start = kx.Start[x], count = kx.Count[x];
                int wOff = x * kx.Size;
                for (int c = 0; c < ch; c++)
                {
                    double acc = 0;
                    long p = srcRow + (long)start * ch + c;
                    for (int k = 0; k < count; k++, p += ch) acc += kx.Weights[wOff + k] * src[p];
                    tmp[dstRow + (long)x * ch + c] = (float)acc;
                }
            }
        }
        RunRows(rows, (long)cw * ch * (kx?.Size ?? 1), Horizontal);

        if (ky is null) return tmp; // rows are exactly [y0, y0 + chh)

        var dst = new float[checked((long)chh * rowLen)];
        void Vertical(int y)
        {
            int start = ky.Start[y] - rowFirst, count = ky.Count[y];
            int wOff = y * ky.Size;
            long dstRow = (long)y * rowLen;
            for (int i = 0; i < rowLen; i++)
            {
                double acc = 0;
                long p = (long)start * rowLen + i;
                for (int k = 0; k < count; k++, p += rowLen) acc += ky.Weights[wOff + k] * tmp[p];
                dst[dstRow + i] = (float)acc;
            }
        }
        RunRows(chh, (long)rowLen * ky.Size, Vertical);
        return dst;
    }

    private static void RunRows(int rows, long workPerRow, Action<int> body)
    {
        if ((long)rows * workPerRow < 2_000_000 || Environment.ProcessorCount < 2)
        {
            for (int r = 0; r < rows; r++) body(r);
            return;
        }
        Parallel.For(0, rows, body);
    }

    /// <summary>Per-output-pixel tap ranges and normalized triangle weights along one axis.</summary>
    internal sealed class Kernel
    {
        public required int[] Start { get; init; }
        public required int[] Count { get; init; }
        public required double[] Weights { get; init; }
        public required int Size { get; init; }

        /// <summary>Taps for output pixels [outStart, outStart+outCount) of an inSize → outSize resize.</summary>
        public static Kernel Build(int inSize, int outSize, int outStart, int outCount)
        {
            double scale = (double)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = filterScale; // the triangle reaches one (scaled) pixel each side
            int size = (int)Math.Ceiling(support) * 2 + 1;
            var start = new int[outCount];
            var count = new int[outCount];
            var weights = new double[(long)outCount * size];
            for (int j = 0; j < outCount; j++)
            {
                double center = (outStart + j + 0.5) * scale;
                // first/last input pixel whose center lies within the support (rounded like PIL)
                int lo = Math.Max((int)(center - support + 0.5), 0);
                int hi = Math.Min((int)(center + support + 0.5), inSize);
                int n = Math.Max(hi - lo, 0);
                if (n > size) n = size;
                double sum = 0;
                for (int k = 0; k < n; k++)
                {
                    double d = Math.Abs((lo + k + 0.5 - center) / filterScale);
                    double wgt = d < 1.0 ? 1.0 - d : 0.0;
                    weights[(long)j * size + k] = wgt;
                    sum += wgt;
                }
                if (sum > 0)
                    for (int k = 0; k < n; k++) weights[(long)j * size + k] /= sum;
                else
                {
                    // cannot happen for sane sizes; fall back to nearest pixel
                    lo = Math.Clamp((int)center, 0, inSize - 1);
                    n = 1;
                    weights[(long)j * size] = 1.0;
                }
                start[j] = lo;
                count[j] = n;
            }
            return new Kernel { Start = start, Count = count, Weights = weights, Size = size };
        }
    }
}
