using System.Text.Json;
using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Rendering;
using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Tokens;

/// <summary>
/// CAM maps on transformer token layers against pytorch-grad-cam with its reshape transforms, on the
/// tiny torchvision ViT and Swin of tools/make_token_fixtures.py (the ONNX exports of the very models
/// the reference ran on): corr ≥ 0.999 per map, and all-zero where the reference's map is all zero.
/// </summary>
public class TokenReferenceTests(ITestOutputHelper output)
{
    internal const int Size = 32;

    internal static JsonElement Fixture(string model) =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("tokens", "tokens_fixtures.json"))).RootElement.GetProperty("models").GetProperty(model);

    /// <summary>The fixture's two inputs (model-input units) as prepared items.</summary>
    internal static IReadOnlyList<PreparedInput> Inputs(string model)
    {
        var (x, _) = Npy.Read(TestPaths.Fixture("tokens", $"{model}.x.npy"));
        int plane = Size * Size, per = 3 * plane;
        return Enumerable.Range(0, 2).Select(i => new PreparedInput(x[(i * per)..((i + 1) * per)], Size, Size, 3, TensorLayout.Nchw,
            CropGeometry.Whole(Size, Size), new RgbImage(Size, Size, new float[plane * 3]))).ToList();
    }

    internal static SalientModel Load(string model) =>
        TestPaths.Load(TestPaths.Fixture("tokens", $"{model}.onnx"), new ModelOptions { Preprocessing = Preprocessing.Raw });

    internal static double Correlation(float[] a, float[] b)
    {
        double ma = a.Average(v => (double)v), mb = b.Average(v => (double)v), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double da = a[i] - ma, db = b[i] - mb;
            sab += da * db; saa += da * da; sbb += db * db;
        }
        return sab / Math.Sqrt(saa * sbb);
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in new[] { "tinyvit", "tinyswin" })
            foreach (var method in new[] { "gradcam", "gradcam++", "xgradcam", "hirescam", "layercam", "scorecam", "ablationcam", "eigencam" })
                data.Add(model, method);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Token_layer_maps_equal_pytorch_grad_cam_with_its_reshape_transform(string model, string method)
    {
        var f = Fixture(model);
        using var m = Load(model);
        var layer = f.GetProperty("layer").GetString()!;
        var info = m.Structure().ResolveLayer(layer);
        Assert.True(info.IsCandidate);
        Assert.Equal((4, 4), info.Spatial);
        var runs = f.GetProperty("classes").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        var (peer, shape) = Npy.Read(TestPaths.Fixture("tokens", f.GetProperty("maps").GetProperty(method).GetString()!));
        Assert.Equal([runs.Length, 2, 4, 4], shape.Select(d => (int)d).ToArray());
        var result = Explainer.Explain(m, Inputs(model), new ExplainRequest
        {
            Methods = [method],
            Layers = [layer],
            ClassesPerItem = [[.. runs.Select(r => r[0].ToString()).Distinct()], [.. runs.Select(r => r[1].ToString()).Distinct()]],
        });
        int checkedMaps = 0;
        for (int run = 0; run < runs.Length; run++)
            for (int item = 0; item < 2; item++)
            {
                var e = method == "eigencam" ? result.Explanations.First(x => x.Item == item)
                    : result.Explanations.Single(x => x.Item == item && x.ClassIndex == runs[run][item]);
                Assert.Equal((4, 4), (e.Height, e.Width));
                var reference = peer[((run * 2 + item) * 16)..((run * 2 + item + 1) * 16)];
                string id = $"{model} {method} item {item} class {runs[run][item]}";
                if (method == "eigencam")
                {
                    // The reference's projection carries the SVD's arbitrary sign (and no ReLU here): compare up to sign.
                    double r = Math.Abs(Correlation(e.RawMap, reference));
                    output.WriteLine($"{id}: |corr| {r:F6}");
                    Assert.True(r >= 0.999, $"{id}: |corr| {r}");
                }
                else if (reference.All(v => v == 0))
                {
                    output.WriteLine($"{id}: reference all zero, Salient max {e.RawMap.Max():g3}");
                    Assert.True(e.RawMap.All(v => v == 0), $"{id}: the reference map is all zero, Salient's max is {e.RawMap.Max()}");
                }
                else
                {
                    double r = Correlation(e.RawMap, reference);
                    output.WriteLine($"{id}: corr {r:F6}");
                    Assert.True(r >= 0.999, $"{id}: corr {r}");
                }
                checkedMaps++;
            }
        Assert.Equal(2 * runs.Length, checkedMaps);
    }

    [Fact]
    public void The_vit_default_layer_is_the_last_blocks_first_layernorm_and_later_token_layers_are_flagged()
    {
        var f = Fixture("tinyvit");
        using var m = Load("tinyvit");
        var s = m.Structure();
        Assert.Equal(f.GetProperty("layer").GetString(), s.DefaultLayer);
        var d = s.ResolveLayer("auto");
        Assert.True(d.IsTokenLayer);
        Assert.Equal(1, d.SkippedTokens);
        Assert.Equal((4, 4), d.Spatial);
        Assert.Equal(32, d.Channels);
        Assert.False(d.ClassTokenOnly);
        // The last block's output: only its class token reaches the head.
        var lastOutput = s.Layers.Last(l => l.IsTokenLayer && l.OpType == "Add" && l.Channels == 32);
        Assert.True(lastOutput.ClassTokenOnly);
        Assert.True(lastOutput.Index > d.Index);
        // The patch embedding is a spatial map; the attention probabilities [N·heads, T, T] are not layers to target.
        Assert.Contains(s.Layers, l => l.OpType == "Conv" && l.IsCandidate && l.Spatial == (4, 4));
        Assert.DoesNotContain(s.Layers, l => l.IsCandidate && l.OpType == "Softmax");
    }

    [Fact]
    public void Swin_channels_last_maps_are_candidates_and_the_default_is_the_last_map_before_the_pooled_head()
    {
        using var m = Load("tinyswin");
        var s = m.Structure();
        var norm1 = s.ResolveLayer(Fixture("tinyswin").GetProperty("layer").GetString()!);
        Assert.Equal(TensorLayout.Nhwc, norm1.Layout);
        Assert.False(norm1.IsTokenLayer);
        Assert.Equal((4, 4), norm1.Spatial);
        Assert.Equal(32, norm1.Channels);
        var d = s.ResolveLayer("auto");
        Assert.Equal((4, 4), d.Spatial);
        Assert.Equal(32, d.Channels);
        Assert.True(d.Index > norm1.Index);
        // Window attention scores are no maps.
        Assert.DoesNotContain(s.Layers, l => l.IsCandidate && (l.OpType == "Softmax" || s.Shapes[l.Name].Dims[0] != 1));
    }
}
