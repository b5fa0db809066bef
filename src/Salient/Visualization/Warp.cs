using System.Runtime.CompilerServices;
namespace Salient.Visualization;

/// <summary>
/// An affine view of a source image resampled bilinearly onto an output grid, and its adjoint (the
/// gradient with respect to the source). Output pixel centre (u + ½, v + ½) maps to the source point
/// centre + R(θ)·((u + ½ − W_out/2)·sx, (v + ½ − H_out/2)·sy) + t; samples outside the source take
/// the fill value. Used for jitter / scale / rotation (transformation robustness) and for resizing
/// the image to a fixed model input.
/// </summary>
internal sealed class Warp
{
    // Source point (pixel-index units, pixel i centred at i) of output pixel (u, v): origin + u·du + v·dv.
    private readonly double _ox, _oy, _dux, _duy, _dvx, _dvy;

    public int SourceWidth { get; }
    public int SourceHeight { get; }
    public int OutputWidth { get; }
    public int OutputHeight { get; }
    /// <summary>True when the warp is the identity (same size, no transform): callers may skip it.</summary>
    public bool IsIdentity { get; }

    /// <summary>
    /// A view of <c>viewWidth × viewHeight</c> source pixels, rotated by <c>rotationDegrees</c>, centred at
    /// the source centre plus (shiftX, shiftY), resampled onto an outputWidth × outputHeight grid.
    /// </summary>
    public Warp(int sourceWidth, int sourceHeight, int outputWidth, int outputHeight,
        double viewWidth, double viewHeight, double rotationDegrees = 0, double shiftX = 0, double shiftY = 0)
    {
        SourceWidth = sourceWidth;
        SourceHeight = sourceHeight;
        OutputWidth = outputWidth;
        OutputHeight = outputHeight;
        IsIdentity = sourceWidth == outputWidth && sourceHeight == outputHeight && viewWidth == sourceWidth && viewHeight == sourceHeight
            && rotationDegrees == 0 && shiftX == 0 && shiftY == 0;
        double sx = viewWidth / outputWidth, sy = viewHeight / outputHeight;
        double th = rotationDegrees * Math.PI / 180;
        double cos = Math.Cos(th), sin = Math.Sin(th);
        double cx = sourceWidth / 2.0 + shiftX, cy = sourceHeight / 2.0 + shiftY;
        _dux = cos * sx; _duy = sin * sx;
        _dvx = -sin * sy; _dvy = cos * sy;
        // u = 0, v = 0 is the offset (½ − W_out/2, ½ − H_out/2) from the centre; −½ converts to pixel-index units.
        double du0 = 0.5 - outputWidth / 2.0, dv0 = 0.5 - outputHeight / 2.0;
        _ox = cx + du0 * _dux + dv0 * _dvx - 0.5;
        _oy = cy + du0 * _duy + dv0 * _dvy - 0.5;
    }

    /// <summary>A plain resize of the whole source onto the output grid (bilinear, no antialiasing).</summary>
    public static Warp Resize(int sourceWidth, int sourceHeight, int outputWidth, int outputHeight) =>
        new(sourceWidth, sourceHeight, outputWidth, outputHeight, sourceWidth, sourceHeight);

    /// <summary>Samples each of the planes (planar, source size) onto <paramref name="output"/> (planar, output size); planes run in parallel.</summary>
    public void Apply(float[] source, float[] output, int planes, float fill)
    {
        int sp = SourceWidth * SourceHeight, op = OutputWidth * OutputHeight;
        if (IsIdentity) { Array.Copy(source, output, planes * sp); return; }
        Parallel.For(0, planes, c => ApplyPlane(source.AsSpan(c * sp, sp), output.AsSpan(c * op, op), fill));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ApplyPlane(ReadOnlySpan<float> src, Span<float> output, float fill)
    {
        int sw = SourceWidth, sh = SourceHeight, ow = OutputWidth;
        float dux = (float)_dux, duy = (float)_duy;
        for (int v = 0; v < OutputHeight; v++)
        {
            // Row start in double (no drift across rows), then float increments along the row.
            float px = (float)(_ox + v * _dvx), py = (float)(_oy + v * _dvy);
            int row = v * ow;
            for (int u = 0; u < ow; u++, px += dux, py += duy)
            {
                int x0 = (int)(px + Bias) - Bias, y0 = (int)(py + Bias) - Bias; // floor for px > −Bias
                float fx = px - x0, fy = py - y0;
                if ((uint)x0 < (uint)(sw - 1) && (uint)y0 < (uint)(sh - 1))
                {
                    int i = y0 * sw + x0;
                    output[row + u] = (1 - fy) * ((1 - fx) * src[i] + fx * src[i + 1]) + fy * ((1 - fx) * src[i + sw] + fx * src[i + sw + 1]);
                    continue;
                }
                float s = 0;
                for (int k = 0; k < 4; k++)
                {
                    int xx = x0 + (k & 1), yy = y0 + (k >> 1);
                    float wgt = ((k & 1) == 1 ? fx : 1 - fx) * ((k >> 1) == 1 ? fy : 1 - fy);
                    s += wgt * (xx >= 0 && yy >= 0 && xx < sw && yy < sh ? src[yy * sw + xx] : fill);
                }
                output[row + u] = s;
            }
        }
    }

    // Added before truncating to int so that truncation is a floor for every coordinate a view can produce.
    private const int Bias = 1 << 20;

    /// <summary>The adjoint of <see cref="Apply"/>: adds Aᵀ·g to <paramref name="sourceGradient"/>; planes run in parallel.</summary>
    public void AddAdjoint(float[] outputGradient, float[] sourceGradient, int planes)
    {
        int sp = SourceWidth * SourceHeight, op = OutputWidth * OutputHeight;
        if (IsIdentity)
        {
            for (int i = 0; i < planes * sp; i++) sourceGradient[i] += outputGradient[i];
            return;
        }
        Parallel.For(0, planes, c => AdjointPlane(outputGradient.AsSpan(c * op, op), sourceGradient.AsSpan(c * sp, sp)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AdjointPlane(ReadOnlySpan<float> outputGradient, Span<float> dst)
    {
        int sw = SourceWidth, sh = SourceHeight, ow = OutputWidth;
        float dux = (float)_dux, duy = (float)_duy;
        for (int v = 0; v < OutputHeight; v++)
        {
            float px = (float)(_ox + v * _dvx), py = (float)(_oy + v * _dvy);
            int row = v * ow;
            for (int u = 0; u < ow; u++, px += dux, py += duy)
            {
                float g = outputGradient[row + u];
                if (g == 0) continue;
                int x0 = (int)(px + Bias) - Bias, y0 = (int)(py + Bias) - Bias;
                float fx = px - x0, fy = py - y0;
                if ((uint)x0 < (uint)(sw - 1) && (uint)y0 < (uint)(sh - 1))
                {
                    int i = y0 * sw + x0;
                    float a = (1 - fy) * g, b = fy * g;
                    dst[i] += (1 - fx) * a; dst[i + 1] += fx * a; dst[i + sw] += (1 - fx) * b; dst[i + sw + 1] += fx * b;
                    continue;
                }
                for (int k = 0; k < 4; k++)
                {
                    int xx = x0 + (k & 1), yy = y0 + (k >> 1);
                    if (xx < 0 || yy < 0 || xx >= sw || yy >= sh) continue;
                    float wgt = ((k & 1) == 1 ? fx : 1 - fx) * ((k >> 1) == 1 ? fy : 1 - fy);
                    dst[yy * sw + xx] += wgt * g;
                }
            }
        }
    }
}
