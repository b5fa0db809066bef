using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace Salient.Imaging;

/// <summary>The IHDR fields of a PNG, read straight from the first chunk.</summary>
internal readonly record struct PngHeader(int Width, int Height, int BitDepth, int ColorType, int Interlace)
{
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Reads IHDR (which must directly follow the signature); false when it is not there.</summary>
    public static bool TryRead(ReadOnlySpan<byte> b, out PngHeader header)
    {
        header = default;
        if (b.Length < 8 + 8 + 13 || !b[..8].SequenceEqual(Signature)) return false;
        if (BinaryPrimitives.ReadUInt32BigEndian(b[8..]) != 13 || !b.Slice(12, 4).SequenceEqual("IHDR"u8)) return false;
        uint w = BinaryPrimitives.ReadUInt32BigEndian(b[16..]);
        uint h = BinaryPrimitives.ReadUInt32BigEndian(b[20..]);
        if (w == 0 || h == 0 || w > int.MaxValue || h > int.MaxValue) return false;
        header = new PngHeader((int)w, (int)h, b[24], b[25], b[28]);
        return true;
    }
}

/// <summary>CRC-32 (ISO-HDLC, polynomial 0xEDB88320 reflected) as used by PNG and zlib.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Update(Start, data));

    public const uint Start = 0xFFFFFFFFu;

    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    public static uint Finish(uint crc) => ~crc;
}

/// <summary>
/// A small PNG decoder for 16-bit-per-sample files (gray, gray+alpha, RGB, RGBA; plain or Adam7
/// interlaced), used because Skia only decodes them to half floats (11 significant bits). Samples are
/// scaled by 255/65535 = 1/257, keeping their fractions; alpha is dropped. Throws
/// <see cref="InvalidDataException"/> for anything malformed or truncated.
/// </summary>
internal static class Png16Decoder
{
    public static RgbImage Decode(byte[] png, SKEncodedOrigin origin)
    {
        if (!PngHeader.TryRead(png, out var hdr) || hdr.BitDepth != 16)
            throw new InvalidDataException("not a 16-bit PNG");
        int samples = hdr.ColorType switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => throw new InvalidDataException("bad color type") };
        if (hdr.Interlace > 1) throw new InvalidDataException("bad interlace method");

        var idat = CollectImageData(png);
        int w = hdr.Width, h = hdr.Height;
        int bpp = samples * 2;
        var data = ImageLoader.AllocatePixels("png", w, h);
        var map = Orientation.For(origin, w, h);

        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        var passes = hdr.Interlace == 1 ? Adam7 : [(0, 0, 1, 1)];
        long maxRow = (long)w * bpp + 1;
        if (maxRow > int.MaxValue) throw new InvalidDataException("row too long");
        var cur = new byte[maxRow];
        var prev = new byte[maxRow];
        foreach (var (x0, y0, dx, dy) in passes)
        {
            int pw = w > x0 ? (w - x0 + dx - 1) / dx : 0;
            int ph = h > y0 ? (h - y0 + dy - 1) / dy : 0;
            if (pw == 0 || ph == 0) continue;
            int rowLen = pw * bpp;
            Array.Clear(prev, 0, rowLen + 1);
            for (int r = 0; r < ph; r++)
            {
                var row = cur.AsSpan(0, rowLen + 1);
                try
                {
                    z.ReadExactly(row);
                }
                catch (EndOfStreamException e)
                {
                    throw new InvalidDataException("image data ends early", e);
                }
                Unfilter(row[0], row[1..], prev.AsSpan(1, rowLen), bpp);
                int y = y0 + r * dy;
                for (int i = 0; i < pw; i++)
                {
                    int o = 1 + i * bpp;
                    long d = map.Index(x0 + i * dx, y) * 3;
                    if (samples <= 2)
                    {
                        float g = ((row[o] << 8) | row[o + 1]) / 257f;
                        data[d] = g;
                        data[d + 1] = g;
                        data[d + 2] = g;
                    }
                    else
                    {
                        data[d] = ((row[o] << 8) | row[o + 1]) / 257f;
                        data[d + 1] = ((row[o + 2] << 8) | row[o + 3]) / 257f;
                        data[d + 2] = ((row[o + 4] << 8) | row[o + 5]) / 257f;
                    }
                }
                (cur, prev) = (prev, cur);
            }
        }
        return new RgbImage(map.Width, map.Height, data);
    }

    private static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7 =
    [
        (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2),
    ];

    /// <summary>Concatenates the IDAT chunks, checking chunk bounds and CRCs; requires IEND.</summary>
    private static MemoryStream CollectImageData(byte[] png)
    {
        var ms = new MemoryStream();
        int pos = 8;
        bool sawEnd = false;
        while (pos + 12 <= png.Length)
        {
            uint len = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            if (len > int.MaxValue || pos + 12L + len > png.Length)
                throw new InvalidDataException("chunk runs past the end of the file");
            var typeAndData = png.AsSpan(pos + 4, 4 + (int)len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + (int)len));
            var type = typeAndData[..4];
            bool critical = (type[0] & 0x20) == 0;
            if (critical && Crc32.Compute(typeAndData) != crc)
                throw new InvalidDataException("chunk CRC mismatch");
            if (type.SequenceEqual("IDAT"u8)) ms.Write(typeAndData[4..]);
            else if (type.SequenceEqual("IEND"u8)) { sawEnd = true; break; }
            pos += 12 + (int)len;
        }
        if (!sawEnd || ms.Length == 0) throw new InvalidDataException("file ends early");
        ms.Position = 0;
        return ms;
    }

    private static void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> prior, int bpp)
    {
        switch (filter)
        {
            case 0:
                break;
            case 1: // Sub
                for (int i = bpp; i < row.Length; i++) row[i] += row[i - bpp];
                break;
            case 2: // Up
                for (int i = 0; i < row.Length; i++) row[i] += prior[i];
                break;
            case 3: // Average
                for (int i = 0; i < row.Length; i++)
                {
                    int left = i >= bpp ? row[i - bpp] : 0;
                    row[i] += (byte)((left + prior[i]) >> 1);
                }
                break;
            case 4: // Paeth
                for (int i = 0; i < row.Length; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0;
                    int b = prior[i];
                    int c = i >= bpp ? prior[i - bpp] : 0;
                    row[i] += (byte)Paeth(a, b, c);
                }
                break;
            default:
                throw new InvalidDataException($"unknown filter type {filter}");
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }
}
