using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Salient.Rendering;

/// <summary>Reads and writes NumPy .npy files of little-endian float32 ('&lt;f4'), C order.</summary>
public static partial class Npy
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
    public static (float[] Data, int[] Shape) Decode(byte[] bytes, string nameForMessages = "<npy>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        SalientException Bad(string why) => new($"'{nameForMessages}' is not a float32 .npy file: {why}");
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic)) throw Bad("bad magic");
        int major = bytes[6];
        int headerStart, headerLen;
        if (major == 1)
        {
            headerLen = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
            headerStart = 10;
        }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw Bad("truncated header");
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
            if (len > int.MaxValue) throw Bad("header too long");
            headerLen = (int)len;
            headerStart = 12;
        }
        else throw Bad($"unsupported version {major}.{bytes[7]}");
        if ((long)headerStart + headerLen > bytes.Length) throw Bad("truncated header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(bytes, headerStart, headerLen);

        var descr = DescrRegex().Match(header);
        if (!descr.Success) throw Bad("no 'descr'");
        if (descr.Groups[1].Value is not ("<f4" or "=f4" or "f4"))
            throw Bad($"dtype is '{descr.Groups[1].Value}', expected '<f4'");
        var fortran = FortranRegex().Match(header);
        if (!fortran.Success) throw Bad("no 'fortran_order'");
        if (fortran.Groups[1].Value == "True") throw Bad("Fortran order is not supported");
        var shapeMatch = ShapeRegex().Match(header);
        if (!shapeMatch.Success) throw Bad("no 'shape'");
        var shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : throw Bad($"bad shape '{s}'"))
            .ToArray();
        long count = 1;
        foreach (var d in shape) count *= d;
        int dataStart = headerStart + headerLen;
        if (count * 4 > bytes.Length - dataStart) throw Bad("data is truncated");
        var data = new float[count];
        for (long i = 0; i < count; i++)
            data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(dataStart + (int)(4 * i)));
        return (data, shape);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
