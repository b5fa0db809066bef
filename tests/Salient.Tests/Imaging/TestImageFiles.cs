using System.IO.Compression;
using SkiaSharp;

namespace Salient.Tests.Imaging;

/// <summary>Builds small image files byte by byte (independently of the code under test).</summary>
internal static class TestImageFiles
{
    // ---- CRC-32 (bitwise, no table) ----
    public static uint Crc(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (var b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        }
        return ~c;
    }

    private static void BE32(List<byte> o, uint v)
    {
        o.Add((byte)(v >> 24)); o.Add((byte)(v >> 16)); o.Add((byte)(v >> 8)); o.Add((byte)v);
    }

    public static void Chunk(List<byte> png, string type, byte[] data)
    {
        BE32(png, (uint)data.Length);
        var td = new List<byte>();
        foreach (var ch in type) td.Add((byte)ch);
        td.AddRange(data);
        png.AddRange(td);
        BE32(png, Crc(td.ToArray()));
    }

    public static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static byte[] Ihdr(int w, int h, int depth, int colorType, int interlace = 0)
    {
        var d = new List<byte>();
        BE32(d, (uint)w); BE32(d, (uint)h);
        d.Add((byte)depth); d.Add((byte)colorType); d.Add(0); d.Add(0); d.Add((byte)interlace);
        return d.ToArray();
    }

