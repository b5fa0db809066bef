using System.Text.Json;
using Salient.Explain;
using Salient.Rendering;
using Xunit;

namespace Salient.Tests.Cli;

/// <summary>The README's main command writes the dog and cat CAM panels, and the maps point at the right animals.</summary>
public class ReadmeCommandTests
{
    [Fact]
    public void Readme_main_command_writes_panels_with_dog_on_top_and_cat_below()
    {
        // README: salient explain ../shared/images/both.png --class auto,282
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--class", "auto,282", "--out", dir, "--raw", "--json");
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

    [Fact]
    public void Gradcam_on_an_inner_layer_and_guided_backprop_from_the_cli()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--method", "gradcam,guidedbackprop", "--layer", "features.13", "--class", "243", "--out", dir, "--raw");
        Assert.True(r.ExitCode == 0, r.Err);
        var (raw, shape) = Npy.Read(Path.Combine(dir, "both_gradcam_243-bull-mastiff_raw.npy"));
        Assert.Equal(new[] { 14, 14 }, shape);                         // features.13 is [N,96,14,14]
        using var model = TestPaths.LoadDefault();
        var want = model.Explain(model.LoadImage(TestPaths.SharedImage("both.png")),
            new ExplainRequest { Methods = ["gradcam"], Layers = ["features.13"], Classes = ["243"] }).Explanations.Single().RawMap;
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], raw[i], 5);
        Assert.True(File.Exists(Path.Combine(dir, "both_guidedbackprop_243-bull-mastiff_gradient.png")), r.Out);
        var (channels, cshape) = Npy.Read(Path.Combine(dir, "both_guidedbackprop_243-bull-mastiff_channels.npy"));
        Assert.Equal(new[] { 3, 224, 224 }, cshape);
        Assert.Contains(channels, v => v != 0);
    }

    private static int PeakRow(float[] map, int width) => Array.IndexOf(map, map.Max()) / width;
}
