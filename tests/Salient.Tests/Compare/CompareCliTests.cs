using System.Text.Json;
using Salient.Imaging;
using Salient.Onnx;
using Salient.Rendering;
using Salient.Tests.Cli;
using Xunit;

namespace Salient.Tests.Compare;

/// <summary><c>salient compare</c> end to end: self-agreement, fp32 vs int8, and models that differ in size, layout and preprocessing.</summary>
public class CompareCliTests
{
    private static readonly string Both = TestPaths.SharedImage("both.png");

    private static List<JsonElement> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public void A_model_compared_with_itself_agrees_exactly()
    {
        var fp32 = TestPaths.SharedModel("mobilenetv2-fp32.onnx");
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("compare", Both, "--model", fp32, "--model", fp32, "--method", "gradcam", "--threads", "1", "--json", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Err);
        var line = Assert.Single(Lines(r.Out));
        Assert.Equal(1, line.GetProperty("schema").GetInt32());
        var names = line.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.Equal(2, names.Distinct().Count());                  // the same file twice gets two names
        var pair = Assert.Single(line.GetProperty("agreement").EnumerateArray());
        Assert.Equal(1.0, pair.GetProperty("spearman").GetDouble());
        Assert.Equal(1.0, pair.GetProperty("top_iou").GetDouble());
        Assert.Equal(224 * 224, line.GetProperty("compared_pixels").GetInt32());   // both.png is 224×224: every pixel seen
        Assert.True(File.Exists(line.GetProperty("files").GetProperty("figure").GetString()));
        Assert.Equal(r.Out.Trim(), File.ReadAllText(Path.Combine(dir, "comparison.jsonl")).Trim());
    }

    private const string ListStart = "methods that need no gradients and work on any model: ";

    [Fact]
    public void Int8_against_fp32_works_with_a_gradient_free_method_and_a_gradient_method_gets_one_line()
    {
        var fp32 = TestPaths.SharedModel("mobilenetv2-fp32.onnx");
        var int8 = TestPaths.SharedModel("mobilenetv2-12-int8.onnx");
        var r = CliRunner.Run("compare", Both, "--model", fp32, "--model", int8, "--method", "eigencam", "--threads", "1", "--json", "--out", CliRunner.TempDir());
        Assert.True(r.ExitCode == 0, r.Err);
        var line = Assert.Single(Lines(r.Out));
        var top = line.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("top")[0].GetProperty("class").GetInt32()).ToList();
        Assert.Equal([243, 243], top);                              // both say bull mastiff
        var pair = Assert.Single(line.GetProperty("agreement").EnumerateArray());
        // Quantization barely moves Eigen-CAM's map (measured: ρ 0.990, IoU 0.953); a broken mapping of either map would not.
        Assert.InRange(pair.GetProperty("spearman").GetDouble(), 0.95, 1.0);
        Assert.InRange(pair.GetProperty("top_iou").GetDouble(), 0.8, 1.0);

