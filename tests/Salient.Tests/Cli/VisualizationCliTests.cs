using System.Runtime.InteropServices;
using System.Text.Json;
using Salient.Imaging;
using Salient.Tests.Cli;
using Xunit;

namespace Salient.Tests.Cli;

/// <summary><c>salient visualize</c> and <c>salient activations</c> end to end on the small fixture model.</summary>
public class VisualizationCliTests
{
    private static readonly string Model = TestPaths.Fixture("models", "mnv2_gap.onnx");
    private const string Layer = "/features/features.3/Add_output_0";

    private static void AssertError(CliRunner.Result r, string contains)
    {
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.ErrLines);
        Assert.StartsWith("error: ", r.ErrLines[0]);
        Assert.Contains(contains, r.Err, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Visualize_ChannelRange_WritesAPngPerChannelAndALabelledGrid()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("visualize", "--model", Model, "--layer", Layer, "--channel", "0-3", "--steps", "4", "--threads", "1", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Err);
        for (int c = 0; c < 4; c++)
        {
            var file = Path.Combine(dir, $"_features_features.3_Add_output_0-ch{c:000}.png");
            Assert.True(File.Exists(file), file);
            var img = ImageLoader.Load(file);
            Assert.Equal((96, 96), (img.Width, img.Height));
            // the default (DeepVis) preset: the PNG is contrast-stretched, the optimized values are in .npy
            Assert.Equal(255f, img.Data.Max());
            Assert.Equal(0f, img.Data.Min());
            var npy = File.ReadAllBytes(Path.ChangeExtension(file, ".npy"));
            Assert.Contains("(96, 96, 3)", System.Text.Encoding.ASCII.GetString(npy, 0, 128));
            var values = MemoryMarshal.Cast<byte, float>(npy.AsSpan(npy.Length - 96 * 96 * 3 * 4)).ToArray();
            Assert.True(values.Max() - values.Min() < 255f, "raw values are not the stretched ones");
        }
        var grid = Path.Combine(dir, "_features_features.3_Add_output_0-ch000-003-grid.png");
        Assert.True(File.Exists(grid));
        Assert.True(ImageLoader.Load(grid).Width > 2 * 96);
        Assert.Contains("step 4/4 objective", r.Out); // plain progress lines when not on a terminal
        Assert.Contains("wrote " + grid, r.Out);
    }

