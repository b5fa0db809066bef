using System.Text.Json;
using Salient.Imaging;
using Xunit;

namespace Salient.Tests.Cli;

/// <summary>explain's picture options: --colorbar, --normalize, --colormap coolwarm, --full-resolution, --memory; Eigen-CAM's single panel.</summary>
public class PictureCliTests
{
    private static List<JsonElement> Lines(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "results.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public void Picture_options_change_the_panels_and_eigencam_writes_one_panel_per_image()
    {
        var img = TestPaths.SharedImage("puppies.jpg");
        var a = CliRunner.TempDir();
        var r = CliRunner.Run("explain", img, "--method", "gradcam,eigencam", "--class", "auto,1", "--normalize", "global",
            "--colorbar", "raw", "--colormap", "coolwarm", "--memory", "256M", "--threads", "1", "--out", a);
        Assert.True(r.ExitCode == 0, r.Err);
        var files = Directory.GetFiles(a, "*.png").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["puppies_eigencam.png", "puppies_gradcam_1-goldfish.png", "puppies_gradcam_208-labrador-retriever.png"], files);
        var lines = Lines(a);
        Assert.Equal(4, lines.Count); // a line per method × requested class
        var eigen = lines.Where(l => l.GetProperty("method").GetString() == "eigencam").ToList();
        Assert.All(eigen, l => Assert.True(l.GetProperty("class_agnostic").GetBoolean()));
        Assert.Single(eigen.Select(l => l.GetProperty("files").GetProperty("panel").GetString()).Distinct());
        Assert.All(lines, l => Assert.Equal("global", l.GetProperty("normalize").GetString()));
        var panel = ImageLoader.Load(Path.Combine(a, "puppies_gradcam_1-goldfish.png"));
        Assert.True(panel.Width < 1800, $"bounded panel, got {panel.Width}");

        var b = CliRunner.TempDir();
        r = CliRunner.Run("explain", img, "--method", "cam", "--full-resolution", "--threads", "1", "--out", b);
        Assert.True(r.ExitCode == 0, r.Err);
        var full = ImageLoader.Load(Directory.GetFiles(b, "*.png").Single());
        Assert.True(full.Width > 3 * 1600, $"full resolution panel, got {full.Width}");
    }

    [Theory]
    [InlineData("--colorbar", "log", "--colorbar 'log' must be norm or raw")]
    [InlineData("--normalize", "all", "--normalize 'all' must be map or global")]
    [InlineData("--memory", "12", "--memory '12' must be a size")]
    [InlineData("--colormap", "rainbow", "unknown colormap 'rainbow'")]
    public void Bad_picture_options_are_one_line_errors(string option, string value, string message)
    {
        var r = CliRunner.Run("explain", TestPaths.SharedImage("both.png"), option, value, "--out", CliRunner.TempDir());
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(message, r.Err);
        Assert.Single(r.ErrLines);
    }

    [Fact]
    public void Memory_sizes_parse_in_binary_units()
    {
        Assert.Equal(1L << 30, Salient.Cli.Commands.ExplainCommand.ParseMemory("1G"));
        Assert.Equal(512L << 20, Salient.Cli.Commands.ExplainCommand.ParseMemory("512MB"));
        Assert.Equal(3L << 29, Salient.Cli.Commands.ExplainCommand.ParseMemory("1.5GiB"));
    }
}
