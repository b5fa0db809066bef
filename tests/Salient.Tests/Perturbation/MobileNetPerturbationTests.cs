using Salient.Explain;
using Salient.Models;
using Salient.Perturbation;
using Salient.Runtime;
using Xunit;

namespace Salient.Tests.Perturbation;

/// <summary>MobileNetV2 (one ORT thread) and both.png, loaded once for the class.</summary>
public sealed class MobileNetBothFixture : IDisposable
{
    public SalientModel Model { get; } = TestPaths.LoadDefault();
    public Salient.Imaging.PreparedInput Both { get; }

    public MobileNetBothFixture() => Both = Model.Prepare(Model.LoadImage(TestPaths.SharedImage("both.png")));

    public void Dispose() => Model.Dispose();
}

/// <summary>
/// The methods on the real model: on both.png the dog (class 243, bull mastiff) fills the upper half
/// and the cat (282, tiger cat) the lower half. The settings are cut down so the whole class runs in
/// seconds on two cores, and each still exercises its method end to end: Score-CAM with the 32
/// channels of largest mean activation (Faster-Score-CAM — the same masking, scoring and softmax as
/// with all 1280, over fewer channels), occlusion with a coarse 56-pixel patch and stride 28 (7×7
/// positions, still finer than the two animals), RISE with 160 masks (the map is noisier than with
/// 1000, but the peak and the half-image means are stable across seeds). Ablation-CAM runs in full:
/// it only runs the GAP + linear head 1280 times.
/// </summary>
public class MobileNetPerturbationTests : IClassFixture<MobileNetBothFixture>
{
    private readonly MobileNetBothFixture _f;
    public MobileNetPerturbationTests(MobileNetBothFixture f) => _f = f;

    [Theory]
    [InlineData("scorecam", "top-channels=32")]
    [InlineData("ablationcam", "")]
    [InlineData("occlusion", "patch=56,stride=28")]
    [InlineData("rise", "masks=160")]
    [InlineData("scorecam", "top-channels=32,variant=paper")]
    public void Dog_is_found_in_the_upper_half_and_cat_in_the_lower_half(string method, string settings)
    {
        var p = settings.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => s.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
        var r = Explainer.Explain(_f.Model, [_f.Both], new ExplainRequest { Methods = [method], Classes = ["243", "282"], Parameters = p });
        Assert.Equal(2, r.Explanations.Count);
        foreach (var e in r.Explanations)
        {
            var map = e.NormalizedAtOriginal(); // 224×224 (both.png is the input size)
            Assert.Equal(224 * 224, map.Length);
            int peakRow = Array.IndexOf(map, map.Max()) / 224;
            double upper = map.Take(112 * 224).Average(), lower = map.Skip(112 * 224).Average();
            if (e.ClassIndex == 243)
            {
                Assert.True(peakRow < 112, $"{method} dog peak row {peakRow}");
                Assert.True(upper > lower, $"{method} dog: upper mean {upper:0.000} ≤ lower mean {lower:0.000}");
            }
            else
            {
                Assert.True(peakRow >= 112, $"{method} cat peak row {peakRow}");
                Assert.True(lower > upper, $"{method} cat: lower mean {lower:0.000} ≤ upper mean {upper:0.000}");
            }
        }
    }

    [Fact]
    public void Aug_smooth_cam_still_separates_dog_and_cat()
    {
        var r = Explainer.Explain(_f.Model, [_f.Both], new ExplainRequest { Methods = ["cam"], Classes = ["243", "282"], Parameters = new Dictionary<string, string> { ["aug-smooth"] = "true" } });
        foreach (var e in r.Explanations)
        {
            Assert.Equal((224, 224), (e.Height, e.Width)); // de-augmented on the input grid
            int peakRow = Array.IndexOf(e.Normalized, e.Normalized.Max()) / 224;
            Assert.True(e.ClassIndex == 243 ? peakRow < 112 : peakRow >= 112, $"class {e.ClassIndex}: peak row {peakRow}");
        }
    }

    [Fact]
    public void Batch_size_does_not_change_scorecam_on_the_real_model()
    {
        float[] Map(string batch) => Explainer.Explain(_f.Model, [_f.Both], new ExplainRequest
        {
            Methods = ["scorecam"], Classes = ["243"],
            Parameters = new Dictionary<string, string> { ["top-channels"] = "8", ["batch-size"] = batch },
        }).Explanations[0].RawMap;
        var a = Map("3");
        var b = Map("8");
        float max = a.Max();
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-4 * max, $"{i}: {a[i]} vs {b[i]}");
    }

    [Fact]
    public void A_cut_inside_a_residual_block_reads_the_block_input_and_reproduces_the_logits()
    {
        var s = _f.Model.Structure();
        var cs = CutSession.For(_f.Model, "features.15.conv.0");
        // Block 15 adds its input to its output: that residual branch bypasses the layer and must be fed.
        var add = _f.Model.Graph.Producer("features.15")!;
        Assert.Equal("Add", add.OpType);
        var blockInput = add.Inputs.Single(i => i != "features.15.conv.2");
        Assert.Equal(new[] { blockInput }, cs.Cut.ExtraInputs);
        var names = new[] { "features.15.conv.0" }.Concat(cs.Cut.ExtraInputs).ToArray();
        var fwd = _f.Model.Run([_f.Both], names);
        var outs = cs.Session.Run(names.Select(n => new InputValue(n, fwd[n].Shape, fwd[n].Data)).ToList(), [cs.Cut.Output]);
        var want = fwd[s.LogitsName].Data;
        var got = outs[cs.Cut.Output].Data;
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) < 1e-3, $"logit {i}: {got[i]} vs {want[i]}");
        Assert.True(cs.Cut.NodeCount < _f.Model.Graph.Nodes.Count / 4);
    }
}
