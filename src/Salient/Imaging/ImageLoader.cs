using System.Globalization;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace Salient.Imaging;

/// <summary>Limits applied while loading images.</summary>
internal sealed class ImageLoadOptions
{
    /// <summary>
    /// Largest accepted width × height, checked against the file header before any pixel memory is
    /// allocated (decompression-bomb guard). Default 100 megapixels.
    /// </summary>
    public long MaxPixels { get; set; } = 100_000_000;
}

/// <summary>
/// Decodes PNG, JPEG, BMP, WebP and GIF (first frame) into an upright <see cref="RgbImage"/>:
/// EXIF orientation applied, alpha dropped without compositing (like PIL's <c>convert('RGB')</c>),
/// colors straight (unpremultiplied) and not color-managed (the file's values as stored, like PIL).
/// 16-bit PNGs keep their full precision (values scaled to [0, 255] with fractions).
/// All failures are <see cref="SalientException"/>s with a one-line message.
/// </summary>
internal static class ImageLoader
{
    private const string Formats = "PNG, JPEG, BMP, WebP or GIF";

    /// <summary>Reads and decodes an image file.</summary>
    public static RgbImage Load(string path, ImageLoadOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new SalientException("no image file given");
        // A regular file only (a device, FIFO or folder is refused before opening), never more bytes than its size.
        byte[] bytes = SafeFiles.ReadRegularFile(path, "image file");
        return Decode(bytes, path, options);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="nameForMessages"/> names it in errors.</summary>
    public static RgbImage Decode(byte[] bytes, string nameForMessages, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        string name = string.IsNullOrEmpty(nameForMessages) ? "<image>" : nameForMessages;
        long maxPixels = options?.MaxPixels ?? new ImageLoadOptions().MaxPixels;
        if (maxPixels <= 0)
            throw new SalientException($"the pixel limit must be positive (got {maxPixels}); check the `max-pixels` option");

        var sniffed = Sniff(bytes);
        PngHeader ihdr = default;
        bool pngHeader = sniffed == Sniffed.Png && PngHeader.TryRead(bytes, out ihdr);
        if (pngHeader)
            CheckSize(name, ihdr.Width, ihdr.Height, maxPixels); // before Skia reads any further

        try
        {
            using var stream = new SKMemoryStream(bytes);
            using var codec = SKCodec.Create(stream, out var createResult);
            if (codec is null)
            {
                if (sniffed == Sniffed.Unknown)
                    throw new SalientException($"'{name}' is not a readable image ({Formats})");
                throw new SalientException($"image '{name}' is truncated or corrupt");
            }
            int w = codec.Info.Width, h = codec.Info.Height;
            if (w <= 0 || h <= 0)
                throw new SalientException($"image '{name}' is truncated or corrupt");
            CheckSize(name, w, h, maxPixels);
            // Skia decodes a truncated progressive JPEG without complaint (it fills the missing
            // scans with what it has), so check for the end-of-image marker ourselves.
            if (sniffed == Sniffed.Jpeg && !JpegHasEndMarker(bytes))
                throw new SalientException($"image '{name}' is truncated or corrupt");
            var origin = codec.EncodedOrigin;

            if (pngHeader && ihdr.BitDepth == 16 && ihdr.Width == w && ihdr.Height == h)
            {
                try
                {
                    return Png16Decoder.Decode(bytes, origin);
                }
                catch (InvalidDataException)
                {
                    throw new SalientException($"image '{name}' is truncated or corrupt");
                }
            }
            return DecodeWithSkia(codec, name, origin);
        }
        catch (SalientException) { throw; }
        catch (OutOfMemoryException e)
        {
            throw new SalientException($"not enough memory to decode image '{name}'; lower the `max-pixels` option or use a smaller image", e);
        }
        catch (Exception e)
        {
            throw new SalientException($"image '{name}' could not be decoded: {OneLine(e.Message)}", e);
        }
    }

    /// <summary>
    /// True when an EOI marker (FF D9) follows the last start-of-scan (FF DA). Entropy-coded data
    /// never contains FF D9 (0xFF bytes are stuffed with 00 or are RSTn markers), so a file cut
    /// anywhere after its first scan has no EOI after its last SOS.
    /// </summary>
    internal static bool JpegHasEndMarker(byte[] b)
    {
        int lastSos = -1;
        for (int i = 0; i + 1 < b.Length; i++)
            if (b[i] == 0xFF && b[i + 1] == 0xDA) lastSos = i;
        if (lastSos < 0) return false;
        for (int i = b.Length - 2; i > lastSos; i--)
            if (b[i] == 0xFF && b[i + 1] == 0xD9) return true;
        return false;
    }

    private static unsafe RgbImage DecodeWithSkia(SKCodec codec, string name, SKEncodedOrigin origin)
    {
        int w = codec.Info.Width, h = codec.Info.Height;
        // No color space: Skia then applies no color management, like PIL. Unpremul keeps colors straight.
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        long rowBytes = (long)w * 4;
        long total = rowBytes * h;
        if (rowBytes > int.MaxValue) throw new SalientException($"image '{name}' is too wide ({w} pixels)");
        var data = AllocatePixels(name, w, h);
        byte* buffer = (byte*)NativeMemory.AllocZeroed((nuint)total);
        try
        {
            var result = codec.GetPixels(info, (IntPtr)buffer, (int)rowBytes, SKCodecOptions.Default);
            switch (result)
            {
                case SKCodecResult.Success:
                    break;
                case SKCodecResult.IncompleteInput:
                case SKCodecResult.ErrorInInput:
                    throw new SalientException($"image '{name}' is truncated or corrupt");
                default:
                    throw new SalientException($"image '{name}' could not be decoded ({result})");
            }
            var map = Orientation.For(origin, w, h);
            for (int y = 0; y < h; y++)
            {
                byte* row = buffer + y * rowBytes;
                for (int x = 0; x < w; x++)
                {
                    long d = map.Index(x, y) * 3;
                    data[d] = row[4 * x];
                    data[d + 1] = row[4 * x + 1];
                    data[d + 2] = row[4 * x + 2];
                }
            }
            return new RgbImage(map.Width, map.Height, data);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    internal static float[] AllocatePixels(string name, int w, int h)
    {
        long n = (long)w * h * 3;
        if (n > Array.MaxLength)
            throw new SalientException($"image '{name}' is {w}×{h}, too large to hold in memory");
        return new float[n];
    }

    private static void CheckSize(string name, long w, long h, long maxPixels)
    {
        long pixels = w * h;
        if (pixels <= maxPixels) return;
        string mp = (pixels / 1e6).ToString(pixels >= 100_000 ? "0.0" : "0.######", CultureInfo.InvariantCulture);
        string limit = (maxPixels / 1e6).ToString("0.######", CultureInfo.InvariantCulture);
        throw new SalientException(
            $"image '{name}' is {w}×{h} = {mp} megapixels, over the {limit}-megapixel limit (decompression-bomb guard); raise it with the `max-pixels` option");
    }

    private enum Sniffed { Unknown, Png, Jpeg, Gif, Bmp, Webp }

    private static Sniffed Sniff(ReadOnlySpan<byte> b)
    {
        if (b.Length >= 8 && b[..8].SequenceEqual(PngHeader.Signature)) return Sniffed.Png;
        if (b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return Sniffed.Jpeg;
        if (b.Length >= 6 && (b[..6].SequenceEqual("GIF87a"u8) || b[..6].SequenceEqual("GIF89a"u8))) return Sniffed.Gif;
        if (b.Length >= 2 && b[0] == (byte)'B' && b[1] == (byte)'M') return Sniffed.Bmp;
        if (b.Length >= 12 && b[..4].SequenceEqual("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8)) return Sniffed.Webp;
        return Sniffed.Unknown;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}

/// <summary>Maps stored pixel (x, y) to its index in the upright image, for one EXIF orientation.</summary>
internal readonly struct Orientation
{
    private readonly long _origin, _stepX, _stepY;

    private Orientation(int width, int height, long origin, long stepX, long stepY)
    {
        Width = width;
        Height = height;
        _origin = origin;
        _stepX = stepX;
        _stepY = stepY;
    }

    /// <summary>Size of the upright image.</summary>
    public int Width { get; }
    public int Height { get; }

    /// <summary>Pixel index (y·Width + x) in the upright image of stored pixel (x, y).</summary>
    public long Index(int x, int y) => _origin + x * _stepX + y * _stepY;

    /// <summary>For a stored w × h image with the given EXIF origin (the 8 TIFF orientations).</summary>
    public static Orientation For(SKEncodedOrigin origin, int w, int h)
    {
        long W = w, H = h;
        return origin switch
        {
            // 2: mirrored left-right
            SKEncodedOrigin.TopRight => new(w, h, W - 1, -1, W),
            // 3: rotated 180°
            SKEncodedOrigin.BottomRight => new(w, h, (H - 1) * W + W - 1, -1, -W),
            // 4: mirrored top-bottom
            SKEncodedOrigin.BottomLeft => new(w, h, (H - 1) * W, 1, -W),
            // 5: transposed: stored row y becomes column y
            SKEncodedOrigin.LeftTop => new(h, w, 0, H, 1),
            // 6: needs a 90° clockwise turn: stored row 0 becomes the right column
            SKEncodedOrigin.RightTop => new(h, w, H - 1, H, -1),
            // 7: transverse: stored row 0 becomes the right column, stored column 0 the bottom row
            SKEncodedOrigin.RightBottom => new(h, w, (W - 1) * H + H - 1, -H, -1),
            // 8: needs a 90° counter-clockwise turn: stored row 0 becomes the left column
            SKEncodedOrigin.LeftBottom => new(h, w, (W - 1) * H, -H, 1),
            // 1 and anything unknown: as stored
            _ => new(w, h, 0, 1, W),
        };
    }
}
