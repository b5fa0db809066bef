using Salient.Autodiff;
using Salient.Explain;
using Salient.Models;
using Salient.Onnx;
using Salient.Perturbation;
using Salient.Runtime;
using Xunit;

namespace Salient.Tests.Autodiff;

/// <summary>ML.NET's ImageNet ResNet18 featurizer loaded once: CNTK-made, opset 8, fixed batch 1.</summary>
public sealed class CntkResNet18Fixture : IDisposable
{
    public SalientModel Model { get; } = TestPaths.Load(TestPaths.CntkResNet18);
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// The second opset-8 model the issue names (besides mnist-8): ML.NET's ResNet18 featurizer, a CNTK
/// export whose BatchNormalization still carries the pre-opset-9 'spatial' attribute and whose
/// output is the 512 pooled features. The backward program runs at opset 18 in its own session fed
/// by the opset-8 forward. References: float32 finite differences of the model itself, at single
/// pixels and along a dense direction (see RealModelTests for the choice of ε).
/// </summary>
public class CntkResNet18Tests : IClassFixture<CntkResNet18Fixture>
{
    private readonly SalientModel _m;
    public CntkResNet18Tests(CntkResNet18Fixture f) => _m = f.Model;

    private static readonly long[] Shape = [1, 3, 224, 224];

    [Fact]
    public void Is_the_opset_8_cntk_model_the_issue_names()
    {
        Assert.Equal(8, _m.Graph.DefaultOpset);
        var bn = _m.Graph.Nodes.Where(n => n.OpType == "BatchNormalization").ToList();
        Assert.Equal(22, bn.Count);
        Assert.All(bn, n => Assert.True(n.Has("spatial")));
        Assert.Equal(Shape, _m.Input.ShapeFor(1, 224, 224));
        Assert.False(_m.Input.DynamicBatch);
    }

    [Fact]
    public void Input_gradient_of_a_pooled_feature_matches_finite_differences()
    {
        var x = RealModelTests.SmoothImage(3, 224, 224);
        string output = _m.Structure().LogitsName;
        int k = -1;
        var req = new GradientRequest { ScoreTensor = output, Wrt = [_m.Input.Name] };
        var r = _m.Gradients.Run(new InputValue(_m.Input.Name, Shape, x), req, s => Seeds.ClassLogit([k = Statistics.ArgMax(s.Data)], 512));
        var grad = r.Gradients[_m.Input.Name].Data;
        var program = _m.Gradients.Build(req, Shape);
        Assert.Contains("BatchNormalization", program.DifferentiatedOps);
        Assert.Contains("MaxPool", program.DifferentiatedOps);
        Assert.Equal(18, program.BackwardGraph.DefaultOpset);

        var plain = _m.Session([]);
        double F(float[] v) => plain.Run([new InputValue(_m.Input.Name, Shape, v)])[output].Data[k];
        // Single pixels make poor finite differences here: this trained network is far from linear at
        // that scale (a pixel's difference quotient swings ±30 % between ε = 0.003 and 0.1 — ReLU and
        // MaxPool kinks), and at ε = 1e-3 a pixel moves the feature (≈ 9) by only ~2 float32 ulps.
        // So the check perturbs many pixels at once by a tiny step: directional derivatives along four
        // directions — sign(grad) over all pixels, over one colour channel, over one image quadrant,
        // and random magnitudes along sign(grad) — each compared with grad · d, to 2 % of Σ|grad ⊙ d|
        // (measured: ≤ 0.6 %).
        var rng = new Random(4);
        var directions = new (string Name, Func<int, float> D)[]
        {
            ("sign(grad)", i => Math.Sign(grad[i])),
            ("green channel", i => i / (224 * 224) == 1 ? Math.Sign(grad[i]) : 0),
            ("top-left quadrant", i => (i % (224 * 224)) / 224 < 112 && i % 224 < 112 ? Math.Sign(grad[i]) : 0),
            ("random magnitudes", i => Math.Sign(grad[i]) * (float)rng.NextDouble()),
        };
        const float step = 3e-5f;
        foreach (var (name, dir) in directions)
        {
            var d = Enumerable.Range(0, x.Length).Select(dir).ToArray();
            double dot = 0, scale = 0;
            for (int i = 0; i < d.Length; i++) { dot += (double)grad[i] * d[i]; scale += Math.Abs((double)grad[i] * d[i]); }
            double fd = (F(x.Select((v, i) => v + step * d[i]).ToArray()) - F(x.Select((v, i) => v - step * d[i]).ToArray())) / (2 * step);
            Assert.True(Math.Abs(fd - dot) <= 0.02 * scale, $"{name}: fd {fd:g6} vs grad·d {dot:g6} (Σ|grad⊙d| {scale:g6})");
        }
    }

