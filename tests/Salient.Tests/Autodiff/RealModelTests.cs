using Salient.Autodiff;
using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Autodiff;

/// <summary>MobileNetV2 (fp32) and mnist-8 loaded once for the real-model gradient tests.</summary>
public sealed class RealModelsFixture : IDisposable
{
    public RealModelsFixture()
    {
        MobileNet = Load("mobilenetv2-fp32.onnx");
        Mnist = Load("mnist-8.onnx");
        MobileNetEngine = new GradientEngine(MobileNet.Graph, MobileNet.Spec, GradCheck.Options);
        MnistEngine = new GradientEngine(Mnist.Graph, Mnist.Spec, GradCheck.Options);
    }

    internal (Graph Graph, InputSpec Spec) MobileNet { get; }
    internal (Graph Graph, InputSpec Spec) Mnist { get; }
    public GradientEngine MobileNetEngine { get; }
    public GradientEngine MnistEngine { get; }

    private static (Graph, InputSpec) Load(string file)
    {
        var g = OnnxReader.ReadFile(TestPaths.SharedModel(file));
        ConstantFolder.Fold(g);
        return (g, InputSpec.Detect(g));
    }

    public void Dispose()
    {
        MobileNetEngine.Dispose();
        MnistEngine.Dispose();
    }
}

/// <summary>
/// The engine on the real models. MobileNetV2 is checked against float32 finite differences at
/// single pixels and along one dense direction: the network is piecewise linear (ReLU6 kinks), so
/// a large ε crosses kinks and a small ε drowns in float32 rounding of a 100-layer forward (the
/// logit changes by only ~1e-4); ε = 1e-3 per pixel is the sweet spot and agrees to a few percent
/// of max|grad| (measured ≤ 4.2% here; tolerance 8% since other CPUs' kernels round differently). The directional check perturbs every pixel by
/// ±3e-5 along sign(grad), which moves the logit by ~0.02 (well above rounding) while crossing
/// almost no kink: it agrees to ~0.3% (tolerance 2%).
/// </summary>
public class RealModelTests : IClassFixture<RealModelsFixture>
{
    private readonly RealModelsFixture _f;

    public RealModelTests(RealModelsFixture f) => _f = f;

