using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Salient.Core;

/// <summary>The one .npy decoder (float32, C order, versions 1.0–3.0): read by Rendering's <c>Npy</c> and by targets' vectors.</summary>
internal static partial class NpyFormat
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a float32 .npy file through <see cref="SafeFiles"/>; <paramref name="what"/> names it in messages.</summary>
    public static (float[] Data, int[] Shape) ReadFile(string path, string what) => Decode(SafeFiles.ReadRegularFile(path, what), path);

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
