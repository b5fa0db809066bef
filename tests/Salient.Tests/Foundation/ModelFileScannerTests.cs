using Salient.Onnx;
using Xunit;

namespace Salient.Tests.Foundation;

/// <summary>The one-pass file reader gives the graph the whole-file parser gives, and falls back to it on anything odd.</summary>
public class ModelFileScannerTests
{
    [Theory]
    [InlineData("mobilenetv2-fp32.onnx")]
    [InlineData("mobilenetv2-w8.onnx")]
    [InlineData("mobilenetv2-12-int8.onnx")]
    [InlineData("mnist-8.onnx")]
    public void Streamed_read_equals_the_whole_file_parse(string name)
    {
        string path = TestPaths.SharedModel(name);
        var streamed = OnnxReader.ReadFile(path);
        var parsed = OnnxReader.Read(File.ReadAllBytes(path), path, Path.GetDirectoryName(path));
        Assert.Equal(parsed.Initializers.Keys.Order(), streamed.Initializers.Keys.Order());
        foreach (var (key, p) in parsed.Initializers)
        {
            var s = streamed.Initializers[key];
            Assert.Equal(p.Type, s.Type);
            Assert.Equal(p.Dims, s.Dims);
            Assert.Equal(p.ToRawBytes(), s.ToRawBytes());
            if (s.Source is { } slice)
            {
                // the slice is where the bytes are in the file
                using var fs = File.OpenRead(path);
                var buf = new byte[slice.Length];
                fs.Seek(slice.Offset, SeekOrigin.Begin);
                fs.ReadExactly(buf);
                Assert.Equal(p.ToRawBytes(), buf);
            }
        }
        Assert.Equal(parsed.Nodes.Select(n => n.OpType + n.Name), streamed.Nodes.Select(n => n.OpType + n.Name));
        Assert.Equal(parsed.Inputs.Select(i => i.Name), streamed.Inputs.Select(i => i.Name));
        Assert.Equal(parsed.Outputs.Select(i => i.Name), streamed.Outputs.Select(i => i.Name));
        Assert.Equal(parsed.Opsets, streamed.Opsets);
        if (name == "mobilenetv2-fp32.onnx") Assert.Contains(streamed.Initializers.Values, t => t.Source is not null);
    }

    [Fact]
    public void A_truncated_file_gets_the_parser_message()
    {
        var bytes = File.ReadAllBytes(TestPaths.SharedModel("mobilenetv2-fp32.onnx"));
        string path = Path.Combine(Path.GetTempPath(), $"salient-trunc-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            var e = Assert.Throws<SalientException>(() => OnnxReader.ReadFile(path));
            Assert.Contains("truncated", e.Message);
        }
        finally { File.Delete(path); }
    }
}
