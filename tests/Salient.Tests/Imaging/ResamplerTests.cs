using Salient.Imaging;
using Xunit;

namespace Salient.Tests.Imaging;

public class ResamplerTests
{
    private static float[] Row(RgbImage img, int channel = 0) =>
        Enumerable.Range(0, img.Width).Select(x => img.Data[3 * x + channel]).ToArray();

    private static RgbImage Gray(int w, int h, Func<int, int, float> f)
    {
        var d = new float[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                d[3 * (y * w + x)] = d[3 * (y * w + x) + 1] = d[3 * (y * w + x) + 2] = f(x, y);
        return new RgbImage(w, h, d);
    }

    private static void AssertClose(float[] expected, float[] actual, float tol = 1e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [InlineData(37, 23, 10, 7)]
    [InlineData(5, 5, 17, 11)]
    [InlineData(300, 2, 3, 9)]
    public void A_constant_image_stays_constant(int w, int h, int nw, int nh)
    {
        var img = Gray(w, h, (_, _) => 123.25f);
        var r = Resampler.Resize(img, nw, nh);
        Assert.All(r.Data, v => Assert.Equal(123.25f, v, 3));
    }

    [Fact]
    public void Downscale_4To2_Antialiased_HandComputed()
    {
        // scale 2 -> triangle of half-width 2 input pixels. Output 0 (center 1.0) takes pixels 0,1,2 at
        // weights 0.75, 0.75, 0.25 (/1.75); output 1 (center 3.0) takes pixels 1,2,3 at 0.25, 0.75, 0.75.
        var img = Gray(4, 1, (x, _) => 10 * x);
        var r = Resampler.Resize(img, 2, 1);
        AssertClose([12.5f / 1.75f, 40f / 1.75f], Row(r));
    }

    [Fact]
    public void Upscale_LinearRamp_InterpolatesBetweenCenters()
    {
        // pixel k (center k+0.5) holds 10k; output i has center (i+0.5)/2. Inside, the ramp is
        // reproduced (5i - 2.5); at the edges only the edge pixel is in reach.
        var img = Gray(4, 1, (x, _) => 10 * x);
        var r = Resampler.Resize(img, 8, 1);
        AssertClose([0, 2.5f, 7.5f, 12.5f, 17.5f, 22.5f, 27.5f, 30], Row(r));
    }

    [Fact]
    public void Downscale_LinearRamp_KeepsInteriorExact()
    {
        // 8 -> 4 of v = k: interior outputs are symmetric averages around centers 3 and 5 -> 2.5, 4.5;
        // the ends lose their outer taps: (0·.75 + 1·.75 + 2·.25)/1.75 and (5·.25 + 6·.75 + 7·.75)/1.75.
        var img = Gray(8, 1, (x, _) => x);
        var r = Resampler.Resize(img, 4, 1);
        AssertClose([1.25f / 1.75f, 2.5f, 4.5f, 11f / 1.75f], Row(r));
    }

    [Fact]
    public void Vertical_MatchesHorizontal()
    {
        var h = Resampler.Resize(Gray(8, 1, (x, _) => x * x), 3, 1);
        var v = Resampler.Resize(Gray(1, 8, (_, y) => y * y), 1, 3);
        AssertClose(Row(h), Enumerable.Range(0, 3).Select(i => v.Data[3 * i]).ToArray(), 1e-5f);
    }

    [Fact]
    public void Region_EqualsPartOfFullResize()
    {
        var rnd = new Random(11);
        var img = Gray(23, 19, (_, _) => (float)rnd.NextDouble() * 255);
        var full = Resampler.Resize(img, 15, 13);
        var part = Resampler.ResizeRegion(img, 15, 13, 4, 3, 9, 8);
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 9; x++)
                Assert.Equal(full.GetPixel(x + 4, y + 3), part.GetPixel(x, y));
    }

    [Fact]
    public void Channels_stay_separate()
    {
        var img = RgbImage.FromBytes(2, 1, [255, 0, 10, 255, 0, 30]);
        var r = Resampler.Resize(img, 1, 1);
        AssertClose([255, 0, 20], r.Data);
    }

    [Fact]
    public void A_single_channel_buffer_is_resampled()
    {
        var r = Resampler.Resize([0f, 10f, 20f, 30f], 4, 1, 1, 2, 1);
        AssertClose([12.5f / 1.75f, 40f / 1.75f], r);
    }
}
