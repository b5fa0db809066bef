using System.Text.Json;
using Salient.Autodiff;
using Salient.Models;
using Salient.Onnx;
using Salient.Rendering;
using Salient.Runtime;
using Xunit;

namespace Salient.Tests.Autodiff;

/// <summary>
/// The engine against PyTorch autograd (fixtures written by tools/make_grad_fixtures.py): input and
/// inner-layer gradients of Σ seed ⊙ logits, standard and guided ReLU rules, relative error
/// ≤ 1e-4 of max |grad|.
/// </summary>
public class TorchFixtureTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string, string> Cases()
    {
        var d = new TheoryData<string, string>();
        foreach (var f in Index().GetProperty("fixtures").EnumerateArray())
        {
            string name = f.GetProperty("name").GetString()!;
            d.Add(name, "standard");
            if (f.GetProperty("arrays").TryGetProperty("grad_input_guided", out _)) d.Add(name, "guided");
        }
        return d;
    }

    private static JsonElement Index() =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("grad", "grad_fixtures.json"))).RootElement;

    private static (float[] Data, long[] Shape) Array(JsonElement f, string key)
    {
        var (data, shape) = Npy.Read(TestPaths.Fixture("grad", f.GetProperty("arrays").GetProperty(key).GetProperty("file").GetString()!));
        return (data, shape.Select(s => (long)s).ToArray());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_match_pytorch_autograd(string name, string rule)
    {
        var f = Index().GetProperty("fixtures").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var graph = OnnxReader.ReadFile(TestPaths.Fixture("grad", f.GetProperty("model").GetString()!));
        ConstantFolder.Fold(graph);
        var spec = InputSpec.Detect(graph);
        var (x, xShape) = Array(f, "x");
        var (seed, _) = Array(f, "seed");
        using var engine = new GradientEngine(graph, spec, GradCheck.Options);
        string input = f.GetProperty("input").GetString()!, inner = f.GetProperty("inner").GetString()!;
        var request = new GradientRequest
        {
            ScoreTensor = f.GetProperty("score").GetString()!,
            Wrt = [input, inner],
            Relu = rule == "guided" ? ReluMode.Guided : ReluMode.Standard,
        };
        var result = engine.Run(new InputValue(input, xShape, x), request, _ => seed);

        var (logits, _) = Array(f, "logits");
        AssertClose(logits, result.Forward[request.ScoreTensor], "logits", 1e-4);
        var (gInput, gInputShape) = Array(f, $"grad_input_{rule}");
        var (gInner, gInnerShape) = Array(f, $"grad_inner_{rule}");
        Assert.Equal(gInputShape, result.Gradients[input].Shape);
        Assert.Equal(gInnerShape, result.Gradients[inner].Shape);
        AssertClose(gInner, result.Gradients[inner], "inner gradient", Tolerance);
        AssertClose(gInput, result.Gradients[input], "input gradient", Tolerance);
    }

    internal static void AssertClose(float[] expected, TensorValue actual, string what, double tol)
    {
        Assert.Equal(expected.Length, actual.Data.Length);
        double max = expected.Max(v => Math.Abs((double)v));
        double err = 0;
        int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = Math.Abs(expected[i] - actual.Data[i]);
            if (e > err) { err = e; at = i; }
        }
        Assert.True(max > 0, $"{what}: the reference is all zero");
        Assert.True(err <= tol * max, $"{what}: max error {err:g4} at {at} (expected {expected[at]:g6}, got {actual.Data[at]:g6}); max |ref| {max:g4}; relative {err / max:g3} > {tol}");
    }
}
