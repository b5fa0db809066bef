using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;
using Xunit;

namespace Salient.Tests.Foundation;

/// <summary>Static shape inference against ORT's probe, tensor by tensor; and the shared-weights sessions against the old ones.</summary>
public class ShapeInferenceTests
{
    public static TheoryData<string> FixtureModels() => new()
    {
        TestPaths.SharedModel("mobilenetv2-fp32.onnx"),
        TestPaths.SharedModel("mobilenetv2-w8.onnx"),
        TestPaths.SharedModel("mobilenetv2-12-int8.onnx"),
        TestPaths.SharedModel("mnist-8.onnx"),
        TestPaths.Fixture("models", "mnv2_gap.onnx"),
        TestPaths.Fixture("models", "mnv3s_nchw.onnx"),
        TestPaths.Fixture("models", "mnv3s_nhwc.onnx"),
        TestPaths.Fixture("grad", "convnet.onnx"),
        TestPaths.Fixture("grad", "mobilenetlike.onnx"),
        TestPaths.Fixture("grad", "tinyvit.onnx"),
    };

    [Theory]
    [MemberData(nameof(FixtureModels))]
    public void Inferred_shapes_and_values_equal_the_ORT_probe(string path) => CompareWithOrt(path, batches: [1, 3]);

    private static int CompareWithOrt(string path, int[] batches)
    {
        var graph = OnnxReader.ReadFile(path);
        ConstantFolder.Fold(graph);
        var input = InputSpec.Detect(graph);
        int open = 0;
        foreach (int batch in input.DynamicBatch ? batches : [input.FixedBatch])
        {
            var shape = input.ShapeFor(batch, input.Height ?? 224, input.Width ?? 224);
            var inferred = ShapeInference.Infer(graph, input.Name, input.Type, shape);
            var ort = ShapeProbe.ProbeWithOrtOnly(graph, input.Name, input.Type, shape, TestPaths.Runtime, ShapeProbe.SmallLimit);
            int resolved = 0;
            foreach (var (name, t) in inferred)
            {
                if (graph.Initializers.ContainsKey(name) || name == input.Name) continue;
                Assert.True(ort.Shapes.TryGetValue(name, out var o), $"{name} inferred but not in the probe");
                Assert.True(Shapes.Equal(o.Dims, t.Dims), $"{Path.GetFileName(path)} batch {batch}: {name} inferred {Shapes.Format(t.Dims)}, ORT {Shapes.Format(o.Dims)}");
                Assert.True(o.Type == t.Type, $"{name}: inferred {t.Type}, ORT {o.Type}");
                if (t.Value is { } v && ort.Small.TryGetValue(name, out var ov))
                    Assert.Equal(ov.ToDoubles(), v.ToDoubles());
                resolved++;
            }
            var full = ShapeProbe.Probe(graph, input.Name, input.Type, shape, TestPaths.Runtime, ShapeProbe.SmallLimit);
            foreach (var (name, o) in ort.Shapes)
                Assert.True(full.Shapes.TryGetValue(name, out var f) && Shapes.Equal(f.Dims, o.Dims) && f.Type == o.Type, $"{name}: combined probe differs from ORT");
            foreach (var (name, o) in ort.Small)
                if (o.Type is DataType.Int64 or DataType.Int32)
                    Assert.True(full.Small.TryGetValue(name, out var f) && f.ToDoubles().SequenceEqual(o.ToDoubles()), $"{name}: shape value missing or different");
            // (the QDQ-free int8 model, QLinearConv throughout, is left to ORT entirely: resolved may be 0)
            open = full.OrtOutputs;
        }
        return open;
    }

