using Salient.Imaging;
using Salient.Rendering;
using Xunit;

namespace Salient.Tests.Rendering;

public class HeatmapRendererTests
{
    private static RgbImage Solid(int w, int h, byte r, byte g, byte b)
    {
        var bytes = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++) { bytes[3 * i] = r; bytes[3 * i + 1] = g; bytes[3 * i + 2] = b; }
        return RgbImage.FromBytes(w, h, bytes);
    }

    [Fact]
    public void Colorize_UsesColormap()
    {
        var img = HeatmapRenderer.Colorize([0f, 1f, 0.5f, float.NaN], 2, 2, Colormap.Jet);
        Assert.Equal(2, img.Width);
        Assert.Equal(2, img.Height);
        Assert.Equal((0f, 0f, 128f), img.GetPixel(0, 0));
        Assert.Equal((128f, 0f, 0f), img.GetPixel(1, 0));
        Assert.Equal((130f, 255f, 126f), img.GetPixel(0, 1));
        Assert.Equal((0f, 0f, 128f), img.GetPixel(1, 1));
    }

    [Fact]
    public void Overlay_1x2_HandComputed()
    {
        // pixel 0: 0.5·(100, 0, 0) + 0.5·jet(0) = 0.5·(100, 0, 0) + 0.5·(0, 0, 128) = (50, 0, 64)
        // pixel 1: 0.5·(0, 0, 200) + 0.5·jet(1) = 0.5·(0, 0, 200) + 0.5·(128, 0, 0) = (64, 0, 100)
        var image = RgbImage.FromBytes(2, 1, [100, 0, 0, 0, 0, 200]);
        var o = HeatmapRenderer.Overlay(image, [0f, 1f], Colormap.Jet, 0.5f);
        Assert.Equal([50f, 0f, 64f, 64f, 0f, 100f], o.Data);

        // alpha 0.25 with gray: 0.75·100 + 0.25·255 = 138.75
        var g = HeatmapRenderer.Overlay(image, [1f, 0f], Colormap.Gray, 0.25f);
        Assert.Equal([138.75f, 63.75f, 63.75f, 0f, 0f, 150f], g.Data);
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1.5f)]
    [InlineData(float.NaN)]
    public void Overlay_BadAlpha_IsUserError(float alpha)
    {
        var image = RgbImage.FromBytes(1, 1, [1, 2, 3]);
        var e = Assert.Throws<SalientException>(() => HeatmapRenderer.Overlay(image, [0f], Colormap.Jet, alpha));
        Assert.StartsWith("overlay alpha must be between 0 and 1", e.Message);
    }

    [Fact]
    public void Overlay_SizeMismatch_Throws()
    {
        Assert.Throws<ArgumentException>(() => HeatmapRenderer.Overlay(Solid(2, 2, 0, 0, 0), [0f], Colormap.Jet, 0.5f));
    }

    // Layout of a panel: gap 8, title bar 30, then tiles; the colorbar starts one gap after the third tile.
    private const int Gap = 8, Top = 30 + 8;

    [Fact]
    public void Panel_LayoutTilesAndScaling()
    {
        // 600×300 original scales to 512×256 tiles (the bounded size), whatever the original's size
        var original = Solid(600, 300, 200, 100, 50);
        var map = Enumerable.Repeat(1f, 600 * 300).ToArray();
        var p = HeatmapRenderer.Panel(original, map, Colormap.Jet, 0.5f, "Grad-CAM: tabby cat (0.87)", null);
        Assert.True(p.Width > Gap + 3 * (512 + Gap) + 14 && p.Width < Gap + 3 * (512 + Gap) + 80, $"width {p.Width}");
        Assert.True(p.Height > Top + 256 + Gap && p.Height < Top + 256 + 40, $"height {p.Height}");
        int cy = Top + 128;
        Assert.Equal((200f, 100f, 50f), p.GetPixel(8 + 256, cy)); // original
        Assert.Equal((128f, 0f, 0f), p.GetPixel(8 + 520 + 256, cy)); // heatmap: jet(1)
        Assert.Equal((164f, 50f, 25f), p.GetPixel(8 + 2 * 520 + 256, cy)); // overlay: (200+128)/2, 100/2, 50/2
        Assert.Equal((30f, 30f, 30f), p.GetPixel(4, cy)); // gap
    }

    [Fact]
    public void Panel_of_a_big_photo_is_bounded_and_full_resolution_is_not()
    {
        var original = Solid(1600, 1200, 10, 20, 30);
        var spec = new PanelSpec { Original = original, Map = new float[7 * 7], MapHeight = 7, MapWidth = 7, MapGeometry = CropGeometry.Whole(1600, 1200) };
        var bounded = HeatmapRenderer.Render(spec);
        Assert.True(bounded.Width < 1800 && bounded.Height < 512 + 100, $"{bounded.Width}x{bounded.Height}");
        var full = HeatmapRenderer.Render(spec with { MaxTile = int.MaxValue });
        Assert.True(full.Width > 3 * 1600 && full.Height > 1200, $"{full.Width}x{full.Height}");
    }

    [Theory]
    [InlineData(Colormap.Jet)]
    [InlineData(Colormap.Viridis)]
    [InlineData(Colormap.Coolwarm)]
    public void Colorbar_pixels_are_the_colormap_top_to_bottom(Colormap cm)
    {
        // 20×10 original → 140×70 tiles; bar rows r = 0..69 show cm(1 − (r + 0.5)/70)
        var p = HeatmapRenderer.Panel(Solid(20, 10, 0, 0, 0), new float[200], cm, 0.5f, "t", null);
        int bx = Gap + 3 * (140 + Gap) + 5;
        foreach (int r in new[] { 0, 17, 35, 52, 69 })
        {
            var (R, G, B) = Colormaps.Map(cm, 1f - (r + 0.5f) / 70);
            Assert.Equal(((float)R, (float)G, (float)B), p.GetPixel(bx, Top + r));
        }
    }

    [Fact]
    public void Colorbar_tick_labels_say_the_scale()
    {
        Assert.Equal("1", HeatmapRenderer.FormatTick(1));
        Assert.Equal("0.5", HeatmapRenderer.FormatTick(0.5));
        Assert.Equal("-0.0123", HeatmapRenderer.FormatTick(-0.012345));
        Assert.Equal("1.23e+4", HeatmapRenderer.FormatTick(12345));
        // the labels are drawn right of the bar: light pixels there
        var p = HeatmapRenderer.Panel(Solid(20, 10, 0, 0, 0), new float[200], Colormap.Jet, 0.5f, "t", null);
        int bx = Gap + 3 * (140 + Gap) + 14 + 4;
        int light = 0;
        for (int y = Top; y < Top + 70; y++) for (int x = bx; x < p.Width; x++) if (p.GetPixel(x, y).R > 120) light++;
        Assert.True(light > 15, $"{light} light pixels for the tick labels");
    }

    [Fact]
    public void Captions_are_drawn_under_each_tile()
    {
        var p = HeatmapRenderer.Panel(Solid(20, 10, 0, 0, 0), new float[200], Colormap.Jet, 0.5f, "t", null);
        for (int t = 0; t < 3; t++)
        {
            int light = 0;
            for (int y = Top + 70; y < p.Height; y++)
                for (int x = Gap + t * 148; x < Gap + t * 148 + 140; x++)
                    if (p.GetPixel(x, y).R > 120) light++;
            Assert.True(light > 10, $"tile {t}: {light} caption pixels");
        }
    }

    [Fact]
    public void Pixels_the_model_did_not_see_are_hatched_not_the_coldest_color()
    {
        // the model saw x in [5, 15) of a 20×10 image (tiles ×7); the map is 0 everywhere (jet(0) = dark blue)
        var original = Solid(20, 10, 200, 200, 200);
        var crop = new CropGeometry(5, 0, 10, 10, 20, 10);
        var p = HeatmapRenderer.Panel(original, new float[200], Colormap.Jet, 0.5f, "t", crop);
        int heatX = Gap + 148, overX = Gap + 2 * 148;
        var cold = Colormaps.Map(Colormap.Jet, 0);
        Assert.Equal(((float)cold.R, cold.G, cold.B), p.GetPixel(heatX + 70, Top + 30)); // inside: the colormap
        var seenColors = new HashSet<(float, float, float)>();
        for (int x = 0; x < 30; x++)
        {
            var px = p.GetPixel(heatX + x, Top + 30);
            Assert.NotEqual(((float)cold.R, cold.G, cold.B), px);
            Assert.Equal(px.R, px.B); // gray
            seenColors.Add(px);
            var o = p.GetPixel(overX + x, Top + 30);
            Assert.True(o.R < 200 * 0.35f + 0.65f * 100 && o.R == o.B, $"overlay outside the crop is dimmed gray, got {o}");
        }
        Assert.Equal(2, seenColors.Count); // background and hatch lines
        // an image-valued middle tile (a gradient) is marked the same way
        var g = HeatmapRenderer.Panel(original, new float[200], Colormap.Jet, 0.5f, "t", crop, Solid(20, 10, 128, 128, 128));
        for (int x = 0; x < 30; x++) Assert.Equal(p.GetPixel(heatX + x, Top + 30), g.GetPixel(heatX + x, Top + 30));
        Assert.Equal((128f, 128f, 128f), g.GetPixel(heatX + 70, Top + 30));
        Assert.True(HeatmapRenderer.IsHatch(0, 0) && !HeatmapRenderer.IsHatch(4, 0));
    }

    [Fact]
    public void Panel_SmallImagesAreEnlarged_AndCropIsOutlined()
    {
        // 20×10 -> pixel replication ×7 = 140×70 tiles; the model saw x in [5, 15) of the original
        var original = Solid(20, 10, 0, 0, 255);
        var crop = new CropGeometry(5, 0, 10, 10, 20, 10);
        var p = HeatmapRenderer.Panel(original, new float[200], Colormap.Gray, 0.5f, "t", crop);
        int oy = Top;
        Assert.Equal((255f, 255f, 255f), p.GetPixel(8 + 35, oy + 30)); // left edge of the rectangle (5·7)
        Assert.Equal((0f, 0f, 0f), p.GetPixel(8 + 36, oy + 30)); // dark inner line
        Assert.Equal((0f, 0f, 255f), p.GetPixel(8 + 60, oy + 30)); // inside: untouched
        Assert.Equal((255f, 255f, 255f), p.GetPixel(8 + 104, oy + 30)); // right edge (15·7 - 1)
        Assert.Equal((0f, 0f, 255f), p.GetPixel(8 + 120, oy + 30)); // outside, on the original: untouched
    }

    [Fact]
    public void Panel_NoRectangleForWholeImage()
    {
        var original = Solid(20, 10, 0, 0, 255);
        var p = HeatmapRenderer.Panel(original, new float[200], Colormap.Gray, 0.5f, "t", CropGeometry.Whole(20, 10));
        for (int x = 8; x < 8 + 140; x++) Assert.Equal((0f, 0f, 255f), p.GetPixel(x, Top + 30));
    }

    [Fact]
    public void Embedded_font_draws_g_and_9_differently_and_the_title_is_visible()
    {
        static bool[] Glyph(string s)
        {
            using var c = new Canvas(24, 24, (0, 0, 0));
            c.Text(s, 4, 2, 18, (255, 255, 255));
            return c.Pixels.Where((_, i) => i % 4 == 0).Select(v => v > 100).ToArray();
        }
        var g = Glyph("g");
        var nine = Glyph("9");
        Assert.True(g.Count(b => b) > 20, "g has ink");
        Assert.True(nine.Count(b => b) > 20, "9 has ink");
        Assert.True(g.Zip(nine).Count(x => x.First != x.Second) > 20, "g and 9 differ");
        Assert.NotNull(typeof(HeatmapRenderer).Assembly.GetManifestResourceStream(Fonts.ResourceName));
        Assert.Equal("DejaVu Sans", Fonts.Regular.FamilyName);

        var p = HeatmapRenderer.Panel(Solid(64, 64, 0, 0, 0), new float[64 * 64], Colormap.Gray, 0.5f, "Title", null);
        int bright = 0;
        for (int y = 0; y < 30; y++) for (int x = 0; x < p.Width; x++) if (p.GetPixel(x, y).R > 150) bright++;
        Assert.True(bright > 20, $"only {bright} light pixels in the title bar");
    }

    [Fact]
    public void No_system_font_paths_in_the_library()
    {
        var root = TestPaths.RepoRoot;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src", "Salient"), "*.cs", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain("/usr/share/fonts", text);
            Assert.DoesNotContain(@"C:\\Windows\\Fonts", text);
        }
        Assert.False(File.Exists(Path.Combine(root, "src", "Salient", "Rendering", "BitmapFont.cs")));
        Assert.True(File.Exists(Path.Combine(root, "src", "Salient", "Rendering", "Fonts", "LICENSE-DejaVu.txt")));
    }

    [Fact]
    public void Coolwarm_is_morelands_diverging_map()
    {
        Assert.Equal(((byte)59, (byte)76, (byte)192), Colormaps.Map(Colormap.Coolwarm, 0));
        Assert.Equal(((byte)180, (byte)4, (byte)38), Colormaps.Map(Colormap.Coolwarm, 1));
        var mid = Colormaps.Map(Colormap.Coolwarm, 0.5f);
        Assert.InRange((int)mid.R, 215, 228); // matplotlib's coolwarm(0.5) ≈ (221, 221, 221)
        Assert.InRange((int)mid.G, 215, 228);
        Assert.InRange((int)mid.B, 215, 228);
        Assert.True(Colormaps.IsDiverging(Colormap.Coolwarm) && !Colormaps.IsDiverging(Colormap.Jet));
    }

    [Fact]
    public void Encoded_png_round_trips_through_the_loader()
    {
        var img = new RgbImage(3, 1, [0.4f, 127.5f, 300f, -5f, 10.49f, 254.6f, 1f, 2f, 3f]);
        var png = ImageWriter.EncodePng(img);
        var back = ImageLoader.Decode(png, "out.png");
        Assert.Equal([0f, 128f, 255f, 0f, 10f, 255f, 1f, 2f, 3f], back.Data);
    }

    [Fact]
    public void SavePng_writes_the_file_and_reports_bad_paths()
    {
        var dir = Directory.CreateTempSubdirectory("salient-png");
        try
        {
            var path = Path.Combine(dir.FullName, "nested", "p.png");
            ImageWriter.SavePng(RgbImage.FromBytes(1, 1, [9, 8, 7]), path);
            Assert.Equal([9f, 8f, 7f], ImageLoader.Load(path).Data);
            // a path whose parent is a file
            var bad = Path.Combine(path, "x.png");
            var e = Assert.Throws<SalientException>(() => ImageWriter.SavePng(RgbImage.FromBytes(1, 1, [1, 2, 3]), bad));
            Assert.StartsWith($"cannot write '{bad}'", e.Message);
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
