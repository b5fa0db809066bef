using Salient.Cli;

namespace Salient.Tests.Cli;

/// <summary>Runs the CLI in-process and captures its output.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public static Result Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Program.Run(args, o, e);
        return new Result(code, o.ToString(), e.ToString());
    }

    public static string TempDir() => Directory.CreateTempSubdirectory("salient-cli").FullName;

    /// <summary>CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320) for hand-made PNG chunks.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>A PNG whose header claims width×height (no real pixel data).</summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        void Chunk(string type, byte[] data)
        {
            var len = BitConverter.GetBytes(data.Length); Array.Reverse(len);
            ms.Write(len);
            var td = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            ms.Write(td);
            var crc = BitConverter.GetBytes(Crc32(td)); Array.Reverse(crc);
            ms.Write(crc);
        }
        byte[] Be(int v) { var b = BitConverter.GetBytes(v); Array.Reverse(b); return b; }
        Chunk("IHDR", [.. Be(width), .. Be(height), 8, 2, 0, 0, 0]);
        Chunk("IDAT", [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]);
        Chunk("IEND", []);
        return ms.ToArray();
    }
}