    [Fact]
    public void Ops_with_attributes_infer_like_ORT()
    {
        // ceil-mode and SAME pooling, strided/dilated/grouped Conv, Gemm with transposes, MatMul broadcasting,
        // Transpose, Reshape with 0 and -1, Concat, Slice with negative steps, Pad, Expand, Reduce, shape arithmetic.
        var t = new Salient.Tests.Autodiff.TinyGraph(13, [2, 4, 11, 9]);
        var w = Const(t, [6, 2, 3, 3], 0.1f);
        var conv = t.Node("Conv", [t.Input, w], "conv");
        conv.Attributes["strides"] = Ints("strides", 2, 1); conv.Attributes["dilations"] = Ints("dilations", 1, 2);
        conv.Attributes["pads"] = Ints("pads", 1, 0, 1, 2); conv.Attributes["group"] = Int("group", 2);
        var pool = t.Node("MaxPool", ["conv"], "pool");
        pool.Attributes["kernel_shape"] = Ints("kernel_shape", 3, 2); pool.Attributes["strides"] = Ints("strides", 2, 2);
        pool.Attributes["ceil_mode"] = Int("ceil_mode", 1);
        var avg = t.Node("AveragePool", ["conv"], "avg");
        avg.Attributes["kernel_shape"] = Ints("kernel_shape", 3, 3); avg.Attributes["strides"] = Ints("strides", 2, 3);
        avg.Attributes["auto_pad"] = new NodeAttribute { Name = "auto_pad", Kind = AttributeKind.String, String = "SAME_UPPER" };
        var tr = t.Node("Transpose", ["pool"], "tr"); tr.Attributes["perm"] = Ints("perm", 0, 2, 3, 1);
        var shp = t.Node("Shape", ["tr"], "shp");
        var g0 = t.Node("Gather", ["shp", ConstInts(t, "i0", [], 0)], "n");
        var un = t.Node("Unsqueeze", ["n", ConstInts(t, "ax0", [1], 0)], "n1");
        var cat = t.Node("Concat", ["n1", ConstInts(t, "m1", [1], -1)], "newshape"); cat.Attributes["axis"] = Int("axis", 0);
        t.Node("Reshape", ["tr", "newshape"], "flat");
        var wg = Const(t, [7, 72], 0.2f);
        var gemm = t.Node("Gemm", ["flat", wg], "gemm"); gemm.Attributes["transB"] = Int("transB", 1);
        var sl = t.Node("Slice", ["tr", ConstInts(t, "s", [1], -1), ConstInts(t, "e", [1], -100), ConstInts(t, "a", [1], 1), ConstInts(t, "st", [1], -2)], "sl");
        var pad = t.Node("Pad", ["avg", ConstInts(t, "pads", [8], 0, 0, 1, 2, 0, 1, 0, 3)], "pad");
        var mm = t.Node("MatMul", ["pad", Const(t, [8, 4], 0.3f)], "mm");
        var red = t.Node("ReduceMean", ["mm"], "red"); red.Attributes["axes"] = Ints("axes", 1, -1); red.Attributes["keepdims"] = Int("keepdims", 0);
        t.Node("Expand", ["red", ConstInts(t, "es", [3], 3, 1, 1)], "ex");
        t.G.Outputs.Add(new ValueInfo("gemm", DataType.Float, null));
        t.G.Outputs.Add(new ValueInfo("sl", DataType.Float, null));
        t.G.Outputs.Add(new ValueInfo("ex", DataType.Float, null));
        t.G.SortTopologically();
        var inferred = ShapeInference.Infer(t.G, t.Input, DataType.Float, t.InputShape);
        var ort = ShapeProbe.ProbeWithOrtOnly(t.G, t.Input, DataType.Float, t.InputShape, TestPaths.Runtime, ShapeProbe.SmallLimit);
        foreach (var name in new[] { "conv", "pool", "avg", "tr", "shp", "n", "n1", "newshape", "flat", "gemm", "sl", "pad", "mm", "red", "ex" })
        {
            Assert.True(inferred.TryGetValue(name, out var i), $"{name} not inferred");
            Assert.True(Shapes.Equal(ort.Shapes[name].Dims, i.Dims), $"{name}: inferred {Shapes.Format(i.Dims)}, ORT {Shapes.Format(ort.Shapes[name].Dims)}");
        }
        Assert.Equal(ort.Small["newshape"].ToDoubles(), inferred["newshape"].Value!.ToDoubles());
    }