    /// <summary>A smooth, image-like input in the normalized range.</summary>
    internal static float[] SmoothImage(int c, int h, int w)
    {
        var x = new float[c * h * w];
        for (int k = 0; k < c; k++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                    x[(k * h + i) * w + j] = (float)(1.2 * Math.Sin(i / 17.0 + k) * Math.Cos(j / 23.0 - k) + 0.3 * Math.Sin((i + 2 * j) / 5.0));
        return x;
    }

    private static readonly long[] MobileNetShape = [1, 3, 224, 224];

    [Fact]
    public void MobileNetV2_input_gradient_matches_finite_differences()
    {
        var (g, _) = _f.MobileNet;
        var x = SmoothImage(3, 224, 224);
        int cls = -1;
        var req = new GradientRequest { ScoreTensor = "logits", Wrt = ["input"] };
        var r = _f.MobileNetEngine.Run(new InputValue("input", MobileNetShape, x), req,
            s => Seeds.ClassLogit([cls = Statistics.ArgMax(s.Data)], 1000));
        var grad = r.Gradients["input"].Data;
        Assert.Equal(MobileNetShape, r.Gradients["input"].Shape);
        Assert.Equal(g.Nodes.Count, _f.MobileNetEngine.Build(req, MobileNetShape).DifferentiatedNodeCount);

        using var session = new GraphSession(g, GradCheck.Options);
        double F(float[] v) => session.Run([new InputValue("input", MobileNetShape, v)], ["logits"])["logits"].Data[cls];
        var order = Enumerable.Range(0, grad.Length).OrderByDescending(i => Math.Abs(grad[i])).ToArray();
        double max = Math.Abs(grad[order[0]]);
        const float eps = 1e-3f;
        foreach (var i in order.Take(6).Append(order[1000]).Append(order[20000]))
        {
            var xp = (float[])x.Clone();
            xp[i] = x[i] + eps;
            double fp = F(xp);
            xp[i] = x[i] - eps;
            double fd = (fp - F(xp)) / (2 * eps);
            Assert.True(Math.Abs(fd - grad[i]) <= 0.08 * max, $"pixel {i}: fd {fd:g5} vs grad {grad[i]:g5} (max|grad| {max:g4})");
        }
        const float step = 3e-5f;
        double along = grad.Sum(v => (double)Math.Abs(v));
        double fdAlong = (F(x.Select((v, i) => v + step * Math.Sign(grad[i])).ToArray()) - F(x.Select((v, i) => v - step * Math.Sign(grad[i])).ToArray())) / (2 * step);
        Assert.True(Math.Abs(fdAlong - along) <= 0.02 * along, $"directional derivative: fd {fdAlong:g6} vs grad·d {along:g6}");
    }

    [Fact]
    public void MobileNetV2_layer_gradient_prunes_to_the_head_and_equals_the_classifier_row()
    {
        var (g, _) = _f.MobileNet;
        var req = new GradientRequest { ScoreTensor = "logits", Wrt = ["features.18"] };
        var p = _f.MobileNetEngine.Build(req, MobileNetShape);
        Assert.Equal(["GlobalAveragePool", "Flatten", "Gemm"], p.DifferentiatedOps);
        Assert.DoesNotContain(p.BackwardGraph.Nodes, n => n.OpType is "ConvTranspose" or "Conv" or "Where");
        Assert.True(p.BackwardGraph.Nodes.Count <= 6, $"{p.BackwardGraph.Nodes.Count} backward nodes");
        Assert.True(p.BuildTime.TotalMilliseconds < 1000);
        // d logit_c / d A[k, y, x] = W[c, k] / 49 (GAP over 7×7, then Gemm with transB=1).
        var r = _f.MobileNetEngine.Run(new InputValue("input", MobileNetShape, SmoothImage(3, 224, 224)), req, _ => Seeds.ClassLogit([243], 1000));
        var w = g.Initializers["classifier.1.weight"].ToFloats();
        var grad = r.Gradients["features.18"];
        Assert.Equal(new long[] { 1, 1280, 7, 7 }, grad.Shape);
        for (int k = 0; k < 1280; k += 37)
            for (int pos = 0; pos < 49; pos += 5)
                Assert.Equal(w[243 * 1280 + k] / 49f, grad.Data[k * 49 + pos], 6);
        Assert.Equal(new long[] { 1, 1280, 7, 7 }, r.Forward["features.18"].Shape);
        Assert.Equal(1000, r.Forward["logits"].Data.Length);
    }

    [Fact]
    public void MobileNetV2_batch_with_per_item_classes_equals_single_runs()
    {
        var a = SmoothImage(3, 224, 224);
        var b = a.Select((v, i) => 0.8f * v + 0.1f * MathF.Sin(i * 0.01f)).ToArray();
        var req = new GradientRequest { ScoreTensor = "logits", Wrt = ["input", "features.14.conv.1"], AlsoFetch = ["features.10.conv.2"] };
        var batch = _f.MobileNetEngine.Run(new InputValue("input", [2, 3, 224, 224], [.. a, .. b]), req, _ => Seeds.ClassLogit([281, 7], 1000));
        Assert.Equal(new long[] { 2, 64, 14, 14 }, batch.Forward["features.10.conv.2"].Shape);
        foreach (var (img, cls, item) in new[] { (a, 281, 0), (b, 7, 1) })
        {
            var single = _f.MobileNetEngine.Run(new InputValue("input", MobileNetShape, img), req, _ => Seeds.ClassLogit([cls], 1000));
            foreach (var w in req.Wrt)
            {
                var s = single.Gradients[w].Data;
                var part = batch.Gradients[w].Data.AsSpan(item * s.Length, s.Length).ToArray();
                double max = s.Max(v => Math.Abs((double)v));
                for (int i = 0; i < s.Length; i++) Assert.True(Math.Abs(s[i] - part[i]) <= 1e-4 * max, $"{w}[{i}]");
            }
        }
    }

    [Fact]
    public void Mnist8_opset8_input_gradient_matches_finite_differences_everywhere()
    {
        var (g, spec) = _f.Mnist;
        long[] shape = [1, 1, 28, 28];
        var x = SmoothImage(1, 28, 28).Select(v => (v + 1.5f) * 80f).ToArray();
        string logits = g.Outputs[0].Name;
        int cls = -1;
        var r = _f.MnistEngine.Run(new InputValue(spec.Name, shape, x), new GradientRequest { ScoreTensor = logits, Wrt = [spec.Name] },
            s => Seeds.ClassLogit([cls = Statistics.ArgMax(s.Data)], 10));
        var grad = r.Gradients[spec.Name].Data;
        using var session = new GraphSession(g, GradCheck.Options);
        double F(float[] v) => session.Run([new InputValue(spec.Name, shape, v)])[logits].Data[cls];
        double max = grad.Max(v => Math.Abs((double)v));
        const float eps = 1e-2f;
        var xp = (float[])x.Clone();
        for (int i = 0; i < 784; i++)
        {
            xp[i] = x[i] + eps;
            double fp = F(xp);
            xp[i] = x[i] - eps;
            double fd = (fp - F(xp)) / (2 * eps);
            xp[i] = x[i];
            Assert.True(Math.Abs(fd - grad[i]) <= 0.03 * max, $"pixel {i}: fd {fd:g5} vs grad {grad[i]:g5} (max|grad| {max:g4})");
        }
    }

    [Fact]
    public void Mnist8_maxpool_indices_are_added_only_on_the_path()
    {
        var (g, spec) = _f.Mnist;
        string logits = g.Outputs[0].Name;
        int OutputsOf(BackwardProgram p, string node) => p.ForwardGraph.Nodes.Single(n => n.Name == node).Outputs.Count(o => o != "");
        var fromInput = _f.MnistEngine.Build(new GradientRequest { ScoreTensor = logits, Wrt = [spec.Name] }, [1, 1, 28, 28]);
        Assert.Equal(2, OutputsOf(fromInput, "Pooling66"));
        Assert.Equal(2, OutputsOf(fromInput, "Pooling160"));
        var fromMiddle = _f.MnistEngine.Build(new GradientRequest { ScoreTensor = logits, Wrt = ["Pooling66_Output_0"] }, [1, 1, 28, 28]);
        Assert.Equal(1, OutputsOf(fromMiddle, "Pooling66"));
        Assert.Equal(2, OutputsOf(fromMiddle, "Pooling160"));
        Assert.DoesNotContain("Conv", fromMiddle.DifferentiatedNodes.Take(0));
        Assert.Equal(["Conv", "Add", "Relu", "MaxPool", "Reshape", "MatMul", "Add"], fromMiddle.DifferentiatedOps);
        // The model graph itself is untouched.
        Assert.Single(g.Nodes.Single(n => n.Name == "Pooling66").Outputs);
    }
}