    /// <summary>Signature + IHDR + IEND only (what a decompression bomb's header looks like).</summary>
    public static byte[] PngHeaderOnly(int w, int h)
    {
        var png = new List<byte>(PngSignature);
        Chunk(png, "IHDR", Ihdr(w, h, 8, 2));
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>
    /// A PNG from samples[y][x][channel] (0-255 for depth 8, 0-65535 for depth 16; for color type 3 one
    /// palette index per pixel). Rows use filter types 0..4 in turn so every filter gets exercised.
    /// </summary>
    public static byte[] Png(int w, int h, int depth, int colorType, int[,,] samples, bool interlace = false,
        byte[]? palette = null, byte[]? trns = null)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => throw new ArgumentException() };
        int bpp = channels * depth / 8;
        var raw = new MemoryStream();
        int filterCounter = 0;
        var passes = interlace
            ? new[] { (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2) }
            : new[] { (0, 0, 1, 1) };
        foreach (var (x0, y0, dx, dy) in passes)
        {
            var xs = Enumerable.Range(0, w).Where(x => x >= x0 && (x - x0) % dx == 0).ToArray();
            var ys = Enumerable.Range(0, h).Where(y => y >= y0 && (y - y0) % dy == 0).ToArray();
            if (xs.Length == 0 || ys.Length == 0) continue;
            byte[] prev = new byte[xs.Length * bpp];
            foreach (var y in ys)
            {
                var row = new List<byte>();
                foreach (var x in xs)
                    for (int c = 0; c < channels; c++)
                    {
                        int v = samples[y, x, c];
                        if (depth == 16) { row.Add((byte)(v >> 8)); row.Add((byte)v); }
                        else row.Add((byte)v);
                    }
                var cur = row.ToArray();
                int filter = filterCounter++ % 5;
                raw.WriteByte((byte)filter);
                for (int i = 0; i < cur.Length; i++)
                {
                    int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                    int pred = filter switch
                    {
                        0 => 0,
                        1 => a,
                        2 => b,
                        3 => (a + b) / 2,
                        _ => PaethPredictor(a, b, c),
                    };
                    raw.WriteByte((byte)(cur[i] - pred));
                }
                prev = cur;
            }
        }
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw.ToArray());

        var png = new List<byte>(PngSignature);
        Chunk(png, "IHDR", Ihdr(w, h, depth, colorType, interlace ? 1 : 0));
        if (palette is not null) Chunk(png, "PLTE", palette);
        if (trns is not null) Chunk(png, "tRNS", trns);
        var zdata = z.ToArray();
        // split the image data over two IDAT chunks
        int half = zdata.Length / 2;
        Chunk(png, "IDAT", zdata[..half]);
        Chunk(png, "IDAT", zdata[half..]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static int PaethPredictor(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>24-bit bottom-up BMP (BITMAPINFOHEADER, no compression) from rgb[y, x, c].</summary>
    public static byte[] Bmp(int w, int h, int[,,] rgb)
    {
        int stride = (w * 3 + 3) / 4 * 4;
        int size = 54 + stride * h;
        var b = new byte[size];
        b[0] = (byte)'B'; b[1] = (byte)'M';
        BitConverter.TryWriteBytes(b.AsSpan(2), size);
        BitConverter.TryWriteBytes(b.AsSpan(10), 54);
        BitConverter.TryWriteBytes(b.AsSpan(14), 40);
        BitConverter.TryWriteBytes(b.AsSpan(18), w);
        BitConverter.TryWriteBytes(b.AsSpan(22), h);
        BitConverter.TryWriteBytes(b.AsSpan(26), (short)1);
        BitConverter.TryWriteBytes(b.AsSpan(28), (short)24);
        BitConverter.TryWriteBytes(b.AsSpan(34), stride * h);
        BitConverter.TryWriteBytes(b.AsSpan(38), 2835);
        BitConverter.TryWriteBytes(b.AsSpan(42), 2835);
        for (int y = 0; y < h; y++)
        {
            int row = 54 + (h - 1 - y) * stride; // bottom-up
            for (int x = 0; x < w; x++)
            {
                b[row + 3 * x] = (byte)rgb[y, x, 2];
                b[row + 3 * x + 1] = (byte)rgb[y, x, 1];
                b[row + 3 * x + 2] = (byte)rgb[y, x, 0];
            }
        }
        return b;
    }

    /// <summary>
    /// A GIF89a with a 4-color global palette and one frame of palette indices. The LZW stream sends
    /// a clear code before every second pixel so the code size stays at 3 bits (valid, just not compact).
    /// </summary>
    public static byte[] Gif(int w, int h, byte[] palette12, int[,] indices)
    {
        var o = new List<byte>();
        o.AddRange("GIF89a"u8.ToArray());
        o.Add((byte)w); o.Add((byte)(w >> 8)); o.Add((byte)h); o.Add((byte)(h >> 8));
        o.Add(0xF1); // global table, 8-bit color resolution, 2^(1+1) = 4 entries
        o.Add(0); o.Add(0);
        o.AddRange(palette12);
        o.Add(0x2C); // image descriptor
        o.AddRange(new byte[] { 0, 0, 0, 0 });
        o.Add((byte)w); o.Add((byte)(w >> 8)); o.Add((byte)h); o.Add((byte)(h >> 8));
        o.Add(0);
        o.Add(2); // LZW minimum code size
        const int clear = 4, end = 5;
        var codes = new List<int>();
        int n = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                if (n % 2 == 0) codes.Add(clear);
                codes.Add(indices[y, x]);
                n++;
            }
        codes.Add(end);
        var bytes = new List<byte>();
        int acc = 0, bits = 0;
        foreach (var code in codes)
        {
            acc |= code << bits;
            bits += 3;
            while (bits >= 8) { bytes.Add((byte)acc); acc >>= 8; bits -= 8; }
        }
        if (bits > 0) bytes.Add((byte)acc);
        for (int i = 0; i < bytes.Count; i += 255)
        {
            int len = Math.Min(255, bytes.Count - i);
            o.Add((byte)len);
            o.AddRange(bytes.GetRange(i, len));
        }
        o.Add(0); // block terminator
        o.Add(0x3B); // trailer
        return o.ToArray();
    }

    /// <summary>Inserts an EXIF APP1 segment holding only an Orientation tag right after the JPEG SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        if (jpeg[0] != 0xFF || jpeg[1] != 0xD8) throw new ArgumentException("not a JPEG");
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, IFD at 8
            0x00, 0x01, // one entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, (byte)orientation, 0x00, 0x00, // Orientation, SHORT, 1
            0x00, 0x00, 0x00, 0x00, // no next IFD
        ];
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        int len = payload.Length + 2;
        var seg = new byte[] { 0xFF, 0xE1, (byte)(len >> 8), (byte)len }.Concat(payload);
        return jpeg[..2].Concat(seg).Concat(jpeg[2..]).ToArray();
    }

    /// <summary>Encodes RGBA bytes with Skia (JPEG 4:4:4, lossless WebP).</summary>
    public static byte[] SkiaEncode(int w, int h, byte[] rgba, SKEncodedImageFormat format, int quality = 100)
    {
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(rgba, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject(), w * 4);
            using SKData? data = format switch
            {
                SKEncodedImageFormat.Jpeg => pixmap.Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample444, SKJpegEncoderAlphaOption.Ignore)),
                SKEncodedImageFormat.Webp => pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100)),
                _ => pixmap.Encode(format, quality),
            };
            return data!.ToArray();
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>Opaque RGBA bytes of a w × h image from a color function.</summary>
    public static byte[] Rgba(int w, int h, Func<int, int, (byte R, byte G, byte B)> color)
    {
        var b = new byte[w * h * 4];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var (r, g, bl) = color(x, y);
                int o = 4 * (y * w + x);
                b[o] = r; b[o + 1] = g; b[o + 2] = bl; b[o + 3] = 255;
            }
        return b;
    }
}