        var g = CliRunner.Run("compare", Both, "--model", fp32, "--model", int8, "--method", "gradcam", "--threads", "1", "--out", CliRunner.TempDir());
        Assert.Equal(1, g.ExitCode);
        var error = g.ErrLines.Last();
        Assert.StartsWith("error: gradcam needs gradients, and mobilenetv2-12-int8.onnx cannot be differentiated", error);
        Assert.Contains("QLinearConv", error);
        var listed = error[(error.IndexOf(ListStart, StringComparison.Ordinal) + ListStart.Length)..].Split(", ");
        foreach (var m in new[] { "eigencam", "occlusion", "rise", "scorecam" }) Assert.Contains(m, listed);
        foreach (var m in new[] { "gradcam", "saliency", "finercam", "fullgrad", "guidedgradcam" }) Assert.DoesNotContain(m, listed);
        Assert.Single(g.ErrLines, l => l.StartsWith("error:"));
    }

    [Fact]
    public void Models_with_other_sizes_layouts_and_preprocessing_are_compared_on_the_original_grid()
    {
        // One bright square on gray, in the top-left of the center crop; three "brightness detectors" with the
        // same weights: NCHW 16×16 (defaults: imagenet, crop), its NHWC twin, and NCHW 32×32 whose sidecar says
        // raw preprocessing, stretch (it sees the whole image) and the Conv before the Relu as its target layer.
        // Their maps must peak on the square in the photo.
        var dir = Directory.CreateTempSubdirectory("salient-compare").FullName;
        var a = Detector(dir, "a_nchw16", 16, nhwc: false);
        var b = Detector(dir, "b_nhwc16", 16, nhwc: true);
        var c = Detector(dir, "c_nchw32", 32, nhwc: false);
        File.WriteAllText(c + ".json", """{ "preprocess": "raw", "resize": "stretch", "layer": "conv" }""");
        int w = 64, h = 48;
        var pixels = new float[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < 3; k++) pixels[3 * (y * w + x) + k] = x >= 14 && x < 26 && y >= 6 && y < 18 ? 250 : 60;
        string image = Path.Combine(dir, "square.png");
        ImageWriter.SavePng(new RgbImage(w, h, pixels), image);

        var r = CliRunner.Run("compare", image, "--model", a, "--model", b, "--model", c, "--method", "gradcam", "--threads", "1", "--json", "--out", Path.Combine(dir, "out"));
        Assert.True(r.ExitCode == 0, r.Err);
        var line = Assert.Single(Lines(r.Out));
        Assert.Equal([w, h], line.GetProperty("grid").EnumerateArray().Select(v => v.GetInt32()));
        var rows = line.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal([8, 8], rows[0].GetProperty("map_shape").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal([16, 16], rows[2].GetProperty("map_shape").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Contains("NHWC", line.GetProperty("models")[1].GetProperty("input").GetString());
        Assert.Equal(["layer", "layer", "conv"], rows.Select(x => x.GetProperty("layer").GetString()));
        Assert.Equal("raw", line.GetProperty("models")[2].GetProperty("preprocessing").GetString());
        // Compared pixels: those inside every crop = the 16×16 models' center crop (about 48 · 224/256 px square), counted by pixel centres.
        var crop = rows[0].GetProperty("crop");
        double cx = crop.GetProperty("x").GetDouble(), cy = crop.GetProperty("y").GetDouble(), cw = crop.GetProperty("width").GetDouble(), ch = crop.GetProperty("height").GetDouble();
        Assert.InRange(cw, 40, 44);
        Assert.Equal(cw, ch, 6);
        int expected = Enumerable.Range(0, w).Count(x => x + 0.5 >= cx && x + 0.5 < cx + cw) * Enumerable.Range(0, h).Count(y => y + 0.5 >= cy && y + 0.5 < cy + ch);
        Assert.Equal(expected, line.GetProperty("compared_pixels").GetInt32());
        var pairs = line.GetProperty("agreement").EnumerateArray().ToList();
        Assert.Equal(3, pairs.Count);
        // NCHW vs its NHWC twin: the same map.
        Assert.InRange(pairs[0].GetProperty("spearman").GetDouble(), 0.999, 1.0);
        Assert.InRange(pairs[0].GetProperty("top_iou").GetDouble(), 0.99, 1.0);
        // Another input size, preprocessing and crop: still the same place in the photo.
        foreach (var p in pairs.Skip(1))
        {
            Assert.True(p.GetProperty("spearman").GetDouble() > 0.5, p.ToString());
            Assert.True(p.GetProperty("top_iou").GetDouble() > 0.5, p.ToString());
        }
    }

    [Fact]
    public void One_model_and_several_methods_compares_the_methods_and_nothing_to_compare_is_one_line()
    {
        var r = CliRunner.Run("compare", Both, "--method", "gradcam,eigencam", "--threads", "1", "--json", "--out", CliRunner.TempDir());
        Assert.True(r.ExitCode == 0, r.Err);
        var line = Assert.Single(Lines(r.Out));
        Assert.Equal(["gradcam", "eigencam"], line.GetProperty("rows").EnumerateArray().Select(x => x.GetProperty("method").GetString()));
        Assert.Single(line.GetProperty("agreement").EnumerateArray());
        var none = CliRunner.Run("compare", Both, "--method", "gradcam", "--out", CliRunner.TempDir());
        Assert.Equal(1, none.ExitCode);
        Assert.StartsWith("error: nothing to compare", Assert.Single(none.ErrLines));
    }

    /// <summary>
    /// input [N,3,S,S] (or [N,S,S,3] + Transpose) → Conv 2×2 stride 2, all weights 0.1 → Relu = "layer" [N,4,S/2,S/2] → GlobalAveragePool →
    /// Flatten → Gemm: class 0 = Σ channels (brightness), class 1 = −Σ.
    /// </summary>
    private static string Detector(string dir, string name, int size, bool nhwc)
    {
        var g = new Graph { Name = name, IrVersion = 8 };
        g.Opsets[""] = 13;
        string input = "input";
        if (nhwc)
        {
            g.Inputs.Add(new ValueInfo("input", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(size), Dim.Fixed(size), Dim.Fixed(3)]));
            g.Nodes.Add(new Node("Transpose", ["input"], ["x_nchw"], "to_nchw").Set("perm", new long[] { 0, 3, 1, 2 }));
            input = "x_nchw";
        }
        else g.Inputs.Add(new ValueInfo("input", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(3), Dim.Fixed(size), Dim.Fixed(size)]));
        g.Initializers["Wc"] = Tensor.FromFloats("Wc", [4, 3, 2, 2], Enumerable.Repeat(0.1f, 48).ToArray());
        g.Initializers["Bc"] = Tensor.FromFloats("Bc", [4], [3f, 3f, 3f, 3f]);
        g.Initializers["W2"] = Tensor.FromFloats("W2", [2, 4], [1f, 1f, 1f, 1f, -1f, -1f, -1f, -1f]);
        g.Initializers["B2"] = Tensor.FromFloats("B2", [2], [0f, 0f]);
        g.Nodes.Add(new Node("Conv", [input, "Wc", "Bc"], ["conv"], "conv").Set("kernel_shape", new long[] { 2, 2 }).Set("strides", new long[] { 2, 2 }));
        g.Nodes.Add(new Node("Relu", ["conv"], ["layer"], "relu"));
        g.Nodes.Add(new Node("GlobalAveragePool", ["layer"], ["pool"], "pool"));
        g.Nodes.Add(new Node("Flatten", ["pool"], ["flat"], "flatten").Set("axis", 1L));
        g.Nodes.Add(new Node("Gemm", ["flat", "W2", "B2"], ["logits"], "fc").Set("transB", 1L));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(2)]));
        string path = Path.Combine(dir, name + ".onnx");
        OnnxWriter.WriteFile(g, path);
        return path;
    }
}
