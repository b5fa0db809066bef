using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Onnx;
using Xunit;

namespace Salient.Tests.Foundation;

/// <summary>
/// A tf2onnx-style graph: NHWC input, Transpose to NCHW around the Conv, the feature map back in
/// NHWC, global pooling as ReduceMean over axes 1,2 and a MatMul head — what Keras exports look like.
/// </summary>
public class NhwcGraphTests
{
    private static string BuildModel(out float[] w, out float[] convW)
    {
        var rng = new Random(3);
        var g = new Graph { IrVersion = 8 };
        g.Opsets[""] = 13;
        g.Inputs.Add(new ValueInfo("image", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(8), Dim.Fixed(8), Dim.Fixed(3)]));
        g.Outputs.Add(new ValueInfo("scores", DataType.Float, null));
        convW = Enumerable.Range(0, 4 * 3 * 3 * 3).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        w = Enumerable.Range(0, 4 * 5).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        g.Initializers["conv_w"] = Tensor.FromFloats("conv_w", [4, 3, 3, 3], convW);
        g.Initializers["dense_w"] = Tensor.FromFloats("dense_w", [4, 5], w);
        g.Initializers["dense_b"] = Tensor.FromFloats("dense_b", [5], [0.1f, -0.2f, 0.3f, 0f, 0.05f]);
        g.Initializers["axes"] = Tensor.Vector("axes", 1, 2);
        g.Nodes.Add(new Node("Transpose", ["image"], ["to_nchw"], "t1").Set("perm", new long[] { 0, 3, 1, 2 }));
        g.Nodes.Add(new Node("Conv", ["to_nchw", "conv_w"], ["conv"], "block1_conv").Set("pads", new long[] { 1, 1, 1, 1 }));
        g.Nodes.Add(new Node("Relu", ["conv"], ["relu"], "block1_relu"));
        g.Nodes.Add(new Node("Transpose", ["relu"], ["block1_conv_act"], "t2").Set("perm", new long[] { 0, 2, 3, 1 }));
        g.Nodes.Add(new Node("ReduceMean", ["block1_conv_act"], ["gap"], "gap").Set("axes", new long[] { 1, 2 }).Set("keepdims", 0L));
        g.Nodes.Add(new Node("MatMul", ["gap", "dense_w"], ["mm"], "dense"));
        g.Nodes.Add(new Node("Add", ["mm", "dense_b"], ["scores"], "dense_bias"));
        g.Initializers.Remove("axes");
        var path = Path.Combine(Directory.CreateTempSubdirectory("salient-nhwc").FullName, "keraslike.onnx");
        OnnxWriter.WriteFile(g, path);
        return path;
    }

    [Fact]
    public void Nhwc_feature_maps_are_found_and_cam_gradcam_agree_with_hand_computation()
    {
        var path = BuildModel(out var w, out _);
        using var m = TestPaths.Load(path, new ModelOptions { Preprocessing = Preprocessing.Tf });
        Assert.Equal(TensorLayout.Nhwc, m.Input.Layout);
        var s = m.Structure();
        Assert.Equal("block1_conv_act", s.DefaultLayer);
        var layer = s.ResolveLayer("auto");
        Assert.Equal(TensorLayout.Nhwc, layer.Layout);
        Assert.Equal((8, 8), layer.Spatial);
        Assert.Equal(4, layer.Channels);

        var img = new RgbImage(8, 8, Enumerable.Range(0, 8 * 8 * 3).Select(i => (float)((i * 37) % 256)).ToArray());
        var prepared = m.Prepare(img);
        var act = m.Run([prepared], "block1_conv_act")["block1_conv_act"]; // [1,8,8,4] NHWC
        var r = m.Explain(img, new ExplainRequest { Methods = ["cam", "gradcam"], Classes = ["2"] });
        var cam = r.Explanations.Single(e => e.Method == "cam");
        var gradcam = r.Explanations.Single(e => e.Method == "gradcam");
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++)
            {
                double want = 0;
                for (int k = 0; k < 4; k++) want += w[k * 5 + 2] * act.Data[(y * 8 + x) * 4 + k];
                Assert.Equal(want, cam.RawMap[y * 8 + x], 4);
                Assert.Equal(Math.Max(0, want) / 64, gradcam.RawMap[y * 8 + x], 4);
            }
    }
}
