using System.Text.Json;
using Salient.Rendering;
using Xunit;

namespace Salient.Tests.Cli;

/// <summary>The README's main command writes the dog and cat CAM panels, and the maps point at the right animals.</summary>
public class ReadmeCommandTests
{
    [Fact]
    public void Readme_main_command_writes_panels_with_dog_on_top_and_cat_below()
    {
        // README: dotnet run --project src/Salient.Cli -c Release -- explain --class auto,282
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("explain", "--class", "auto,282", "--out", dir, "--raw", "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        var dog = Path.Combine(dir, "both_cam_243-bull-mastiff.png");
        var cat = Path.Combine(dir, "both_cam_282-tiger-cat.png");
        Assert.True(File.Exists(dog), r.Out);
        Assert.True(File.Exists(cat), r.Out);
        Assert.True(new FileInfo(dog).Length > 10_000);
        // both.png: the bulldog sits in the upper half, the cat lies in the lower half.
        var (dogMap, shape) = Npy.Read(Path.Combine(dir, "both_cam_243-bull-mastiff_map.npy"));
        Assert.Equal(new[] { 224, 224 }, shape);
        var (catMap, _) = Npy.Read(Path.Combine(dir, "both_cam_282-tiger-cat_map.npy"));
        Assert.True(PeakRow(dogMap, 224) < 112, $"dog peak row {PeakRow(dogMap, 224)}");
        Assert.True(PeakRow(catMap, 224) >= 112, $"cat peak row {PeakRow(catMap, 224)}");
        var (raw, rawShape) = Npy.Read(Path.Combine(dir, "both_cam_243-bull-mastiff_raw.npy"));
        Assert.Equal(new[] { 7, 7 }, rawShape);
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json"))).RootElement;
        var items = summary.GetProperty("explanations").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.Equal(243, items[0].GetProperty("class").GetInt32());
        Assert.Equal("features.18", items[0].GetProperty("layer").GetString());
        Assert.Equal(14.548, items[0].GetProperty("logit").GetDouble(), 2);
    }

    private static int PeakRow(float[] map, int width) => Array.IndexOf(map, map.Max()) / width;
}