    [Fact]
    public void Visualize_Classes_Json_ReportsObjectiveAndPrediction()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("visualize", "--model", Model, "--class", "three,7", "--steps", "3", "--threads", "1", "--size", "64", "--json", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Err);
        var doc = JsonDocument.Parse(r.Out).RootElement;
        Assert.Equal("deepvis", doc.GetProperty("preset").GetString());
        var units = doc.GetProperty("units").EnumerateArray().ToList();
        Assert.Equal(2, units.Count);
        Assert.Equal("class 3", units[0].GetProperty("unit").GetString());
        Assert.Equal("class 7", units[1].GetProperty("unit").GetString());
        Assert.True(units[0].GetProperty("predicted").GetProperty("class").GetInt32() is >= 0 and < 10);
        var img = ImageLoader.Load(units[0].GetProperty("file").GetString()!);
        Assert.Equal((64, 64), (img.Width, img.Height));
        Assert.True(File.Exists(doc.GetProperty("grid").GetString()));
    }

    [Fact]
    public void Visualize_Neuron_And_Lucid()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("visualize", "--model", Model, "--layer", Layer, "--channel", "2", "--neuron", "10,11", "--preset", "lucid", "--steps", "3", "--tv", "0.5", "--lp", "0.1", "--threads", "1", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.True(File.Exists(Path.Combine(dir, "_features_features.3_Add_output_0-ch002-y10x11.png")));
        Assert.Contains("preset lucid", r.Out);
        Assert.DoesNotContain("grid", r.Out);
    }

    [Fact]
    public void Visualize_BadArguments_AreOneLineErrors()
    {
        var dir = CliRunner.TempDir();
        AssertError(CliRunner.Run("visualize", "--model", Model, "--out", dir), "either --class");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--class", "1", "--layer", Layer, "--channel", "0", "--out", dir), "either --class");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--layer", Layer, "--out", dir), "--channel");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--layer", Layer, "--channel", "8", "--out", dir), "out of range");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--layer", Layer, "--channel", "3-1", "--out", dir), "empty");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--layer", Layer, "--channel", "1", "--neuron", "4", "--out", dir), "y,x");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--layer", Layer, "--channel", "1", "--neuron", "30,0", "--steps", "1", "--out", dir), "outside layer");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--class", "auto", "--out", dir), "needs an image");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--class", "12", "--out", dir), "out of range");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--class", "1", "--preset", "nope", "--out", dir), "deepvis-3");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--class", "1", "--steps", "0", "--out", dir), "--steps");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--class", "1", "--tv", "5", "--out", dir), "lucid");
        AssertError(CliRunner.Run("visualize", "--model", Model, "--class", "1", "--tile", "8", "--out", dir), "--tile");
    }

    [Fact]
    public void Visualize_RefusesToOverwrite_AndSkipExistingResumesWithTheSameImages()
    {
        string File_(string dir, int c) => Path.Combine(dir, $"_features_features.3_Add_output_0-ch{c:000}.png");
        string[] Args(string dir, string channels, params string[] more) =>
            ["visualize", "--model", Model, "--layer", Layer, "--channel", channels, "--steps", "3", "--batch", "2", "--threads", "1", "--out", dir, .. more];
        var whole = CliRunner.TempDir();
        Assert.Equal(0, CliRunner.Run(Args(whole, "0-3")).ExitCode);

        // An "interrupted" run that finished channels 0-1, then resumed for 0-3.
        var resumed = CliRunner.TempDir();
        Assert.Equal(0, CliRunner.Run(Args(resumed, "0-1")).ExitCode);
        var before = File.GetLastWriteTimeUtc(File_(resumed, 0));
        AssertError(CliRunner.Run(Args(resumed, "0-3")), "--skip-existing");
        var r = CliRunner.Run(Args(resumed, "0-3", "--skip-existing"));
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("visualizing 2 units", r.Out);
        Assert.Equal(before, File.GetLastWriteTimeUtc(File_(resumed, 0)));
        for (int c = 0; c < 4; c++)
            Assert.Equal(File.ReadAllBytes(File_(whole, c)), File.ReadAllBytes(File_(resumed, c)));
        Assert.True(File.Exists(Path.Combine(resumed, "_features_features.3_Add_output_0-ch000-003-grid.png")));
        Assert.Equal(0, CliRunner.Run(Args(resumed, "0-3", "--force")).ExitCode);
    }

    [Fact]
    public void Activations_Grid_Json_ListsTheTopChannels()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("activations", TestPaths.SharedImage("both.png"), "--model", Model, "--layer", Layer, "--top", "3", "--out", dir, "--json", "--normalize", "shared");
        Assert.True(r.ExitCode == 0, r.Err);
        var doc = JsonDocument.Parse(r.Out).RootElement;
        var file = doc.GetProperty("output").GetString()!;
        Assert.Equal(dir, Path.GetDirectoryName(file));
        Assert.Equal(8, doc.GetProperty("channels").GetInt32());
        var top = doc.GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(3, top.Count);
        var all = doc.GetProperty("all").EnumerateArray().Select(e => e.GetProperty("mean").GetSingle()).ToArray();
        Assert.Equal(all.Max(), top[0].GetProperty("mean").GetSingle());
        Assert.True(top[0].GetProperty("mean").GetSingle() >= top[1].GetProperty("mean").GetSingle());
        Assert.True(File.Exists(file));

        dir = CliRunner.TempDir();
        var table = CliRunner.Run("activations", TestPaths.SharedImage("both.png"), "--model", Model, "--layer", Layer, "--top", "2", "--out", dir);
        Assert.True(table.ExitCode == 0, table.Err);
        Assert.Contains("rank", table.Out);
        Assert.Contains($"wrote {Path.Combine(dir, "activations-both-_features_features.3_Add_output_0.png")}", table.Out);
        // The same picture again: refused without --force, replaced with it.
        AssertError(CliRunner.Run("activations", TestPaths.SharedImage("both.png"), "--model", Model, "--layer", Layer, "--top", "2", "--out", dir), "--force");
        Assert.Equal(0, CliRunner.Run("activations", TestPaths.SharedImage("both.png"), "--model", Model, "--layer", Layer, "--top", "2", "--out", dir, "--force").ExitCode);
    }

    [Fact]
    public void Activations_Channel_RanksTheImagesOfAFolder()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("activations", "--channel", "4", Path.Combine(TestPaths.Shared, "images"), "--model", Model, "--layer", Layer, "--top", "2", "--out", dir, "--json");
        var file = Path.Combine(dir, "channel-_features_features.3_Add_output_0-4.png");
        Assert.True(r.ExitCode == 0, r.Err);
        var images = JsonDocument.Parse(r.Out).RootElement.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(4, images.Count);
        var means = images.Select(e => e.GetProperty("mean").GetSingle()).ToList();
        Assert.Equal(means.OrderByDescending(m => m).ToList(), means);
        Assert.True(File.Exists(file));
    }

    [Fact]
    public void Activations_BadArguments_AreOneLineErrors()
    {
        var dir = CliRunner.TempDir();
        AssertError(CliRunner.Run("activations", TestPaths.SharedImage("both.png"), "--model", Model, "--layer", Layer, "--normalize", "global", "--out", dir), "channel or shared");
        AssertError(CliRunner.Run("activations", Path.Combine(TestPaths.Shared, "images"), "--model", Model, "--layer", Layer, "--out", dir), "--channel");
        AssertError(CliRunner.Run("activations", "--channel", "99", TestPaths.SharedImage("both.png"), "--model", Model, "--layer", Layer, "--out", dir), "out of range");
        AssertError(CliRunner.Run("activations", TestPaths.SharedImage("both.png"), "--model", Model, "--layer", "nolayer", "--out", dir), "unknown layer");
    }
}
