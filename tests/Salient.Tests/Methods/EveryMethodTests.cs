using Salient.Explain;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Methods;

/// <summary>
/// Every registered method (enumerated from <see cref="MethodRegistry.All"/>, so a new method is
/// covered without editing this file) on the same small network exported twice — NCHW and NHWC
/// input — with two different images in one <see cref="Explainer.Explain"/> call and two classes
/// per image. The two exports compute the same function, so every map must agree between them.
/// </summary>
public class EveryMethodTests
{
    private readonly ITestOutputHelper _out;
    public EveryMethodTests(ITestOutputHelper output) => _out = output;

    private const int Size = 128; // the auto layer of mnv3s is then 4×4

    /// <summary>
    /// Small values for the parameters that make a method expensive, chosen by parameter name from
    /// what each method declares (<see cref="MethodRegistry.ParametersOf"/>); other parameters keep their defaults.
    /// </summary>
    private static readonly Dictionary<string, string> Cheap = new()
    {
        ["masks"] = "64",          // rise
        ["cell"] = "32",           // rise: a 4×4 grid at 128
        ["top-channels"] = "8",    // scorecam
        ["samples"] = "2",         // smoothgrad
        ["steps"] = "4",           // integrated-gradients
        ["patch"] = "48",          // occlusion
        ["stride"] = "40",
        ["compare"] = "5",         // finercam: class 0 of item 1 lies below its 3 closest classes everywhere, a legitimately all-zero ReLU map
    };

    /// <summary>Methods that need a GAP → linear head, which mnv3s (GAP → Linear → Hardswish → Linear) does not have.</summary>
    private static readonly HashSet<string> NeedLinearHead = new(StringComparer.OrdinalIgnoreCase) { "cam" };

    /// <summary>Methods for vision transformers (attention rollout): run on the tiny ViT of the token fixtures (and its NHWC copy) instead.</summary>
    private static readonly HashSet<string> NeedTransformer = new(StringComparer.OrdinalIgnoreCase) { "rollout" };

    /// <summary>
    /// Two classes per image, different for the two images. The fixture has random weights and nearly
    /// constant logits: for the classes with a negative logit (1, 2, 3, 5, 7, 8) the ReLU'd CAMs are
    /// legitimately all zero, so classes with a positive logit are used (9 and 6 the largest; 0 the
    /// smallest positive one), where a constant map is a fault.
    /// </summary>
    private static readonly string[][] ClassesPerItem = [["9", "6"], ["0", "9"]];

    private static Dictionary<string, string> ParametersFor(IExplanationMethod m) =>
        MethodRegistry.ParametersOf(m).Where(p => Cheap.ContainsKey(p.Name)).ToDictionary(p => p.Name, p => Cheap[p.Name]);

    private static ExplainResult Run(SalientModel model, IExplanationMethod method, IReadOnlyList<PreparedInput> items) =>
        Explainer.Explain(model, items, new ExplainRequest
        {
            Methods = [method.Name],
            Layers = ["auto"],
            ClassesPerItem = ClassesPerItem,
            Parameters = ParametersFor(method),
        });

    private static IReadOnlyList<PreparedInput> TwoImages(SalientModel m) =>
        [m.Prepare(m.LoadImage(TestPaths.SharedImage("both.png"))), m.Prepare(m.LoadImage(TestPaths.SharedImage("dogs.png")))];

    /// <summary>
    /// mnv2_gap (CAM-able) and the same graph with an NHWC input: a Transpose(0,3,1,2) in front of the
    /// original input name, like the mnv3s NHWC fixture.
    /// </summary>
    private static string NhwcCopyOfGapModel() => NhwcCopy(TestPaths.Fixture("models", "mnv2_gap.onnx"), 96);

