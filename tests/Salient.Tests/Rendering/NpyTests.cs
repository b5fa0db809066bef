using System.Text;
using Salient.Rendering;
using Xunit;

namespace Salient.Tests.Rendering;

public class NpyTests
{
    private static byte[] ExpectedHeader(string shape)
    {
        // what numpy.save writes: magic, version 1.0, little-endian header length, the dict padded with
        // spaces and ending in '\n' so that the whole preamble is 128 bytes here (a multiple of 64)
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
        string text = dict.PadRight(128 - 10 - 1) + "\n";
        var b = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 118, 0 };
        b.AddRange(Encoding.ASCII.GetBytes(text));
        Assert.Equal(128, b.Count);
        return b.ToArray();
    }

    [Theory]
    [InlineData("(2, 3)", new[] { 2, 3 })]
    [InlineData("(6,)", new[] { 6 })]
    [InlineData("(1, 2, 3)", new[] { 1, 2, 3 })]
    public void Encode_HeaderBytesAreExact(string shapeText, int[] shape)
    {
        var bytes = Npy.Encode([1.5f, -2f, 3f, 0.25f, 0.001f, 7f], shape);
        Assert.Equal(ExpectedHeader(shapeText), bytes[..128]);
        // float32 little-endian payload
        Assert.Equal(Convert.FromHexString("0000C03F000000C0000040400000803E6F12833A0000E040"), bytes[128..]);
        Assert.Equal(0, bytes.Length % 4);
    }

    [Fact]
    public void Header_is_padded_to_a_multiple_of_64_for_long_shapes()
    {
        var bytes = Npy.Encode(new float[0], 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
        int headerLen = bytes[8] | (bytes[9] << 8);
        Assert.Equal(0, (10 + headerLen) % 64);
        Assert.Equal((byte)'\n', bytes[10 + headerLen - 1]);
    }

    [Fact]
    public void Write_and_read_round_trip()
    {
        var dir = Directory.CreateTempSubdirectory("salient-npy");
        try
        {
            var path = Path.Combine(dir.FullName, "sub", "a.npy");
            var data = Enumerable.Range(0, 24).Select(i => i * 0.5f - 3f).ToArray();
            data[5] = float.NaN;
            Npy.Write(path, data, 2, 3, 4);
            var (read, shape) = Npy.Read(path);
            Assert.Equal([2, 3, 4], shape);
            Assert.Equal(data.Length, read.Length);
            for (int i = 0; i < data.Length; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(data[i]), BitConverter.SingleToInt32Bits(read[i]));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void Scalar_RoundTrip()
    {
        var bytes = Npy.Encode([42f]);
        Assert.Contains("'shape': (), }", Encoding.ASCII.GetString(bytes, 10, bytes.Length - 14));
        var (data, shape) = Npy.Decode(bytes);
        Assert.Empty(shape);
        Assert.Equal([42f], data);
    }

    [Fact]
    public void A_shape_mismatch_throws()
    {
        Assert.Throws<ArgumentException>(() => Npy.Encode([1f, 2f, 3f], 2, 2));
    }

    [Fact]
    public void Decode_RejectsOtherDtypesAndGarbage()
    {
        var bytes = Npy.Encode([1f, 2f], 2);
        var text = Encoding.Latin1.GetString(bytes).Replace("<f4", "<f8");
        var f8 = Encoding.Latin1.GetBytes(text);
        var e = Assert.Throws<SalientException>(() => Npy.Decode(f8, "x.npy"));
        Assert.Contains("'<f8'", e.Message);
        Assert.Throws<SalientException>(() => Npy.Decode(Encoding.ASCII.GetBytes("hello world"), "y.npy"));
        Assert.Throws<SalientException>(() => Npy.Decode(bytes[..^3], "z.npy"));
    }

    [Fact]
    public void Read_MissingFile_Throws()
    {
        var e = Assert.Throws<SalientException>(() => Npy.Read("/nonexistent/dir/x.npy"));
        Assert.Contains("not found", e.Message);
    }
}
