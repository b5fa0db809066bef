using System.Text.Json;
using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Rendering;

namespace Salient.Tests.Methods;

/// <summary>
/// The fixtures of tools/make_camfamily_fixtures.py: a tiny CNN with conv biases, BatchNorm and SiLU
/// (tinybn.onnx), two inputs (x.npy) and pytorch-grad-cam's maps for each (item, class) case
/// (camfamily.json). CAM maps are at the layer's resolution, FullGrad's at the input's.
/// </summary>
internal static class CamFamilyReference
{
    public const int C = 3, H = 32, W = 32;

    public static JsonElement Json { get; } = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("camfamily", "camfamily.json"))).RootElement;

    public static string Layer => Json.GetProperty("layer").GetString()!;

    public static (int Item, int Class)[] Cases =>
        Json.GetProperty("cases").EnumerateArray().Select(e => (e.GetProperty("item").GetInt32(), e.GetProperty("class").GetInt32())).ToArray();

    public static SalientModel Load() => TestPaths.Load(TestPaths.Fixture("camfamily", "tinybn.onnx"), new ModelOptions { Preprocessing = Preprocessing.Raw });

    public static PreparedInput[] Items()
    {
        var (x, _) = Npy.Read(TestPaths.Fixture("camfamily", "x.npy"));
        int per = C * H * W;
        return Enumerable.Range(0, 2).Select(i => new PreparedInput(x[(i * per)..((i + 1) * per)], W, H, C, TensorLayout.Nchw,
            CropGeometry.Whole(W, H), new RgbImage(W, H, new float[W * H * 3]))).ToArray();
    }

    /// <summary>The reference's map of each case, for a key of "maps".</summary>
    public static double[][] Maps(string key) =>
        Json.GetProperty("maps").GetProperty(key).EnumerateArray().Select(m => m.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();

    /// <summary>Salient's raw map of each case (both items in one batch, two classes each), in case order.</summary>
    public static double[][] Ours(SalientModel model, string method, Dictionary<string, string>? parameters = null, bool layer = true)
    {
        var items = Items();
        var cases = Cases;
        var classes = Enumerable.Range(0, 2).Select(i => (IReadOnlyList<string>)cases.Where(c => c.Item == i).Select(c => c.Class.ToString()).ToList()).ToList();
        var result = Explainer.Explain(model, items, new ExplainRequest
        {
            Methods = [method], Layers = layer ? [Layer] : [], ClassesPerItem = classes, Parameters = parameters ?? new(),
        });
        return cases.Select(c => result.Explanations.Single(e => e.Item == c.Item && e.ClassIndex == c.Class).RawMap.Select(v => (double)v).ToArray()).ToArray();
    }

    public static double Correlation(double[] a, double[] b) => ReferencePca.Correlation(a, b);
}
