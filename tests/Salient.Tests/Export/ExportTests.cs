using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Salient.Core;
using Salient.Export;
using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Xunit;

namespace Salient.Tests.Export;

/// <summary>
/// `salient export`: the exported model, run by ONNX Runtime in .NET and by onnxruntime-node (npm,
/// installed by .ci/run into tests/node), gives the pipeline's normalized map upsampled to the input
/// (linear, half-pixel) and the model's logits, to 1e-5, for every exportable method; class −1 = top-1.
/// </summary>
public class ExportTests(MobileNetFixture models) : IClassFixture<MobileNetFixture>
{
    private const float Tolerance = 1e-5f;

    private static readonly string[] Images = ["both.png", "dogs.png"];

    private (List<PreparedInput> Items, Runtime.InputValue Input) Inputs(SalientModel model)
    {
        var items = Images.Select(i => model.Prepare(model.LoadImage(TestPaths.SharedImage(i)))).ToList();
        return (items, model.Pack(items));
    }

    /// <summary>The pipeline's maps (item 0: top-1, item 1: class 282) upsampled to the input size, and its logits.</summary>
    private static (float[][] Maps, float[][] Logits) Expected(SalientModel model, List<PreparedInput> items, string method, string layer)
    {
        var result = Explainer.Explain(model, items, new ExplainRequest { Methods = [method], Layers = [layer], ClassesPerItem = [["auto"], ["282"]] });
        var (w, h) = model.InputSize;
        var maps = result.Explanations.OrderBy(e => e.Item).Select(e => MapMath.ResizeBilinear(e.Normalized, e.Height, e.Width, h, w)).ToArray();
        Assert.Equal(282, result.Explanations.Single(e => e.Item == 1).ClassIndex);
        return (maps, result.Logits);
    }

    /// <summary>Maps (in [0, 1]): absolute 1e-5. Logits: 1e-5 relative to the largest |logit| (a batch-1 pass sums in another order than a batch-2 one).</summary>
    private static void AssertClose(float[] expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        float tolerance = what.StartsWith("logits", StringComparison.Ordinal) ? Tolerance * Math.Max(1f, expected.Max(Math.Abs)) : Tolerance;
        Assert.True(worst <= tolerance, $"{what}: max |difference| {worst:g3} > {tolerance:g3}");
    }

