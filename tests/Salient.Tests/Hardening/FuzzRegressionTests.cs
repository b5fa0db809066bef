using Salient.Explain;
using Salient.Models;
using Salient.Onnx;
using Salient.Tests.Autodiff;
using Xunit;

namespace Salient.Tests.Hardening;

/// <summary>Cases the long fuzz run found (seed 7), rebuilt by hand so they fail before their fix.</summary>
public class FuzzRegressionTests
{
    [Fact]
    public void A_pool_with_a_zero_stride_is_left_to_onnx_runtime_not_a_divide_by_zero()
    {
        var t = new TinyGraph(13, [1, 2, 6, 6]);
        var pool = t.Node("MaxPool", [t.Input], "pool");
        pool.Attributes["kernel_shape"] = new NodeAttribute { Name = "kernel_shape", Kind = AttributeKind.Ints, Ints = [2, 2] };
        pool.Attributes["strides"] = new NodeAttribute { Name = "strides", Kind = AttributeKind.Ints, Ints = [0, 2] };
        t.G.Outputs.Add(new ValueInfo("pool", DataType.Float, null));
        var inferred = ShapeInference.Infer(t.G, t.Input, DataType.Float, t.InputShape);   // must not throw
        Assert.False(inferred.ContainsKey("pool"));
    }

    [Fact]
    public void Logits_whose_size_does_not_follow_the_batch_are_one_line()
    {
        // logits = the first 3 values of the flattened input, whatever the batch: [3] for a batch of 2 (the probe saw batch 1 → [1, 3]).
        var t = new TinyGraph(13, [-1, 3, 4, 4]);
        t.G.Initializers["shape"] = new Tensor("shape", DataType.Int64, [1], new long[] { -1 });
        t.Node("Reshape", [t.Input, "shape"], "flat");
        t.G.Initializers["s"] = new Tensor("s", DataType.Int64, [1], new long[] { 0 });
        t.G.Initializers["e"] = new Tensor("e", DataType.Int64, [1], new long[] { 3 });
        t.Node("Slice", ["flat", "s", "e"], "first3");
        t.G.Initializers["two"] = new Tensor("two", DataType.Int64, [2], new long[] { 1, 3 });
        t.Node("Reshape", ["first3", "two"], "logits");
        t.G.Outputs.Add(new ValueInfo("logits", DataType.Float, null));
        var path = Path.Combine(Directory.CreateTempSubdirectory("salient-odd").FullName, "odd.onnx");
        OnnxWriter.WriteFile(t.G, path);
        using var m = TestPaths.Load(path, new ModelOptions { Preprocessing = Salient.Imaging.Preprocessing.Raw, Size = (4, 4) });
        var item = m.Prepare(new Salient.Imaging.RgbImage(4, 4, new float[4 * 4 * 3]));
        var e = Assert.ThrowsAny<SalientException>(() => Explainer.Explain(m, [item, item], new ExplainRequest { Methods = ["saliency"] }));
        Assert.Contains("depends on the batch", e.Message);
    }
}
