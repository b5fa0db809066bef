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

    [Fact]
    public void Panel_LayoutTilesAndScaling()
    {
        // 600×300 original scales to 512×256 tiles: 8 + 3·(512 + 8) = 1568 wide, 30 + 8 + 256 + 8 = 302 high
        var original = Solid(600, 300, 200, 100, 50);
        var map = Enumerable.Repeat(1f, 600 * 300).ToArray();
        var p = HeatmapRenderer.Panel(original, map, Colormap.Jet, 0.5f, "Grad-CAM: tabby cat (0.87)", null);
        Assert.Equal(1568, p.Width);
        Assert.Equal(302, p.Height);
        int cy = 30 + 8 + 128;
        Assert.Equal((200f, 100f, 50f), p.GetPixel(8 + 256, cy)); // original
        Assert.Equal((128f, 0f, 0f), p.GetPixel(8 + 520 + 256, cy)); // heatmap: jet(1)
        Assert.Equal((164f, 50f, 25f), p.GetPixel(8 + 2 * 520 + 256, cy)); // overlay: (200+128)/2, 100/2, 50/2
        Assert.Equal((30f, 30f, 30f), p.GetPixel(4, cy)); // gap
    }

    [Fact]
    public void Panel_TitleIsVisible_TrueTypeOrBitmap()
    {
        var original = Solid(64, 64, 0, 0, 0);
        var map = new float[64 * 64];
        foreach (var force in new[] { false, true })
        {
            var p = HeatmapRenderer.PanelCore(original, map, Colormap.Gray, 0.5f, "Title", null, force);
            int bright = 0;
            for (int y = 0; y < 30; y++)
                for (int x = 0; x < p.Width; x++)
                    if (p.GetPixel(x, y).R > 150) bright++;
            Assert.True(bright > 20, $"force bitmap font = {force}: only {bright} light pixels in the title bar");
        }
    }

    [Fact]
    public void Panel_BitmapFont_DrawsGlyphPixels()
    {
        // "H" at scale 2, left edge x = 8, top y = (30 - 14)/2 + 2 = 10; first row of H is #...#
        var p = HeatmapRenderer.PanelCore(Solid(64, 64, 0, 0, 0), new float[64 * 64], Colormap.Gray, 0.5f, "H", null, true);
        Assert.Equal((235f, 235f, 235f), p.GetPixel(8, 10));
        Assert.Equal((235f, 235f, 235f), p.GetPixel(9, 11));
        Assert.Equal((30f, 30f, 30f), p.GetPixel(10, 10));
        Assert.Equal((235f, 235f, 235f), p.GetPixel(16, 10)); // column 4 of the glyph
        Assert.Equal((235f, 235f, 235f), p.GetPixel(10, 16)); // row 3 is #####
    }

    [Fact]
    public void Panel_SmallImagesAreEnlarged_AndCropIsOutlined()
    {
        // 20×10 -> pixel replication ×7 = 140×70 tiles; the model saw x in [5, 15) of the original
        var original = Solid(20, 10, 0, 0, 255);
        var crop = new CropGeometry(5, 0, 10, 10, 20, 10);
        var p = HeatmapRenderer.Panel(original, new float[200], Colormap.Gray, 0.5f, "t", crop);
        Assert.Equal(8 + 3 * (140 + 8), p.Width);
        Assert.Equal(30 + 8 + 70 + 8, p.Height);
        int oy = 38;
        Assert.Equal((255f, 255f, 255f), p.GetPixel(8 + 35, oy + 30)); // left edge of the rectangle (5·7)
        Assert.Equal((0f, 0f, 0f), p.GetPixel(8 + 36, oy + 30)); // dark inner line
        Assert.Equal((0f, 0f, 255f), p.GetPixel(8 + 60, oy + 30)); // inside: untouched
        Assert.Equal((255f, 255f, 255f), p.GetPixel(8 + 104, oy + 30)); // right edge (15·7 - 1)
        Assert.Equal((0f, 0f, 255f), p.GetPixel(8 + 120, oy + 30)); // outside
    }

    [Fact]
    public void Panel_NoRectangleForWholeImage()
    {
        var original = Solid(20, 10, 0, 0, 255);
        var p = HeatmapRenderer.Panel(original, new float[200], Colormap.Gray, 0.5f, "t", CropGeometry.Whole(20, 10));
        for (int x = 8; x < 8 + 140; x++) Assert.Equal((0f, 0f, 255f), p.GetPixel(x, 38 + 30));
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