    public static TheoryData<string, string> Cases => new()
    {
        { "gradcam", "features.18" }, { "gradcam++", "features.18" }, { "xgradcam", "features.18" },
        { "hirescam", "features.18" }, { "layercam", "features.18" }, { "gradcam", "features.14.conv.2" }, { "layercam", "features.7.conv.2" },
        { "saliency", "auto" }, { "guidedbackprop", "auto" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    [InlineData("xgradcam", "features.18", true)]
    [InlineData("hirescam", "features.16.conv.2", true)]
    public void Exported_model_in_dotnet_ort_equals_the_pipeline(string method, string layer, bool dynamicBatch = false)
    {
        var model = models.W8;
        var (items, input) = Inputs(model);
        var bytes = dynamicBatch ? ExplanationExport.ToOnnx(model, method, layer, dynamicBatch: true) : ExplanationExport.ToOnnx(model, method, layer, batch: 2);
        var (maps, logits) = Expected(model, items, method, layer);

        using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(bytes, so);
        using var image = OrtValue.CreateTensorValueFromMemory(input.Data, input.Shape);
        using var cls = OrtValue.CreateTensorValueFromMemory(new long[] { -1, 282 }, [2]);
        using var outputs = session.Run(new RunOptions(), [model.Input.Name, ExplanationExport.ClassInput], [image, cls],
            [ExplanationExport.LogitsOutput, ExplanationExport.MapOutput]);
        var gotLogits = outputs[0].GetTensorDataAsSpan<float>();
        var gotMap = outputs[1].GetTensorDataAsSpan<float>();
        var (w, h) = model.InputSize;
        Assert.Equal([2L, h, w], outputs[1].GetTensorTypeAndShape().Shape);
        AssertClose([.. logits[0], .. logits[1]], gotLogits, "logits");
        for (int i = 0; i < 2; i++) AssertClose(maps[i], gotMap.Slice(i * h * w, h * w), $"{method} map of item {i}");
        Assert.True(maps[0].Max() > 0.5f && maps[1].Max() > 0.5f, "maps should not be trivial");
    }

    [Fact]
    public void Class_minus_one_is_the_top1_class()
    {
        var model = models.W8;
        var (items, input) = Inputs(model);
        var bytes = ExplanationExport.ToOnnx(model, "gradcam", "auto", batch: 2);
        var result = Explainer.Explain(model, items, new ExplainRequest { Methods = ["gradcam"], Layers = ["auto"], Classes = ["auto"] });
        using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(bytes, so);
        using var image = OrtValue.CreateTensorValueFromMemory(input.Data, input.Shape);
        using var cls = OrtValue.CreateTensorValueFromMemory(new long[] { -1, -1 }, [2]);
        using var outputs = session.Run(new RunOptions(), [model.Input.Name, ExplanationExport.ClassInput], [image, cls], [ExplanationExport.MapOutput]);
        var (w, h) = model.InputSize;
        var got = outputs[0].GetTensorDataAsSpan<float>();
        foreach (var e in result.Explanations)
            AssertClose(MapMath.ResizeBilinear(e.Normalized, e.Height, e.Width, h, w), got.Slice(e.Item * h * w, h * w), $"top-1 map of item {e.Item}");
    }

    [Fact]
    public void Unsupported_requests_are_one_line_errors()
    {
        var model = models.W8;
        Assert.Contains("cannot be exported", Assert.Throws<SalientException>(() => ExplanationExport.ToOnnx(model, "scorecam")).Message);
        Assert.Contains("opset", Assert.Throws<SalientException>(() => ExplanationExport.ToOnnx(model, "gradcam", opset: 13)).Message);
    }

    [Fact]
    public void Old_opset_models_are_lifted_mnist8()
    {
        using var model = TestPaths.Load(TestPaths.SharedModel("mnist-8.onnx"));
        var items = new List<PreparedInput> { model.Prepare(model.LoadImage(TestPaths.SharedImage("both.png"))) };
        var input = model.Pack(items);
        var layer = model.Structure().Layers.Last(l => l.IsCandidate).Name;
        var bytes = ExplanationExport.ToOnnx(model, "gradcam", layer);
        var result = Explainer.Explain(model, items, new ExplainRequest { Methods = ["gradcam"], Layers = [layer] });
        var e = result.Explanations.Single();
        var (w, h) = model.InputSize;
        using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(bytes, so);
        using var image = OrtValue.CreateTensorValueFromMemory(input.Data, input.Shape);
        using var cls = OrtValue.CreateTensorValueFromMemory(new long[] { -1 }, [1]);
        using var outputs = session.Run(new RunOptions(), [model.Input.Name, ExplanationExport.ClassInput], [image, cls], [ExplanationExport.MapOutput]);
        AssertClose(MapMath.ResizeBilinear(e.Normalized, e.Height, e.Width, h, w), outputs[0].GetTensorDataAsSpan<float>(), "mnist-8 map");
    }

    /// <summary>The second runtime: onnxruntime-node from npm (tests/node, installed by .ci/run), none of our code.</summary>
    [Theory]
    [InlineData("gradcam")]
    [InlineData("gradcam++")]
    [InlineData("xgradcam")]
    [InlineData("hirescam")]
    [InlineData("layercam")]
    [InlineData("gradcam++", true)]
    [InlineData("guidedbackprop")]
    public void Exported_model_in_onnxruntime_node_equals_the_pipeline(string method, bool dynamicBatch = false)
    {
        string nodeDir = Path.Combine(TestPaths.RepoRoot, "tests", "node");
        Assert.True(Directory.Exists(Path.Combine(nodeDir, "node_modules", "onnxruntime-node")),
            "onnxruntime-node is not installed: run `npm ci --prefix tests/node` (.ci/run does) before `dotnet test`");
        var model = models.W8;
        var (items, input) = Inputs(model);
        var (maps, logits) = Expected(model, items, method, "features.18");
        string dir = Directory.CreateTempSubdirectory("salient-export-").FullName;
        try
        {
            string onnx = Path.Combine(dir, "model.onnx");
            File.WriteAllBytes(onnx, dynamicBatch ? ExplanationExport.ToOnnx(model, method, "features.18", dynamicBatch: true)
                : ExplanationExport.ToOnnx(model, method, "features.18", batch: 2));
            File.WriteAllBytes(Path.Combine(dir, "image.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.Data.AsSpan()).ToArray());
            File.WriteAllBytes(Path.Combine(dir, "class.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(new long[] { -1, 282 }.AsSpan()).ToArray());
            var spec = new Dictionary<string, object>
            {
                ["inputs"] = new Dictionary<string, object>
                {
                    [model.Input.Name] = new { file = Path.Combine(dir, "image.bin"), type = "float32", dims = input.Shape },
                    [ExplanationExport.ClassInput] = new { file = Path.Combine(dir, "class.bin"), type = "int64", dims = new[] { 2 } },
                },
            };
            File.WriteAllText(Path.Combine(dir, "spec.json"), JsonSerializer.Serialize(spec));
            var psi = new ProcessStartInfo("node", [Path.Combine(nodeDir, "run-model.js"), onnx, Path.Combine(dir, "spec.json"), dir])
            { RedirectStandardError = true, RedirectStandardOutput = true };
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(120_000), "node did not finish in 120 s");
            Assert.True(p.ExitCode == 0, "node failed: " + err);
            var got = Floats(Path.Combine(dir, ExplanationExport.MapOutput + ".bin"));
            var (w, h) = model.InputSize;
            for (int i = 0; i < 2; i++) AssertClose(maps[i], got.AsSpan(i * h * w, h * w), $"{method} map of item {i} (onnxruntime-node)");
            AssertClose([.. logits[0], .. logits[1]], Floats(Path.Combine(dir, ExplanationExport.LogitsOutput + ".bin")), "logits (onnxruntime-node)");
            Assert.Contains("onnxruntime-node", File.ReadAllText(Path.Combine(dir, "outputs.json")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Cli_writes_the_model_refuses_to_overwrite_and_the_example_script_runs_it()
    {
        string dir = Salient.Tests.Cli.CliRunner.TempDir();
        try
        {
            string file = Path.Combine(dir, "mnv2.gradcam.onnx");
            var r = Salient.Tests.Cli.CliRunner.Run("export", TestPaths.SharedModel("mobilenetv2-w8.onnx"), "--method", "gradcam", "--layer", "features.18", "--out", file);
            Assert.True(r.ExitCode == 0, r.Err);
            Assert.Contains("'class' int64 [1]", r.Err);
            Assert.Equal([file], Directory.GetFiles(dir));   // no temporary file left
            var again = Salient.Tests.Cli.CliRunner.Run("export", "--model", TestPaths.SharedModel("mobilenetv2-w8.onnx"), "--out", file);
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("--force", again.Err);
            Assert.Equal(1, Salient.Tests.Cli.CliRunner.Run("export", "--method", "scorecam", "--out", Path.Combine(dir, "x.onnx")).ExitCode);

            string nodeModules = Path.Combine(TestPaths.RepoRoot, "tests", "node", "node_modules");
            Assert.True(Directory.Exists(Path.Combine(nodeModules, "onnxruntime-node")), "run `npm ci --prefix tests/node` (.ci/run does) before `dotnet test`");
            var psi = new ProcessStartInfo("node", [Path.Combine(TestPaths.RepoRoot, "examples", "run-exported.js"), file])
            { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.Environment["NODE_PATH"] = nodeModules;
            using var p = Process.Start(psi)!;
            string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(120_000));
            Assert.True(p.ExitCode == 0, stderr);
            Assert.Matches(@"^class \d+; map 1x224x224, max (0\.9\d\d|1\.000)$", stdout.Trim());
        }
        finally { Directory.Delete(dir, true); }
    }

    private static float[] Floats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }
}