    [Fact]
    public void The_ORT_probe_runs_only_the_nodes_that_the_open_tensors_need()
    {
        // A chain static inference resolves (three Convs) and a side branch it does not know (TopK):
        // ORT must run the TopK alone, not the Convs.
        var t = new Salient.Tests.Autodiff.TinyGraph(13, [1, 3, 8, 8]);
        string x = t.Input;
        for (int i = 0; i < 3; i++) x = t.Op("Conv", x, Const(t, [3, 3, 1, 1], 0.5f));
        var topk = t.MultiOut("TopK", [t.Input, ConstInts(t, "k", [1], 3)], 2);
        t.G.Outputs.Add(new ValueInfo(topk.Outputs[0], DataType.Float, null));
        t.Done(x);
        var probe = ShapeProbe.Probe(t.G, t.Input, DataType.Float, t.InputShape, TestPaths.Runtime);
        Assert.Equal(2, probe.OrtOutputs);
        Assert.Equal(1, probe.OrtNodes);
        Assert.Equal([1L, 3, 8, 3], probe.Shapes[topk.Outputs[0]].Dims);
        Assert.Equal(DataType.Int64, probe.Shapes[topk.Outputs[1]].Type);
        Assert.Equal([1L, 3, 8, 8], probe.Shapes["y"].Dims);
        Assert.Equal(5, t.G.Nodes.Count);   // the model itself is left whole (3 Conv, TopK, Identity)
    }

    [Fact]
    public void Resize_by_scales_and_by_sizes_infers_like_ORT()
    {
        var t = new Salient.Tests.Autodiff.TinyGraph(13, [2, 3, 11, 9]);
        t.G.Initializers["roi"] = new Tensor("roi", DataType.Float, [0], Array.Empty<float>());
        t.G.Initializers["scales"] = new Tensor("scales", DataType.Float, [4], new float[] { 1f, 1f, 2.5f, 1.7f });
        var up = t.Node("Resize", [t.Input, "roi", "scales"], "up");
        up.Attributes["mode"] = new NodeAttribute { Name = "mode", Kind = AttributeKind.String, String = "linear" };
        t.G.Initializers["noscales"] = new Tensor("noscales", DataType.Float, [0], Array.Empty<float>());
        t.Node("Resize", ["up", "roi", "noscales", ConstInts(t, "sizes", [4], 2, 3, 7, 5)], "down");
        t.G.Outputs.Add(new ValueInfo("down", DataType.Float, null));
        t.G.SortTopologically();
        var inferred = ShapeInference.Infer(t.G, t.Input, DataType.Float, t.InputShape);
        var ort = ShapeProbe.ProbeWithOrtOnly(t.G, t.Input, DataType.Float, t.InputShape, TestPaths.Runtime, ShapeProbe.SmallLimit);
        foreach (var name in new[] { "up", "down" })
        {
            Assert.True(inferred.TryGetValue(name, out var i), $"{name} not inferred");
            Assert.True(Shapes.Equal(ort.Shapes[name].Dims, i.Dims), $"{name}: inferred {Shapes.Format(i.Dims)}, ORT {Shapes.Format(ort.Shapes[name].Dims)}");
        }
    }

    private static string Const(Salient.Tests.Autodiff.TinyGraph t, long[] dims, float v) =>
        t.Floats(dims, Enumerable.Repeat(v, (int)Tensor.ElementCount(dims)).ToArray());

    private static string ConstInts(Salient.Tests.Autodiff.TinyGraph t, string name, long[] dims, params long[] v)
    {
        t.G.Initializers[name] = new Tensor(name, DataType.Int64, dims, v);
        return name;
    }

    private static NodeAttribute Ints(string name, params long[] v) => new() { Name = name, Kind = AttributeKind.Ints, Ints = v };
    private static NodeAttribute Int(string name, long v) => new() { Name = name, Kind = AttributeKind.Int, Int = v };

    [Fact]
    public void Sessions_sharing_the_weights_give_the_outputs_of_the_old_sessions()
    {
        using var model = TestPaths.LoadDefault();
        var item = model.Prepare(model.LoadImage(TestPaths.SharedImage("both.png")));
        var structure = model.Structure();
        var wanted = new[] { structure.LogitsName, structure.DefaultLayer! };
        var shared = model.Session(wanted).Run([model.Pack([item])], wanted);
        var g = model.Graph.Clone();
        foreach (var e in wanted) if (!g.IsGraphOutput(e)) g.Outputs.Add(new ValueInfo(e, DataType.Undefined, null));
        using var plain = new GraphSession(g, model.Runtime);
        var old = plain.Run([model.Pack([item])], wanted);
        foreach (var name in wanted) Assert.Equal(old[name].Data, shared[name].Data);
        Assert.Contains(model.Graph.Initializers.Values, t => t.Source is not null);   // big weights came straight from the file
    }
}
