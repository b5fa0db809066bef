using Salient.Imaging;
using Salient.Models;
using Salient.Onnx;
using Xunit;

namespace Salient.Tests.Foundation;

public class ModelLoadingTests : IClassFixture<MobileNetFixture>
{
    private readonly MobileNetFixture _f;
    public ModelLoadingTests(MobileNetFixture f) => _f = f;

    [Fact]
    public void W8_model_folds_to_the_same_graph_as_fp32()
    {
        Assert.DoesNotContain(_f.W8.Graph.Nodes, n => n.OpType == "DequantizeLinear");
        var ops32 = _f.Fp32.Graph.Nodes.Select(n => n.OpType).ToList();
        var ops8 = _f.W8.Graph.Nodes.Select(n => n.OpType).ToList();
        Assert.Equal(ops32, ops8);
        Assert.Equal(52, ops32.Count(o => o == "Conv"));
        // Same layer table (names, shapes) and the same number of float parameters.
        var l32 = _f.Fp32.Structure().Layers.Select(l => (l.Name, Shapes.Format(l.Shape))).ToList();
        var l8 = _f.W8.Structure().Layers.Select(l => (l.Name, Shapes.Format(l.Shape))).ToList();
        Assert.Equal(l32, l8);
    }

    [Fact]
    public void Input_is_detected()
    {
        var i = _f.Fp32.Input;
        Assert.Equal("input", i.Name);
        Assert.Equal(TensorLayout.Nchw, i.Layout);
        Assert.Equal(3, i.Channels);
        Assert.Equal(224, i.Height);
        Assert.Equal(224, i.Width);
        Assert.True(i.DynamicBatch);
        Assert.Equal(DataType.Float, i.Type);
    }

    [Fact]
    public void Default_layer_of_mobilenetv2_is_features_18()
    {
        var s = _f.Fp32.Structure();
        Assert.Equal("features.18", s.DefaultLayer);
        var l = s.ResolveLayer("auto");
        Assert.Equal(new long[] { 1, 1280, 7, 7 }, l.Shape);
        Assert.True(l.IsCandidate);
        Assert.Equal("logits", s.LogitsName);
        Assert.False(s.EndsInSoftmax);
        Assert.Equal(1000, s.ClassCount);
    }

