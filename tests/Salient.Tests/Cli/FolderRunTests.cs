using System.Text.Json;
using Salient.Rendering;
using Xunit;

namespace Salient.Tests.Cli;

/// <summary><c>salient explain FOLDER</c>: every good image explained, bad ones reported, a JSON-lines record of the run.</summary>
public class FolderRunTests
{
    private static string FolderWithOneCorruptImage()
    {
        var dir = CliRunner.TempDir();
        File.Copy(TestPaths.SharedImage("both.png"), Path.Combine(dir, "a_both.png"));
        File.WriteAllText(Path.Combine(dir, "b_broken.png"), "this is not a PNG\n");
        File.Copy(TestPaths.SharedImage("dogs.png"), Path.Combine(dir, "c_dogs.png"));
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not an image name, not picked up\n");
        return dir;
    }

    [Fact]
    public void A_corrupt_image_is_reported_and_the_others_are_explained()
    {
        var input = FolderWithOneCorruptImage();
        var outDir = CliRunner.TempDir();
        // Occlusion with one 112-pixel patch per quadrant: 4 forward passes per image, a real perturbation run.
        var r = CliRunner.Run("explain", input, "--method", "cam,occlusion", "--patch", "112", "--stride", "112", "--threads", "1", "--out", outDir);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("b_broken.png", r.Err);
        Assert.Contains("1 of 3 images failed", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        // Plain progress lines when the output is not a terminal.
        Assert.Contains("[1/3]", r.Out);
        Assert.Contains("[3/3]", r.Out);
        Assert.Contains("images/s", r.Out);

        var lines = File.ReadAllLines(Path.Combine(outDir, "results.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var ok = lines.Where(l => l.GetProperty("status").GetString() == "ok").ToList();
        Assert.Equal(4, ok.Count); // 2 images × 2 methods × 1 class
        Assert.Equal(new[] { "a_both.png", "c_dogs.png" }, ok.Select(l => Path.GetFileName(l.GetProperty("image").GetString()!)).Distinct());
        Assert.Equal(new[] { "cam", "occlusion" }, ok.Select(l => l.GetProperty("method").GetString()).Distinct().Order());
        var bad = Assert.Single(lines, l => l.GetProperty("status").GetString() == "error");
        Assert.EndsWith("b_broken.png", bad.GetProperty("image").GetString());
        Assert.False(string.IsNullOrEmpty(bad.GetProperty("error").GetString()));
        foreach (var l in ok)
        {
            Assert.True(File.Exists(l.GetProperty("files").GetProperty("panel").GetString()));
            Assert.Equal(243, ok[0].GetProperty("class").GetInt32()); // both.png: top-1 is the bull mastiff
        }
    }

    [Fact]
    public void First_class_options_and_param_give_the_same_maps()
    {
        var a = CliRunner.TempDir();
        var b = CliRunner.TempDir();
        var ra = CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--method", "ablationcam", "--eigen-smooth", "--batch-size", "100", "--threads", "1", "--raw", "--out", a);
        var rb = CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--method", "ablationcam", "--param", "eigen-smooth=true", "--param", "batch-size=100", "--threads", "1", "--raw", "--out", b);
        Assert.True(ra.ExitCode == 0, ra.Err);
        Assert.True(rb.ExitCode == 0, rb.Err);
        var (ma, _) = Npy.Read(Path.Combine(a, "both_ablationcam_243-bull-mastiff_raw.npy"));
        var (mb, _) = Npy.Read(Path.Combine(b, "both_ablationcam_243-bull-mastiff_raw.npy"));
        Assert.Equal(ma, mb);
        Assert.Single(File.ReadAllLines(Path.Combine(a, "results.jsonl")));
    }

    [Theory]
    [InlineData("occlusion", "--patch", "0", "--patch '0' must be an integer ≥ 1")]
    [InlineData("scorecam", "--variant", "fastest", "default, paper")]
    [InlineData("rise", "--p", "2", "--p '2' must be a number in (0, 1]")]
    [InlineData("occlusion", "--p", "0.5", "unknown parameter 'p' for occlusion")]
    public void Bad_method_options_fail_before_any_work(string method, string option, string value, string message)
    {
        var r = CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--method", method, option, value, "--out", CliRunner.TempDir());
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: ", r.Err);
        Assert.Contains(message, r.Err);
    }
}
