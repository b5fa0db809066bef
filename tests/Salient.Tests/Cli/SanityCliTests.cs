using System.Text.Json;
using Xunit;

namespace Salient.Tests.Cli;

/// <summary><c>salient sanity</c> and <c>evaluate --metric sanity</c> on the small MobileNetV2 fixture.</summary>
public class SanityCliTests
{
    private static readonly string Model = TestPaths.Fixture("models", "mnv2_gap.onnx");

    [Fact]
    public void Sanity_writes_the_json_the_csv_and_the_figure()
    {
        var dir = CliRunner.TempDir();
        var image = TestPaths.SharedImage("both.png");
        var r = CliRunner.Run("sanity", image, "--model", Model, "--method", "gradcam,guidedbackprop", "--steps", "2", "--threads", "1", "--json", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Err);
        var doc = JsonDocument.Parse(r.Out).RootElement;
        Assert.Equal(3, doc.GetProperty("steps").GetArrayLength()); // the original + 2 steps
        var results = doc.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(2 * 3, results.Count);
        double Rho(string m, int s) => results.Single(x => x.GetProperty("method").GetString() == m && x.GetProperty("step").GetInt32() == s).GetProperty("spearman").GetDouble();
        Assert.Equal(1, Rho("gradcam", 0), 9);
        Assert.InRange(Rho("guidedbackprop", 2), -1, 1);
        Assert.Equal(1 + 2 * 3, File.ReadAllLines(Path.Combine(dir, "sanity.csv")).Length);
        var png = Path.Combine(dir, "sanity_both.png");
        Assert.True(File.Exists(png) && new FileInfo(png).Length > 1000);

        // A baseline map cannot be checked: one line.
        var bad = CliRunner.Run("sanity", image, "--model", Model, "--method", "sobel", "--out", CliRunner.TempDir());
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("sobel", bad.Err);
    }

    [Fact]
    public void Evaluate_metric_sanity_embeds_the_cascade()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("evaluate", TestPaths.SharedImage("both.png"), "--model", Model, "--method", "gradcam,random", "--metric", "sparsity,sanity",
            "--sanity-steps", "1", "--threads", "1", "--json", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Err);
        var doc = JsonDocument.Parse(r.Out).RootElement;
        Assert.Equal(2, doc.GetProperty("results").GetArrayLength()); // sparsity of gradcam and random
        var sanity = doc.GetProperty("sanity").GetProperty("results").EnumerateArray().ToList();
        Assert.All(sanity, s => Assert.Equal("gradcam", s.GetProperty("method").GetString()));
        Assert.Equal(2, sanity.Count);
        Assert.True(File.Exists(Path.Combine(dir, "sanity.json")));
    }
}
