using System.Text.Json;
using Salient.Onnx;
using Salient.Rendering;
using Salient.Tests.Cli;
using Xunit;

namespace Salient.Tests.Targets;

/// <summary>
/// The README's three target examples, on models derived from the real MobileNetV2 here with the
/// same graph surgery as tools/make_target_examples.py (written with Salient's own ONNX writer, so no
/// Python is needed): the commands run, and their maps point where the pictures show.
/// </summary>
public class ReadmeTargetExampleTests
{
    private static readonly Lazy<string> Dir = new(() =>
    {
        var dir = Directory.CreateTempSubdirectory("salient-target-examples").FullName;
        var source = OnnxReader.ReadFile(TestPaths.SharedModel("mobilenetv2-fp32.onnx"));
        var labels = File.ReadAllLines(TestPaths.SharedModel("imagenet_classes.txt"));
        Assert.Equal(["GlobalAveragePool", "Flatten", "Gemm"], source.Nodes.TakeLast(3).Select(n => n.OpType));

        // (a) fully convolutional: features.18 → 1×1 Conv with the classifier's weights → Resize ×32 = "scores" [N,1000,224,224]
        var seg = source.Clone();
        var gemm = seg.Nodes[^1];
        var w = seg.Initializers[gemm.Inputs[1]];
        var b = seg.Initializers[gemm.Inputs[2]];
        string features = seg.Nodes[^3].Inputs[0];
        seg.Nodes.RemoveRange(seg.Nodes.Count - 3, 3);
        seg.Outputs.Clear();
        seg.Initializers["head.weight"] = Tensor.FromFloats("head.weight", [w.Dims[0], w.Dims[1], 1, 1], w.ToFloats());
        seg.Initializers["head.bias"] = Tensor.FromFloats("head.bias", [b.Dims[0]], b.ToFloats());
        seg.Nodes.Add(new Node("Conv", [features, "head.weight", "head.bias"], ["scores_7x7"], "head_conv").Set("kernel_shape", new long[] { 1, 1 }));
        seg.Initializers["up_scales"] = Tensor.FromFloats("up_scales", [4], [1, 1, 32, 32]);
        seg.Nodes.Add(new Node("Resize", ["scores_7x7", "", "up_scales"], ["scores"], "upsample").Set("mode", "linear").Set("coordinate_transformation_mode", "half_pixel"));
        seg.Outputs.Add(new ValueInfo("scores", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(1000), Dim.Fixed(224), Dim.Fixed(224)]));
        seg.Initializers.Remove(gemm.Inputs[1]);
        seg.Initializers.Remove(gemm.Inputs[2]);
        OnnxWriter.WriteFile(seg, Path.Combine(dir, "mobilenetv2-seg.onnx"));
        File.WriteAllLines(Path.Combine(dir, "mobilenetv2-seg.labels.txt"), labels);

        // (b) embedding: the flattened pooled features = "embedding" [N,1280]
        var emb = source.Clone();
        string flat = emb.Nodes[^2].Outputs[0];
        emb.Initializers.Remove(emb.Nodes[^1].Inputs[1]);
        emb.Initializers.Remove(emb.Nodes[^1].Inputs[2]);
        emb.Nodes.RemoveAt(emb.Nodes.Count - 1);
        emb.Outputs.Clear();
        emb.Nodes.Add(new Node("Identity", [flat], ["embedding"], "embedding"));
        emb.Outputs.Add(new ValueInfo("embedding", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(1280)]));
        OnnxWriter.WriteFile(emb, Path.Combine(dir, "mobilenetv2-embed.onnx"));

        // (c) multi-label: Sigmoid on the logits = "probs" [N,1000]
        var ml = source.Clone();
        string logits = ml.Outputs[0].Name;
        ml.Outputs.Clear();
        ml.Nodes.Add(new Node("Sigmoid", [logits], ["probs"], "sigmoid"));
        ml.Outputs.Add(new ValueInfo("probs", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(1000)]));
        OnnxWriter.WriteFile(ml, Path.Combine(dir, "mobilenetv2-multilabel.onnx"));
        File.WriteAllLines(Path.Combine(dir, "mobilenetv2-multilabel.labels.txt"), labels);
        return dir;
    });

    private static (int Row, int Col) Peak(string npy)
    {
        var (map, shape) = Npy.Read(npy);
        int i = Array.IndexOf(map, map.Max());
        return (i / shape[1], i % shape[1]);
    }

    private static JsonElement Run(string outDir, params string[] args)
    {
        var r = CliRunner.Run(["explain", .. args, "--out", outDir, "--raw", "--json", "--threads", "1"]);
        Assert.True(r.ExitCode == 0, r.Err);
        return JsonDocument.Parse(r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0]).RootElement.Clone();
    }

    [Fact]
    public void Segmentation_example_points_at_the_cat()
    {
        // README: salient explain ../shared/images/both.png --model examples/models/mobilenetv2-seg.onnx --target segmentation:281 --method gradcam
        var r = Run(CliRunner.TempDir(), TestPaths.SharedImage("both.png"), "--model", Path.Combine(Dir.Value, "mobilenetv2-seg.onnx"), "--target", "segmentation:281", "--method", "gradcam");
        Assert.Equal("features.18", r.GetProperty("layer").GetString());
        Assert.Equal("tabby", r.GetProperty("label").GetString());
        Assert.True(r.GetProperty("score").GetDouble() > 0);
        // both.png: the cat lies in the lower half.
        Assert.True(Peak(r.GetProperty("files").GetProperty("map").GetString()!).Row >= 112);
    }

    [Fact]
    public void Similarity_example_points_at_the_dogs_not_the_sky()
    {
        var r = Run(CliRunner.TempDir(), TestPaths.SharedImage("dogs.png"), "--model", Path.Combine(Dir.Value, "mobilenetv2-embed.onnx"),
            "--target", $"similarity:{TestPaths.SharedImage("puppies.jpg")}", "--method", "scorecam", "--top-channels", "128");
        Assert.Equal("similarity to puppies", r.GetProperty("label").GetString());
        double score = r.GetProperty("score").GetDouble();
        Assert.InRange(score, 0.2, 1);
        // dogs.png (348×342): the dogs stand in a band across the middle, sky above.
        var (row, _) = Peak(r.GetProperty("files").GetProperty("map").GetString()!);
        Assert.InRange(row, 120, 300);
    }

    [Fact]
    public void Multilabel_example_points_at_the_dog()
    {
        var r = Run(CliRunner.TempDir(), TestPaths.SharedImage("both.png"), "--model", Path.Combine(Dir.Value, "mobilenetv2-multilabel.onnx"), "--target", "sigmoid:243,281", "--method", "gradcam");
        Assert.Equal(243, r.GetProperty("class").GetInt32());
        Assert.Equal("bull mastiff", r.GetProperty("label").GetString());
        // logit: the Sigmoid's input, the same as MobileNetV2's logit of 243; probability: σ of it.
        Assert.Equal(14.548, r.GetProperty("logit").GetDouble(), 2);
        Assert.Equal(1 / (1 + Math.Exp(-14.548)), r.GetProperty("probability").GetDouble(), 4);
        Assert.True(Peak(r.GetProperty("files").GetProperty("map").GetString()!).Row < 112);
    }
}
