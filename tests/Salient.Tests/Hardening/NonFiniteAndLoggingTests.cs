using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;
using Salient.Tests.Cli;
using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Hardening;

/// <summary>Issue 15, items 4 and 9: a non-finite logit is one clear error for predict and explain; ORT's own log lines are off unless verbose.</summary>
public class NonFiniteAndLoggingTests
{
    /// <summary>logits = (W·flatten(x)) / 0: ±∞ or NaN for every class.</summary>
    private static string NanModel()
    {
        var g = new Graph { Name = "nan", IrVersion = 8 };
        g.Opsets[""] = 13;
        g.Inputs.Add(new ValueInfo("input", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(3), Dim.Fixed(8), Dim.Fixed(8)]));
        g.Initializers["W"] = Tensor.FromFloats("W", [2, 192], TinyModels.Random(2 * 192, 3));
        g.Initializers["Z"] = Tensor.Scalar("Z", 0f);
        g.Nodes.Add(new Node("Flatten", ["input"], ["flat"], "flatten").Set("axis", 1L));
        g.Nodes.Add(new Node("Gemm", ["flat", "W"], ["raw"], "fc").Set("transB", 1L));
        g.Nodes.Add(new Node("Div", ["raw", "Z"], ["logits"], "div"));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(2)]));
        var dir = Directory.CreateTempSubdirectory("salient-nan").FullName;
        var path = Path.Combine(dir, "nan.onnx");
        OnnxWriter.WriteFile(g, path);
        File.WriteAllText(path + ".json", "{ \"preprocess\": \"raw\", \"size\": [8, 8] }");
        return path;
    }

    [Fact]
    public void Non_finite_logits_are_one_error_for_predict_and_explain()
    {
        using var m = TinyModels.Load(NanModel());
        var item = TinyModels.RandomItem(4);
        var p = Assert.Throws<SalientException>(() => m.Predict([item]));
        var e = Assert.Throws<SalientException>(() => Explainer.Explain(m, [item], new ExplainRequest { Methods = ["saliency"] }));
        Assert.Contains("'logits' is not finite", p.Message);
        Assert.Contains("'logits' is not finite", e.Message);
    }

    [Fact]
    public void Non_finite_logits_in_the_cli_are_exit_1_and_json_stays_valid()
    {
        var model = NanModel();
        var image = Path.Combine(Path.GetDirectoryName(model)!, "x.png");
        Salient.Rendering.ImageWriter.SavePng(new RgbImage(8, 8, new float[8 * 8 * 3]), image);
        var pr = CliRunner.Run("predict", "--model", model, image, "--json");
        Assert.Equal(1, pr.ExitCode);
        // One error line (plus the note on the defaults assumed for a model without a sidecar).
        Assert.Single(pr.ErrLines, l => l.StartsWith("error: "));
        Assert.All(pr.ErrLines, l => Assert.True(l.StartsWith("error: ") || l.StartsWith("note: "), l));
        Assert.Contains("not finite", pr.Err);
        var outDir = CliRunner.TempDir();
        var ex = CliRunner.Run("explain", "--model", model, image, "--method", "saliency", "--out", outDir, "--json");
        Assert.Equal(1, ex.ExitCode);
        Assert.Contains("not finite", ex.Err);
        foreach (var f in Directory.EnumerateFiles(outDir, "*.json*"))
            foreach (var line in f.EndsWith(".jsonl") ? File.ReadAllLines(f) : [File.ReadAllText(f)])
                if (line.Length > 0) JsonDocument.Parse(line).Dispose();
    }

    [Fact]
    public void Onnx_runtime_logs_only_fatal_unless_verbose()
    {
        using (var so = RuntimeOptions.Default.CreateSessionOptions())
            Assert.Equal(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, so.LogSeverityLevel);
        using (var so = new RuntimeOptions { Verbose = true }.CreateSessionOptions())
            Assert.Equal(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, so.LogSeverityLevel);
    }

    [Fact]
    public void Verbose_is_a_global_option()
    {
        var model = TestPaths.Fixture("models", "mnv2_gap.onnx");
        var r = CliRunner.Run("predict", TestPaths.SharedImage("both.png"), "--verbose", "--model", model, "--top", "1");
        Assert.Equal(0, r.ExitCode);
        var m = CliRunner.Run("methods", "--verbose");
        Assert.Equal(0, m.ExitCode);
        Assert.Contains("samples", m.Out);
    }
}
