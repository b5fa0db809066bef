using Salient.Imaging;
using Salient.Models;
using Salient.Onnx;
using Xunit;

namespace Salient.Tests.Hardening;

/// <summary>A model whose shapes explode (as a mutated shape constant makes them) is refused in one line before ONNX Runtime allocates anything.</summary>
public class ExplodingShapeTests
{
    [Fact]
    public void A_model_needing_more_activation_memory_than_the_limit_is_refused_before_running()
    {
        // input [N,3,8,8] → Expand to [N,3,50000,50000] (30 G elements, 120 GB) → ReduceMean → logits [N,3]
        var g = new Graph { Name = "explode", IrVersion = 8 };
        g.Opsets[""] = 13;
        g.Inputs.Add(new ValueInfo("input", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(3), Dim.Fixed(8), Dim.Fixed(8)]));
        g.Initializers["big"] = Tensor.FromInt64s("big", [4], [1, 3, 50_000, 50_000]);
        g.Nodes.Add(new Node("Slice", ["input", "s0", "s1", "ax"], ["pixel"], "corner"));
        g.Initializers["s0"] = Tensor.FromInt64s("s0", [2], [0, 0]);
        g.Initializers["s1"] = Tensor.FromInt64s("s1", [2], [1, 1]);
        g.Initializers["ax"] = Tensor.FromInt64s("ax", [2], [2, 3]);
        g.Nodes.Add(new Node("Expand", ["pixel", "big"], ["huge"], "expand"));
        g.Nodes.Add(new Node("ReduceMean", ["huge"], ["logits"], "mean").Set("axes", new long[] { 2, 3 }).Set("keepdims", 0L));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(3)]));
        var dir = Directory.CreateTempSubdirectory("salient-explode").FullName;
        var path = Path.Combine(dir, "explode.onnx");
        OnnxWriter.WriteFile(g, path);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.ThrowsAny<SalientException>(() => SalientModel.Load(path, new ModelOptions { Preprocessing = Preprocessing.Raw, Runtime = TestPaths.Runtime }));
        Assert.Contains("GB of activations", e.Message);
        Assert.Contains("'huge'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }
}
