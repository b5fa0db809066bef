using Microsoft.ML.OnnxRuntime;
using Salient.Export;
using Salient.Models;
using Salient.Onnx;
using Salient.Tests.Autodiff;
using Xunit;

namespace Salient.Tests.Export;

/// <summary>OpsetLift: each rewritten op, run by ORT at its old opset and lifted to 18, gives the same values; refused ops name the opset to re-export at.</summary>
public class OpsetLiftTests
{
    private static readonly long[] Shape = [2, 3, 4, 5];

    private static float[] Run(Graph g)
    {
        using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(OnnxWriter.ToBytes(g), so);
        var x = Enumerable.Range(0, (int)Tensor.ElementCount(Shape)).Select(i => (float)Math.Sin(0.7 * i) * 3).ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(x, Shape);
        using var r = session.Run(new RunOptions(), ["x"], [input], ["y"]);
        return r[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static void AssertLiftKeepsValues(Graph g, Dictionary<string, TensorShape>? shapes = null)
    {
        var lifted = OpsetLift.Lift(g, shapes ?? new Dictionary<string, TensorShape>());
        Assert.Equal(18, lifted.DefaultOpset);
        var (a, b) = (Run(g), Run(lifted));
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(a[i] - b[i]) <= 1e-6f * Math.Max(1f, Math.Abs(a[i])), $"{g.Nodes[0].OpType}: element {i}: {a[i]} vs {b[i]}");
    }

    [Fact]
    public void Reduce_axes_attribute_becomes_an_input()
    {
        foreach (var op in new[] { "ReduceMean", "ReduceMax", "ReduceSum", "ReduceL2" })
        {
            var t = new TinyGraph(11, Shape);
            string y = t.Node(op, ["x"]).Set("axes", new long[] { 2, 3 }).Set("keepdims", 1L).Outputs[0];
            AssertLiftKeepsValues(t.Done(y));
        }
    }

    [Fact]
    public void Clip_bounds_squeeze_unsqueeze_split_and_dropout_are_rewritten()
    {
        var t = new TinyGraph(9, Shape);
        string clipped = t.Node("Clip", ["x"]).Set("min", -1f).Set("max", 2f).Outputs[0];
        string u = t.Node("Unsqueeze", [clipped]).Set("axes", new long[] { 0 }).Outputs[0];
        string sq = t.Node("Squeeze", [u]).Set("axes", new long[] { 0 }).Outputs[0];
        var split = t.MultiOut("Split", [sq], 2).Set("axis", 3L).Set("split", new long[] { 2, 3 });
        var even = t.MultiOut("Split", [sq], 2).Set("axis", 2L);
        string d = t.Node("Dropout", [split.Outputs[1]]).Set("ratio", 0.5f).Outputs[0];
        string s1 = t.Node("ReduceSum", [d]).Set("axes", new long[] { 3 }).Outputs[0];
        string s2 = t.Node("ReduceSum", [even.Outputs[1]]).Set("axes", new long[] { 2 }).Outputs[0];
        string total = t.Op("Add", t.Node("ReduceSum", [s1]).Set("axes", new long[] { 2 }).Outputs[0], t.Node("ReduceSum", [s2]).Set("axes", new long[] { 2 }).Outputs[0]);
        AssertLiftKeepsValues(t.Done(t.Op("Add", total, t.Node("ReduceSum", [split.Outputs[0]]).Set("axes", new long[] { 2, 3 }).Outputs[0])));
    }

    [Fact]
    public void Softmax_before_13_is_kept_on_the_last_axis_and_refused_elsewhere()
    {
        var t = new TinyGraph(11, Shape);
        string y = t.Node("Softmax", ["x"]).Set("axis", 3L).Outputs[0];
        AssertLiftKeepsValues(t.Done(y), new() { ["x"] = new TensorShape(DataType.Float, Shape) });
        var t2 = new TinyGraph(11, Shape);
        string y2 = t2.Op("Softmax", "x");   // default axis 1: softmax over the flattened C×H×W
        var e = Assert.Throws<SalientException>(() => OpsetLift.Lift(t2.Done(y2), new Dictionary<string, TensorShape> { ["x"] = new(DataType.Float, Shape) }));
        Assert.Contains("opset ≥ 13", e.Message);
    }

    [Fact]
    public void Ops_whose_old_meaning_cannot_be_lifted_are_refused()
    {
        var t = new TinyGraph(9, Shape);
        string y = t.Node("Upsample", ["x", t.Floats([4], [1, 1, 2, 2])]).Set("mode", "nearest").Outputs[0];
        Assert.Contains("Upsample", Assert.Throws<SalientException>(() => OpsetLift.Lift(t.Done(y), new Dictionary<string, TensorShape>())).Message);
        var p = new TinyGraph(9, Shape);
        string py = p.Node("Pad", ["x"]).Set("pads", new long[] { 0, 0, 1, 1, 0, 0, 1, 1 }).Outputs[0];
        Assert.Contains("opset ≥ 11", Assert.Throws<SalientException>(() => OpsetLift.Lift(p.Done(py), new Dictionary<string, TensorShape>())).Message);
    }
}