    private static string NhwcCopy(string model, int size)
    {
        var g = OnnxReader.ReadFile(model);
        var input = Assert.Single(g.Inputs);
        g.Inputs.Clear();
        g.Inputs.Add(new ValueInfo("input_nhwc", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(size), Dim.Fixed(size), Dim.Fixed(3)]));
        g.Nodes.Insert(0, new Node("Transpose", ["input_nhwc"], [input.Name], "to_nchw").Set("perm", new long[] { 0, 3, 1, 2 }));
        var path = Path.Combine(Directory.CreateTempSubdirectory("salient-every").FullName, Path.GetFileNameWithoutExtension(model) + "_nhwc.onnx");
        OnnxWriter.WriteFile(g, path);
        return path;
    }

    [Fact]
    public void Every_registered_method_gives_the_same_finite_maps_for_nchw_and_nhwc_exports_with_batch_2_and_two_classes()
    {
        var options = new ModelOptions { Size = (Size, Size) };
        using var nchw = TestPaths.Load(TestPaths.Fixture("models", "mnv3s_nchw.onnx"), options);
        using var nhwc = TestPaths.Load(TestPaths.Fixture("models", "mnv3s_nhwc.onnx"), options);
        Assert.Equal(TensorLayout.Nchw, nchw.Input.Layout);
        Assert.Equal(TensorLayout.Nhwc, nhwc.Input.Layout);
        var gapOptions = new ModelOptions { Size = (96, 96), Preprocessing = Preprocessing.Raw };
        using var gapNchw = TestPaths.Load(TestPaths.Fixture("models", "mnv2_gap.onnx"), gapOptions);
        using var gapNhwc = TestPaths.Load(NhwcCopyOfGapModel(), gapOptions);
        Assert.Equal(TensorLayout.Nhwc, gapNhwc.Input.Layout);
        var vitOptions = new ModelOptions { Preprocessing = Preprocessing.Raw };
        using var vitNchw = TestPaths.Load(TestPaths.Fixture("tokens", "tinyvit.onnx"), vitOptions);
        using var vitNhwc = TestPaths.Load(NhwcCopy(TestPaths.Fixture("tokens", "tinyvit.onnx"), 32), vitOptions);

        var failures = new List<string>();
        int ran = 0;
        foreach (var method in MethodRegistry.All)
        {
            bool gap = NeedLinearHead.Contains(method.Name), vit = NeedTransformer.Contains(method.Name);
            var (a, b) = gap ? (gapNchw, gapNhwc) : vit ? (vitNchw, vitNhwc) : (nchw, nhwc);
            if (gap)
            {
                // Not silently skipped: on mnv3s it must fail with the documented message.
                var e = Assert.Throws<SalientException>(() => Run(nchw, method, TwoImages(nchw)));
                Assert.Contains("global-average-pooling", e.Message);
            }
            if (vit)
            {
                var e = Assert.Throws<SalientException>(() => Run(nchw, method, TwoImages(nchw)));
                Assert.Contains("needs a vision transformer", e.Message);
            }
            var sw = System.Diagnostics.Stopwatch.StartNew();
            ExplainResult ra, rb;
            try
            {
                ra = Run(a, method, TwoImages(a));
                rb = Run(b, method, TwoImages(b));
            }
            catch (Exception e)
            {
                failures.Add($"{method.Name}: threw {e.GetType().Name}: {e.Message}");
                continue;
            }
            ran++;
            var layer = method.UsesLayer ? a.Structure().ResolveLayer("auto") : null;
            var (h, w) = layer is not null ? layer.Spatial : vit ? a.Structure().ResolveLayer("auto").Spatial : (a.InputSize.Height, a.InputSize.Width);
            double worst = 0;
            foreach (var (r, which) in new[] { (ra, "nchw"), (rb, "nhwc") })
            {
                if (r.Explanations.Count != 4) { failures.Add($"{method.Name} ({which}): {r.Explanations.Count} maps, expected 4"); continue; }
                for (int item = 0; item < 2; item++)
                    for (int c = 0; c < 2; c++)
                    {
                        var e = r.Explanations.Where(x => x.Item == item && x.ClassIndex == int.Parse(ClassesPerItem[item][c])).ToList();
                        if (e.Count != 1) failures.Add($"{method.Name} ({which}): {e.Count} maps for item {item} class {ClassesPerItem[item][c]}");
                    }
                foreach (var e in r.Explanations)
                {
                    string id = $"{method.Name} ({which}) item {e.Item} class {e.ClassIndex}";
                    if ((e.Height, e.Width) != (h, w)) failures.Add($"{id}: {e.Height}×{e.Width}, expected {h}×{w}");
                    if (e.RawMap.Length != e.Height * e.Width || e.Normalized.Length != e.RawMap.Length) failures.Add($"{id}: map lengths {e.RawMap.Length}/{e.Normalized.Length}");
                    if (!e.RawMap.All(float.IsFinite) || !e.Normalized.All(float.IsFinite)) failures.Add($"{id}: non-finite values");
                    if (e.RawMap.Max() - e.RawMap.Min() <= 1e-6f * Math.Max(1e-30f, e.RawMap.Max(Math.Abs))) failures.Add($"{id}: constant raw map");
                    if (e.Normalized.Min() < 0 || e.Normalized.Max() > 1 + 1e-6f) failures.Add($"{id}: normalized map outside [0,1]");
                    if (e.RawChannels is { } ch && (ch.Length != e.ChannelCount * e.Height * e.Width || !ch.All(float.IsFinite)))
                        failures.Add($"{id}: channels {ch.Length} values for {e.ChannelCount} channels, or non-finite");
                }
            }
            foreach (var ea in ra.Explanations)
            {
                var eb = rb.Explanations.SingleOrDefault(x => x.Item == ea.Item && x.ClassIndex == ea.ClassIndex);
                if (eb is null || eb.RawMap.Length != ea.RawMap.Length) continue;
                string id = $"{method.Name} item {ea.Item} class {ea.ClassIndex}";
                double d = RelativeDifference(ea.RawMap, eb.RawMap);
                worst = Math.Max(worst, d);
                if (d > 1e-3) failures.Add($"{id}: NCHW and NHWC raw maps differ by {d:g3} of the map's range");
                if ((ea.RawChannels is null) != (eb.RawChannels is null)) failures.Add($"{id}: channels in one layout only");
                else if (ea.RawChannels is { } ca && eb.RawChannels is { } cb && (ca.Length != cb.Length || RelativeDifference(ca, cb) > 1e-3))
                    failures.Add($"{id}: NCHW and NHWC channels differ by {RelativeDifference(ca, cb):g3}");
                // Same class order of scores: the logits of both exports agree too.
                for (int k = 0; k < ra.Logits[ea.Item].Length; k++)
                    if (Math.Abs(ra.Logits[ea.Item][k] - rb.Logits[ea.Item][k]) > 1e-3 * ra.Logits[ea.Item].Max(Math.Abs))
                    { failures.Add($"{id}: logits differ"); break; }
            }
            _out.WriteLine($"{method.Name,-22} {(gap ? "mnv2_gap" : vit ? "tinyvit" : "mnv3s"),-9} {h}×{w}  worst layout difference {worst:g3}  {sw.ElapsedMilliseconds} ms  {string.Join(" ", ParametersFor(method).Select(kv => $"{kv.Key}={kv.Value}"))}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(MethodRegistry.All.Count, ran);
        Assert.True(ran >= 18, $"only {ran} methods registered"); // the registry itself must not lose methods
    }

    /// <summary>max |a − b| / (max − min of a).</summary>
    private static double RelativeDifference(float[] a, float[] b)
    {
        double range = a.Max() - a.Min();
        if (range == 0) range = Math.Max(1e-30, a.Max(Math.Abs));
        double d = 0;
        for (int i = 0; i < a.Length; i++) d = Math.Max(d, Math.Abs((double)a[i] - b[i]));
        return d / range;
    }
}
