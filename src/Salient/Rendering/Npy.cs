using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Salient.Rendering;

/// <summary>Reads and writes NumPy .npy files of little-endian float32 ('&lt;f4'), C order.</summary>
public static class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>
    /// Writes <paramref name="data"/> with the given shape (the product of the dimensions must equal the
    /// data length; no dimensions means a scalar) as format version 1.0.
    /// </summary>
    public static void Write(string path, float[] data, params int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = Encode(data, shape);
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            File.WriteAllBytes(path, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new SalientException($"cannot write '{path}': {e.Message.ReplaceLineEndings(" ").Trim()}", e);
        }
    }

    /// <summary>The bytes of a .npy v1.0 file holding <paramref name="data"/> with <paramref name="shape"/>.</summary>
    public static byte[] Encode(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        shape ??= [];
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException("shape dimensions must not be negative", nameof(shape));
            count *= d;
        }
        if (count != data.LongLength)
            throw new ArgumentException($"shape ({string.Join(", ", shape)}) holds {count} values but data has {data.LongLength}", nameof(shape));

        string shapeText = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
            _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
        };
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeText + ", }";
        // like numpy, leave room for the first dimension to grow to 21 digits (in-place appends)
        if (shape.Length > 0) dict += new string(' ', Math.Max(0, 21 - shape[0].ToString(CultureInfo.InvariantCulture).Length));
        // magic (6) + version (2) + header length (2) + dict + padding + '\n' is a multiple of 64
        int unpadded = 10 + dict.Length + 1;
        int padded = (unpadded + 63) / 64 * 64;
        string header = dict + new string(' ', padded - unpadded) + "\n";
        if (header.Length > ushort.MaxValue) throw new ArgumentException("shape too long for an .npy v1.0 header", nameof(shape));

        var bytes = new byte[checked(padded + data.Length * 4)];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header, bytes.AsSpan(10));
        var body = bytes.AsSpan(padded);
        for (int i = 0; i < data.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(body[(4 * i)..], data[i]);
        return bytes;
    }

    /// <summary>Reads a float32 .npy file (versions 1.0–3.0, C order).</summary>
    public static (float[] Data, int[] Shape) Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SalientException($"file '{path}' not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new SalientException($"cannot read '{path}': {e.Message.ReplaceLineEndings(" ").Trim()}", e);
        }
        return Decode(bytes, path);
    }

    /// <summary>Parses the bytes of a float32 .npy file.</summary>
    public static (float[] Data, int[] Shape) Decode(byte[] bytes, string nameForMessages = "<npy>") => NpyFormat.Decode(bytes, nameForMessages);
}