    [Fact]
    public void Parameter_count_matches_mobilenetv2()
    {
        // Expected value computed independently from the conv/gemm weight and bias shapes (BatchNorm
        // is folded into the convs in this export); Clip bounds are scalars, not parameters.
        long expected = 0;
        foreach (var n in _f.Fp32.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm"))
            expected += _f.Fp32.Graph.Initializers[n.Inputs[1]].Length + (n.HasInput(2) ? _f.Fp32.Graph.Initializers[n.Inputs[2]].Length : 0);
        long total = ModelStructure.TotalParameters(_f.Fp32.Graph);
        Assert.Equal(expected, total);
        Assert.Equal(total, _f.Fp32.Structure().Layers.Sum(l => l.Parameters));
        Assert.InRange(total, 3_400_000, 3_510_000);
    }

    [Fact]
    public void Layer_selection_by_exact_name_substring_and_suggestions()
    {
        var s = _f.Fp32.Structure();
        Assert.Equal("features.18", s.ResolveLayer("features.18").Name);
        Assert.Equal("features.3", s.ResolveLayer("features.3").Name); // exact beats substrings like features.3.conv.0
        var e = Assert.Throws<SalientException>(() => s.ResolveLayer("featurs.18"));
        Assert.Contains("features.18", e.Message);
        Assert.Contains("unknown layer", e.Message);
        var amb = Assert.Throws<SalientException>(() => s.ResolveLayer("features.1"));
        Assert.Contains("ambiguous", amb.Message);
        // A unique substring works.
        var pool = s.ResolveLayer("poo");
        Assert.Equal("pool", pool.Name);
    }

    [Fact]
    public void Mnist8_opset8_loads_and_its_default_layer_is_the_last_conv_block()
    {
        using var m = TestPaths.Load(TestPaths.SharedModel("mnist-8.onnx"));
        Assert.Equal(8, m.Graph.DefaultOpset);
        var s = m.Structure();
        Assert.Equal("Pooling160_Output_0", s.DefaultLayer);
        Assert.Equal(new long[] { 1, 16, 4, 4 }, s.ResolveLayer("auto").Shape);
        Assert.Equal(1, m.Input.Channels);
        Assert.False(m.Input.DynamicBatch);
        Assert.Equal(10, s.ClassCount);
    }

    [Fact]
    public void Dynamic_spatial_size_is_probed_for_the_requested_size()
    {
        using var m = TestPaths.Load(TestPaths.Fixture("models", "mnv3s_nchw.onnx"), new ModelOptions { Size = (80, 64) });
        Assert.Null(m.Input.Height);
        var s = m.Structure();
        Assert.Equal(new long[] { 1, 3, 64, 80 }, s.Shapes["input"].Dims);
        var layer = s.ResolveLayer("auto");
        Assert.Equal((2, 3), layer.Spatial); // /32 with ceil: 64→2, 80→3
        var other = m.Structure(128, 128).ResolveLayer("auto");
        Assert.Equal((4, 4), other.Spatial);
    }

    [Fact]
    public void Nhwc_export_is_detected_and_predicts_like_the_nchw_export()
    {
        using var nchw = TestPaths.Load(TestPaths.Fixture("models", "mnv3s_nchw.onnx"), new ModelOptions { Size = (64, 64) });
        using var nhwc = TestPaths.Load(TestPaths.Fixture("models", "mnv3s_nhwc.onnx"), new ModelOptions { Size = (64, 64) });
        Assert.Equal(TensorLayout.Nchw, nchw.Input.Layout);
        Assert.Equal(TensorLayout.Nhwc, nhwc.Input.Layout);
        Assert.Equal(3, nhwc.Input.Channels);
        // Same photo through the whole pipeline (decode, resize, normalize, layout) → same logits.
        var img = ImageLoader.Load(TestPaths.SharedImage("dogs.png"));
        var a = nchw.Predict(img, 10);
        var b = nhwc.Predict(img, 10);
        Assert.Equal(a.Select(p => p.ClassIndex), b.Select(p => p.ClassIndex));
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].Logit, b[i].Logit, 4);
        // And both equal PyTorch on the fixture's formula input.
        var expected = System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("models", "mnv3s_expected.json"))).RootElement;
        var want = TestPaths.Floats(expected.GetProperty("logits"));
        var x = TestPaths.FormulaInput(3 * 64 * 64);
        var xh = new float[x.Length];
        for (int c = 0; c < 3; c++) for (int y = 0; y < 64; y++) for (int w = 0; w < 64; w++) xh[(y * 64 + w) * 3 + c] = x[(c * 64 + y) * 64 + w];
        var g1 = nchw.Session([]).Run([new Runtime.InputValue("input", [1, 3, 64, 64], x)]);
        var g2 = nhwc.Session([]).Run([new Runtime.InputValue("input", [1, 64, 64, 3], xh)]);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(want[i], g1["logits"].Data[i], 4);
            Assert.Equal(want[i], g2["logits"].Data[i], 4);
        }
    }

    [Fact]
    public void Sidecar_gives_preprocessing_resize_size_and_labels()
    {
        using var m = TestPaths.Load(TestPaths.Fixture("models", "mnv2_gap.onnx"));
        Assert.NotNull(m.Sidecar);
        Assert.Equal("raw", m.Preprocessing.Name);
        Assert.Equal(ResizeMode.Stretch, m.Resize);
        Assert.Equal((96, 96), m.InputSize);
        Assert.Equal("three", m.ClassName(3));
    }

    [Fact]
    public void Corrupt_models_fail_with_clear_messages()
    {
        var dir = Directory.CreateTempSubdirectory("salient-test").FullName;
        var bytes = File.ReadAllBytes(TestPaths.SharedModel("mnist-8.onnx"));
        var truncated = Path.Combine(dir, "truncated.onnx");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var e1 = Assert.Throws<SalientException>(() => TestPaths.Load(truncated));
        Assert.Contains("truncated.onnx", e1.Message);
        var random = Path.Combine(dir, "random.onnx");
        var rnd = new byte[5000];
        new Random(1).NextBytes(rnd);
        File.WriteAllBytes(random, rnd);
        var e2 = Assert.Throws<SalientException>(() => TestPaths.Load(random));
        Assert.Contains("not a valid ONNX model", e2.Message);
        var e3 = Assert.Throws<SalientException>(() => TestPaths.Load(Path.Combine(dir, "missing.onnx")));
        Assert.Contains("not found", e3.Message);
    }
}
