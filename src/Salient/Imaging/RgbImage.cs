namespace Salient.Imaging;

/// <summary>
/// An upright RGB image held as floats: <see cref="Data"/> is height × width × 3 (HWC, R then G then B),
/// each value on the 8-bit scale [0, 255]. Sources with 16 bits per sample are scaled to the same range
/// and keep their fractional part, so no precision is lost to an 8-bit round trip.
/// </summary>
public sealed class RgbImage
{
    /// <summary>Wraps <paramref name="data"/> (not copied); its length must be width × height × 3.</summary>
    public RgbImage(int width, int height, float[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "width must be positive");
        if (height <= 0) throw new ArgumentOutOfRangeException(nameof(height), height, "height must be positive");
        long expected = (long)width * height * 3;
        if (data.LongLength != expected)
            throw new ArgumentException(
                $"pixel data has {data.LongLength} values but a {width}x{height} RGB image needs {expected}", nameof(data));
        Width = width;
        Height = height;
        Data = data;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>HWC, RGB order, values in [0, 255].</summary>
    public float[] Data { get; }

    /// <summary>Number of pixels (width × height).</summary>
    public long PixelCount => (long)Width * Height;

    /// <summary>Builds an image from interleaved 8-bit RGB bytes (length width × height × 3).</summary>
    public static RgbImage FromBytes(int w, int h, byte[] rgb)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        if (w <= 0) throw new ArgumentOutOfRangeException(nameof(w), w, "width must be positive");
        if (h <= 0) throw new ArgumentOutOfRangeException(nameof(h), h, "height must be positive");
        long expected = (long)w * h * 3;
        if (rgb.LongLength != expected)
            throw new ArgumentException($"byte data has {rgb.LongLength} values but a {w}x{h} RGB image needs {expected}", nameof(rgb));
        var data = new float[expected];
        for (long i = 0; i < expected; i++) data[i] = rgb[i];
        return new RgbImage(w, h, data);
    }

    /// <summary>The (R, G, B) values of pixel (x, y).</summary>
    public (float R, float G, float B) GetPixel(int x, int y)
    {
        if ((uint)x >= (uint)Width) throw new ArgumentOutOfRangeException(nameof(x));
        if ((uint)y >= (uint)Height) throw new ArgumentOutOfRangeException(nameof(y));
        long i = ((long)y * Width + x) * 3;
        return (Data[i], Data[i + 1], Data[i + 2]);
    }

    /// <summary>Interleaved RGB bytes, each value rounded to nearest and clamped to [0, 255].</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Data.LongLength];
        for (long i = 0; i < bytes.LongLength; i++) bytes[i] = ToByte(Data[i]);
        return bytes;
    }

    /// <summary>A deep copy.</summary>
    public RgbImage Clone() => new(Width, Height, (float[])Data.Clone());

    internal static byte ToByte(float v)
    {
        if (!(v > 0f)) return 0; // also maps NaN to 0
        if (v >= 255f) return 255;
        return (byte)(v + 0.5f);
    }
}
