using System.Diagnostics;
using Salient.Imaging;
using SkiaSharp;
using Xunit;
using static Salient.Tests.Imaging.TestImageFiles;

namespace Salient.Tests.Imaging;

public class ImageLoaderTests
{
    private static void AssertPixel(RgbImage img, int x, int y, float r, float g, float b, float tol = 0f)
    {
        var (pr, pg, pb) = img.GetPixel(x, y);
        Assert.True(Math.Abs(pr - r) <= tol && Math.Abs(pg - g) <= tol && Math.Abs(pb - b) <= tol,
            $"pixel ({x},{y}) is ({pr}, {pg}, {pb}), expected ({r}, {g}, {b}) ±{tol}");
    }

    private static int[,,] Samples(int w, int h, int channels, Func<int, int, int, int> f)
    {
        var s = new int[h, w, channels];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < channels; c++)
                    s[y, x, c] = f(x, y, c);
        return s;
    }

    [Fact]
    public void Png_Rgb8_ExactValues()
    {
        var s = Samples(3, 2, 3, (x, y, c) => (x * 70 + y * 30 + c * 11) % 256);
        var img = ImageLoader.Decode(Png(3, 2, 8, 2, s), "rgb.png");
        Assert.Equal(3, img.Width);
        Assert.Equal(2, img.Height);
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                AssertPixel(img, x, y, s[y, x, 0], s[y, x, 1], s[y, x, 2]);
    }

    [Fact]
    public void Png_Rgba8_AlphaDroppedWithoutCompositing()
    {
        // pixel 1 is fully transparent but keeps its stored color (straight alpha, like PIL convert('RGB'))
        var s = new int[1, 3, 4];
        int[][] px = [[200, 100, 50, 255], [10, 20, 30, 0], [90, 180, 250, 128]];
        for (int x = 0; x < 3; x++)
            for (int c = 0; c < 4; c++)
                s[0, x, c] = px[x][c];
        var img = ImageLoader.Decode(Png(3, 1, 8, 6, s), "rgba.png");
        AssertPixel(img, 0, 0, 200, 100, 50);
        AssertPixel(img, 1, 0, 10, 20, 30);
        AssertPixel(img, 2, 0, 90, 180, 250);
    }

    [Fact]
    public void Png_Gray8_AndGrayAlpha8()
    {
        var g = Samples(4, 3, 1, (x, y, _) => x * 60 + y * 5);
        var img = ImageLoader.Decode(Png(4, 3, 8, 0, g), "gray.png");
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
                AssertPixel(img, x, y, g[y, x, 0], g[y, x, 0], g[y, x, 0]);

        var ga = Samples(2, 2, 2, (x, y, c) => c == 0 ? 40 + 100 * x + 7 * y : 60 * y);
        var img2 = ImageLoader.Decode(Png(2, 2, 8, 4, ga), "ga.png");
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 2; x++)
                AssertPixel(img2, x, y, ga[y, x, 0], ga[y, x, 0], ga[y, x, 0]);
    }

    [Fact]
    public void Png_Palette8()
    {
        byte[] palette = [255, 0, 0, 0, 128, 0, 1, 2, 3, 250, 251, 252];
        var idx = Samples(4, 2, 1, (x, y, _) => (x + y) % 4);
        var img = ImageLoader.Decode(Png(4, 2, 8, 3, idx, palette: palette, trns: [255, 0]), "pal.png");
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 4; x++)
            {
                int i = idx[y, x, 0];
                AssertPixel(img, x, y, palette[3 * i], palette[3 * i + 1], palette[3 * i + 2]);
            }
    }

    [Fact]
    public void Png_Interlaced8()
    {
        var s = Samples(11, 9, 3, (x, y, c) => (x * 23 + y * 17 + c * 5) % 256);
        var img = ImageLoader.Decode(Png(11, 9, 8, 2, s, interlace: true), "adam7.png");
        for (int y = 0; y < 9; y++)
            for (int x = 0; x < 11; x++)
                AssertPixel(img, x, y, s[y, x, 0], s[y, x, 1], s[y, x, 2]);
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(6, false)]
    [InlineData(0, false)]
    [InlineData(4, false)]
    [InlineData(2, true)]
    [InlineData(6, true)]
    public void Png_16Bit_KeepsFullPrecision(int colorType, bool interlace)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
        int w = 10, h = 7;
        // values chosen so that neighbours differ by less than one 8-bit step and by odd amounts
        var s = Samples(w, h, channels, (x, y, c) => (0x1234 + x * 4097 + y * 333 + c * 7919 + x * y) % 65536);
        var img = ImageLoader.Decode(Png(w, h, 16, colorType, s, interlace), "deep.png");
        Assert.Equal(w, img.Width);
        Assert.Equal(h, img.Height);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float r = s[y, x, 0] * 255f / 65535f;
                if (channels <= 2) AssertPixel(img, x, y, r, r, r, 1e-4f);
                else AssertPixel(img, x, y, r, s[y, x, 1] * 255f / 65535f, s[y, x, 2] * 255f / 65535f, 1e-4f);
            }
    }

    [Fact]
    public void Png_16Bit_DistinguishesAdjacentValues()
    {
        // 0x7FFF and 0x8000 collapse to the same value in half-float decoding; here they must not
        var s = new int[1, 2, 3];
        for (int c = 0; c < 3; c++) { s[0, 0, c] = 0x7FFF; s[0, 1, c] = 0x8000; }
        var img = ImageLoader.Decode(Png(2, 1, 16, 2, s), "adjacent.png");
        Assert.Equal(32767f / 257f, img.Data[0], 4);
        Assert.Equal(32768f / 257f, img.Data[3], 4);
        Assert.NotEqual(img.Data[0], img.Data[3]);
    }

    [Fact]
    public void Jpeg_DecodesCloseToSource()
    {
        var rgba = Rgba(32, 16, (x, y) => x < 16 ? ((byte)200, (byte)40, (byte)40) : ((byte)30, (byte)60, (byte)220));
        var img = ImageLoader.Decode(SkiaEncode(32, 16, rgba, SKEncodedImageFormat.Jpeg), "a.jpg");
        Assert.Equal(32, img.Width);
        Assert.Equal(16, img.Height);
        AssertPixel(img, 4, 8, 200, 40, 40, 4);
        AssertPixel(img, 28, 8, 30, 60, 220, 4);
    }

    [Fact]
    public void Lossless_webp_decodes_exactly()
    {
        var rgba = Rgba(5, 4, (x, y) => ((byte)(x * 50), (byte)(y * 60), (byte)(x * y * 10 + 3)));
        var img = ImageLoader.Decode(SkiaEncode(5, 4, rgba, SKEncodedImageFormat.Webp), "a.webp");
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 5; x++)
                AssertPixel(img, x, y, x * 50, y * 60, x * y * 10 + 3);
    }

    [Fact]
    public void Bmp_Exact()
    {
        var s = Samples(3, 2, 3, (x, y, c) => 10 + 80 * x + 40 * y + c);
        var img = ImageLoader.Decode(Bmp(3, 2, s), "a.bmp");
        Assert.Equal(3, img.Width);
        Assert.Equal(2, img.Height);
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                AssertPixel(img, x, y, s[y, x, 0], s[y, x, 1], s[y, x, 2]);
    }

    [Fact]
    public void Gif_FirstFrame_Exact()
    {
        byte[] palette = [0, 0, 0, 255, 0, 0, 0, 255, 0, 10, 20, 250];
        var idx = new int[3, 4];
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
                idx[y, x] = (x + 2 * y) % 4;
        var img = ImageLoader.Decode(Gif(4, 3, palette, idx), "a.gif");
        Assert.Equal(4, img.Width);
        Assert.Equal(3, img.Height);
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
            {
                int i = idx[y, x];
                AssertPixel(img, x, y, palette[3 * i], palette[3 * i + 1], palette[3 * i + 2]);
            }
    }

    // Stored image 64×32: the top-left 32×16 quadrant is red, the rest blue. For each EXIF orientation,
    // the quadrant (column, row) of the upright image where the red block must end up.
    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(2, 1, 0)]
    [InlineData(3, 1, 1)]
    [InlineData(4, 0, 1)]
    [InlineData(5, 0, 0)]
    [InlineData(6, 1, 0)]
    [InlineData(7, 1, 1)]
    [InlineData(8, 0, 1)]
    public void Jpeg_ExifOrientation_MakesImageUpright(int orientation, int redCol, int redRow)
    {
        const int w = 64, h = 32;
        var rgba = Rgba(w, h, (x, y) => x < 32 && y < 16 ? ((byte)255, (byte)0, (byte)0) : ((byte)0, (byte)0, (byte)255));
        var jpeg = WithExifOrientation(SkiaEncode(w, h, rgba, SKEncodedImageFormat.Jpeg), orientation);
        var img = ImageLoader.Decode(jpeg, "exif.jpg");
        bool swapped = orientation >= 5;
        Assert.Equal(swapped ? h : w, img.Width);
        Assert.Equal(swapped ? w : h, img.Height);
        int qw = img.Width / 2, qh = img.Height / 2;
        for (int qy = 0; qy < 2; qy++)
            for (int qx = 0; qx < 2; qx++)
            {
                // sample the middle of each quadrant
                var (r, _, b) = img.GetPixel(qx * qw + qw / 2, qy * qh + qh / 2);
                bool red = qx == redCol && qy == redRow;
                Assert.True(red ? r > 200 && b < 50 : r < 50 && b > 200,
                    $"orientation {orientation}: quadrant ({qx},{qy}) is ({r}, {b}), expected {(red ? "red" : "blue")}");
            }
    }

    [Fact]
    public void Jpeg_Orientation6_KnownCorner()
    {
        // stored 64×32; one distinct block at the stored top-left. Orientation 6 turns the image 90°
        // clockwise, so the stored top-left corner lands at the top-right of the 32×64 result.
        var rgba = Rgba(64, 32, (x, y) => x < 8 && y < 8 ? ((byte)0, (byte)255, (byte)0) : ((byte)128, (byte)128, (byte)128));
        var img = ImageLoader.Decode(WithExifOrientation(SkiaEncode(64, 32, rgba, SKEncodedImageFormat.Jpeg), 6), "o6.jpg");
        Assert.Equal(32, img.Width);
        Assert.Equal(64, img.Height);
        AssertPixel(img, 31 - 3, 3, 0, 255, 0, 12);
        AssertPixel(img, 3, 3, 128, 128, 128, 12);
    }

    [Fact]
    public void Load_ReadsFile()
    {
        var dir = Directory.CreateTempSubdirectory("salient-img");
        try
        {
            var s = Samples(2, 2, 3, (x, y, c) => 100 + x + 10 * y + c);
            var path = Path.Combine(dir.FullName, "ok.png");
            File.WriteAllBytes(path, Png(2, 2, 8, 2, s));
            var img = ImageLoader.Load(path);
            AssertPixel(img, 1, 1, 111, 112, 113);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void Load_MissingFile()
    {
        var path = Path.Combine(Path.GetTempPath(), "salient-does-not-exist-" + Guid.NewGuid() + ".png");
        var e = Assert.Throws<SalientException>(() => ImageLoader.Load(path));
        Assert.Equal($"image file '{path}' not found", e.Message);
    }

    [Fact]
    public void Load_Directory()
    {
        var e = Assert.Throws<SalientException>(() => ImageLoader.Load(Path.GetTempPath()));
        Assert.Contains("is a directory", e.Message);
    }

    [Fact]
    public void Load_TextFileNamedPng_IsNotAnImage()
    {
        var dir = Directory.CreateTempSubdirectory("salient-img");
        try
        {
            var path = Path.Combine(dir.FullName, "x.png");
            File.WriteAllText(path, "this is not an image, just some text\n");
            var e = Assert.Throws<SalientException>(() => ImageLoader.Load(path));
            Assert.Equal($"'{path}' is not a readable image (PNG, JPEG, BMP, WebP or GIF)", e.Message);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Decode_EmptyOrTiny_IsNotAnImage(int length)
    {
        var e = Assert.Throws<SalientException>(() => ImageLoader.Decode(new byte[length], "x.png"));
        Assert.Contains("is not a readable image", e.Message);
    }

    [Fact]
    public void Decode_TruncatedJpeg()
    {
        var rgba = Rgba(64, 64, (x, y) => ((byte)(x * 4), (byte)(y * 4), (byte)((x ^ y) * 4)));
        var jpeg = SkiaEncode(64, 64, rgba, SKEncodedImageFormat.Jpeg, 90);
        var e = Assert.Throws<SalientException>(() => ImageLoader.Decode(jpeg[..(jpeg.Length / 2)], "x.jpg"));
        Assert.Equal("image 'x.jpg' is truncated or corrupt", e.Message);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Decode_TruncatedPng(int depth)
    {
        int max = depth == 8 ? 255 : 65535;
        var s = Samples(40, 40, 3, (x, y, c) => (x * 977 + y * 131 + c * 71) % (max + 1));
        var png = Png(40, 40, depth, 2, s);
        var cut = png[..(png.Length * 2 / 3)];
        var e = Assert.Throws<SalientException>(() => ImageLoader.Decode(cut, "x.png"));
        Assert.Equal("image 'x.png' is truncated or corrupt", e.Message);
    }

    [Fact]
    public void Decode_Png16_CorruptData()
    {
        var s = Samples(8, 8, 3, (x, y, c) => x * 1000 + y * 3000 + c);
        var png = Png(8, 8, 16, 2, s);
        png[png.Length - 20] ^= 0xFF; // inside the last IDAT: CRC no longer matches
        var e = Assert.Throws<SalientException>(() => ImageLoader.Decode(png, "bad.png"));
        Assert.Equal("image 'bad.png' is truncated or corrupt", e.Message);
    }

    [Fact]
    public void Decode_DecompressionBomb_FailsFastWithoutAllocating()
    {
        var bomb = PngHeaderOnly(30000, 30000);
        ImageLoader.Decode(Png(1, 1, 8, 2, new int[1, 1, 3]), "warmup.png"); // JIT + Skia init
        var sw = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<SalientException>(() => ImageLoader.Decode(bomb, "x.png"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        sw.Stop();
        Assert.Equal(
            "image 'x.png' is 30000×30000 = 900.0 megapixels, over the 100-megapixel limit (decompression-bomb guard); raise it with the `max-pixels` option",
            e.Message);
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes");
        Assert.True(sw.ElapsedMilliseconds < 1000, $"took {sw.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Decode_PixelLimitApplies_ToOtherFormats()
    {
        var rgba = Rgba(20, 10, (x, y) => ((byte)x, (byte)y, 0));
        var jpeg = SkiaEncode(20, 10, rgba, SKEncodedImageFormat.Jpeg);
        var e = Assert.Throws<SalientException>(() =>
            ImageLoader.Decode(jpeg, "small.jpg", new ImageLoadOptions { MaxPixels = 150 }));
        Assert.StartsWith("image 'small.jpg' is 20×10 = 0.0002 megapixels, over the 0.00015-megapixel limit", e.Message);
        // at the limit it loads
        var ok = ImageLoader.Decode(jpeg, "small.jpg", new ImageLoadOptions { MaxPixels = 200 });
        Assert.Equal(20, ok.Width);
    }

    [Fact]
    public void Decode_NonPositiveLimit_IsAnError()
    {
        var png = Png(1, 1, 8, 2, new int[1, 1, 3]);
        Assert.Throws<SalientException>(() => ImageLoader.Decode(png, "x.png", new ImageLoadOptions { MaxPixels = 0 }));
    }

    [Fact]
    public void RgbImage_validates_its_length_and_converts_from_bytes()
    {
        Assert.Throws<ArgumentException>(() => new RgbImage(2, 2, new float[11]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RgbImage(0, 2, []));
        var img = RgbImage.FromBytes(2, 1, [1, 2, 3, 250, 251, 252]);
        Assert.Equal([1f, 2f, 3f, 250f, 251f, 252f], img.Data);
        Assert.Equal(new byte[] { 1, 2, 3, 250, 251, 252 }, img.ToBytes());
    }
}