    [Fact]
    public void Inner_layer_gradient_matches_finite_differences_of_the_rest_of_the_network()
    {
        // A residual block output two thirds of the way in; the rest of the network as its own model.
        var s = _m.Structure();
        var blockOutputs = _m.Graph.Nodes.Where(n => n.OpType == "Relu" && _m.Graph.Producer(n.Inputs[0])?.OpType == "Add").Select(n => n.Outputs[0]).ToList();
        string layer = blockOutputs[blockOutputs.Count * 2 / 3];
        var cut = CutSession.For(_m, layer);
        Assert.Empty(cut.Cut.ExtraInputs);

        var x = RealModelTests.SmoothImage(3, 224, 224);
        int k = -1;
        var r = _m.Gradients.Run(new InputValue(_m.Input.Name, Shape, x),
            new GradientRequest { ScoreTensor = s.LogitsName, Wrt = [layer], AlsoFetch = [layer] },
            v => Seeds.ClassLogit([k = Statistics.ArgMax(v.Data)], 512));
        var a = r.Forward[layer];
        var grad = r.Gradients[layer].Data;
        Assert.Equal(a.Shape, r.Gradients[layer].Shape);
        double F(float[] v) => cut.Session.Run([new InputValue(layer, a.Shape, v)])[cut.Cut.Output].Data[k];
        Assert.Equal(r.Forward[s.LogitsName].Data[k], F(a.Data), 4);
        const float step = 1e-4f;
        double along = grad.Sum(v => (double)Math.Abs(v));
        double fdAlong = (F(a.Data.Select((v, i) => v + step * Math.Sign(grad[i])).ToArray()) - F(a.Data.Select((v, i) => v - step * Math.Sign(grad[i])).ToArray())) / (2 * step);
        Assert.True(along > 0);
        Assert.True(Math.Abs(fdAlong - along) <= 0.02 * along, $"directional derivative: fd {fdAlong:g6} vs grad·d {along:g6}");
    }

    [Fact]
    public void Explain_gradcam_and_guided_backprop_on_the_featurizer_equal_the_engine_gradients()
    {
        var item = _m.Prepare(_m.LoadImage(TestPaths.SharedImage("both.png")));
        var result = Explainer.Explain(_m, [item], new ExplainRequest { Methods = ["gradcam", "guidedbackprop"], Classes = ["auto"] });
        Assert.Equal(2, result.Explanations.Count);
        Assert.All(result.Explanations, e => Assert.Contains(e.Normalized, v => v > 0));
        int k = Statistics.ArgMax(result.Logits[0]);
        Assert.All(result.Explanations, e => Assert.Equal(k, e.ClassIndex));
        string logits = _m.Structure().LogitsName;
        var input = _m.Pack([item]);

        // Grad-CAM from the engine's raw layer activation A and gradient G: ReLU(Σ_k mean(G_k)·A_k).
        var gc = result.Explanations.Single(e => e.Method == "gradcam");
        string layer = gc.Layer;
        var r = _m.Gradients.Run(input, new GradientRequest { ScoreTensor = logits, Wrt = [layer], AlsoFetch = [layer] }, _ => Seeds.ClassLogit([k], 512));
        var a = r.Forward[layer];
        var g = r.Gradients[layer];
        Assert.Equal(4, a.Shape.Length);
        int c = (int)a.Shape[1], h = (int)a.Shape[2], w = (int)a.Shape[3], plane = h * w;
        Assert.Equal((h, w), (gc.Height, gc.Width));
        var want = new double[plane];
        for (int ch = 0; ch < c; ch++)
        {
            double alpha = 0;
            for (int p = 0; p < plane; p++) alpha += g.Data[ch * plane + p];
            alpha /= plane;
            for (int p = 0; p < plane; p++) want[p] += alpha * a.Data[ch * plane + p];
        }
        for (int p = 0; p < plane; p++) want[p] = Math.Max(0, want[p]);
        double max = want.Max();
        Assert.True(max > 0, "the reference Grad-CAM is all zero");
        for (int p = 0; p < plane; p++)
            Assert.True(Math.Abs(gc.RawMap[p] - want[p]) <= 1e-4 * max, $"gradcam at {p}: {gc.RawMap[p]:g6} vs {want[p]:g6}");

        // Guided backprop: the channels are the engine's guided input gradient; the map is max_c |g_c|.
        var gb = result.Explanations.Single(e => e.Method == "guidedbackprop");
        var gi = _m.Gradients.Run(input, new GradientRequest { ScoreTensor = logits, Wrt = [_m.Input.Name], Relu = ReluMode.Guided }, _ => Seeds.ClassLogit([k], 512))
            .Gradients[_m.Input.Name].Data;
        Assert.Equal(Shape, input.Shape);
        var channels = gb.RawChannels!;
        Assert.Equal(3, gb.ChannelCount);
        Assert.Equal(gi.Length, channels.Length);
        float scale = gi.Max(Math.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < gi.Length; i++)
            Assert.True(Math.Abs(channels[i] - gi[i]) <= 1e-5 * scale, $"guided gradient at {i}: {channels[i]:g6} vs {gi[i]:g6}");
        int px = 224 * 224;
        for (int p = 0; p < px; p++)
        {
            float m = Math.Max(Math.Abs(gi[p]), Math.Max(Math.Abs(gi[px + p]), Math.Abs(gi[2 * px + p])));
            Assert.True(Math.Abs(gb.RawMap[p] - m) <= 1e-5 * scale, $"guided map at {p}");
        }
        // And the guided gradient is not the plain one (the rule really changed the backward pass).
        var plain = _m.Gradients.Run(input, new GradientRequest { ScoreTensor = logits, Wrt = [_m.Input.Name] }, _ => Seeds.ClassLogit([k], 512))
            .Gradients[_m.Input.Name].Data;
        Assert.True(plain.Zip(gi).Max(t => Math.Abs(t.First - t.Second)) > 1e-2 * scale);
    }
}
