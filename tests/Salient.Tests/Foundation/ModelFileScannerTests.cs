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

    [Fact]
    public void A_model_reached_through_a_symbolic_link_runs_like_the_file_itself()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"salient-link-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, "real"));
        Directory.CreateDirectory(Path.Combine(dir, "other"));
        try
        {
            string real = Path.Combine(dir, "real", "m.onnx");
            File.Copy(TestPaths.SharedModel("mobilenetv2-fp32.onnx"), real);
            string link = Path.Combine(dir, "other", "m.onnx");
            File.CreateSymbolicLink(link, real);
            string dirLink = Path.Combine(dir, "linkdir");
            Directory.CreateSymbolicLink(dirLink, Path.Combine(dir, "real"));
            var image = Salient.Imaging.ImageLoader.Load(TestPaths.SharedImage("both.png"));
            float[] Logits(string path)
            {
                using var m = TestPaths.Load(path);
                var logits = m.Run([m.Prepare(image)])[m.Structure().LogitsName].Data;
                Assert.True(m.Weights.ReferencesFiles);
                return logits;
            }
            var expected = Logits(real);
            Assert.Equal(expected, Logits(link));
            Assert.Equal(expected, Logits(Path.Combine(dirLink, "m.onnx")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_model_with_external_data_in_a_subfolder_runs_like_the_embedded_one()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"salient-ext-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        try
        {
            var g = OnnxReader.ReadFile(TestPaths.SharedModel("mobilenetv2-fp32.onnx"));
            var slices = new Dictionary<string, FileSlice>();
            using (var bin = File.Create(Path.Combine(dir, "data", "weights.bin")))
                foreach (var t in g.Initializers.Values.Where(t => t.Length >= 4096))
                {
                    var bytes = t.ToRawBytes();
                    slices[t.Name] = new FileSlice(Path.Combine("data", "weights.bin"), bin.Position, bytes.Length);
                    bin.Write(bytes);
                }
            string path = Path.Combine(dir, "ext.onnx");
            File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(OnnxWriter.ToModelProto(g, t => slices.GetValueOrDefault(t.Name))));
            var read = OnnxReader.ReadFile(path);
            Assert.Contains(read.Initializers.Values, t => t.Source is { } s && s.Path.EndsWith("weights.bin", StringComparison.Ordinal));
            var image = Salient.Imaging.ImageLoader.Load(TestPaths.SharedImage("both.png"));
            float[] Logits(string p)
            {
                using var m = TestPaths.Load(p);
                var logits = m.Run([m.Prepare(image)])[m.Structure().LogitsName].Data;
                Assert.True(m.Weights.ReferencesFiles);   // ORT took the references, no inline fallback
                return logits;
            }
            Assert.Equal(Logits(TestPaths.SharedModel("mobilenetv2-fp32.onnx")), Logits(path));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
