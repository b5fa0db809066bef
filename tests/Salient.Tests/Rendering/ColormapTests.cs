using Salient.Rendering;
using Xunit;

namespace Salient.Tests.Rendering;

public class ColormapTests
{
    // Jet: OpenCV's COLORMAP_JET, i.e. r = clamp(1.5 - |4v-3|), g = clamp(1.5 - |4v-2|), b = clamp(1.5 - |4v-1|)
    // at v = i/255, times 255. Nearly every entry is an exact half, and OpenCV's float32 pipeline decides the
    // rounding; the expected bytes are those of cv2.applyColorMap(np.arange(256, dtype=np.uint8), COLORMAP_JET)
    // (OpenCV 4.6), converted to RGB. The half-way value in brackets is the formula's.
    [Theory]
    [InlineData(0f, 0, 0, 128)] // b = 127.5
    [InlineData(31f / 255, 0, 0, 252)] // b = 251.5
    [InlineData(0.125f, 0, 0, 255)] // index 32: g = 0.5, b = 255.5 -> 255
    [InlineData(0.375f, 2, 255, 254)] // index 96: r = 1.5, b = 253.5
    [InlineData(127f / 255, 126, 255, 130)] // r = 125.5, b = 129.5
    [InlineData(0.5f, 130, 255, 126)] // index 128: r = 129.5, b = 125.5
    [InlineData(0.625f, 254, 255, 1)] // index 159: r = 253.5, b = 1.5
    [InlineData(160f / 255, 255, 252, 0)] // g = 252.5
    [InlineData(0.875f, 255, 0, 0)] // index 223
    [InlineData(224f / 255, 252, 0, 0)] // r = 251.5
    [InlineData(1f, 128, 0, 0)] // r = 127.5
    public void Jet_MatchesOpenCv(float v, int r, int g, int b) =>
        Assert.Equal(((byte)r, (byte)g, (byte)b), Colormaps.Map(Colormap.Jet, v));

    [Fact]
    public void Jet_IsWithinHalfALevelOfTheFormulaEverywhere()
    {
        for (int i = 0; i < 256; i++)
        {
            double v = i / 255.0;
            double[] f = [1.5 - Math.Abs(4 * v - 3), 1.5 - Math.Abs(4 * v - 2), 1.5 - Math.Abs(4 * v - 1)];
            var (r, g, b) = Colormaps.Map(Colormap.Jet, i / 255f);
            byte[] got = [r, g, b];
            for (int c = 0; c < 3; c++)
            {
                double expected = Math.Clamp(f[c], 0, 1) * 255;
                Assert.True(Math.Abs(got[c] - expected) <= 0.5 + 1e-6, $"index {i} channel {c}: {got[c]} vs {expected}");
            }
        }
    }

    [Theory]
    [InlineData(0f, 0)]
    [InlineData(1f, 255)]
    [InlineData(0.5f, 128)] // 127.5 rounds up
    [InlineData(0.2f, 51)]
    [InlineData(-3f, 0)]
    [InlineData(7f, 255)]
    [InlineData(float.NaN, 0)]
    public void Gray_IsValueTimes255(float v, int level) =>
        Assert.Equal(((byte)level, (byte)level, (byte)level), Colormaps.Map(Colormap.Gray, v));

    [Fact]
    public void Viridis_Endpoints()
    {
        Assert.Equal(((byte)0x44, (byte)0x01, (byte)0x54), Colormaps.Map(Colormap.Viridis, 0f));
        Assert.Equal(((byte)0xFD, (byte)0xE7, (byte)0x25), Colormaps.Map(Colormap.Viridis, 1f));
        // matplotlib viridis(0.5) = (0.127568, 0.566949, 0.550556) at index 128
        Assert.Equal(((byte)33, (byte)145, (byte)140), Colormaps.Map(Colormap.Viridis, 128f / 255));
    }

    [Fact]
    public void Inferno_Endpoints()
    {
        Assert.Equal(((byte)0x00, (byte)0x00, (byte)0x04), Colormaps.Map(Colormap.Inferno, 0f));
        Assert.Equal(((byte)0xFC, (byte)0xFF, (byte)0xA4), Colormaps.Map(Colormap.Inferno, 1f));
    }

    [Fact]
    public void Turbo_Endpoints()
    {
        // Google's Turbo starts dark blue-violet (0.18995, 0.07176, 0.23217) and ends dark red (0.4796, 0.01583, 0.01055)
        var (r0, g0, b0) = Colormaps.Map(Colormap.Turbo, 0f);
        Assert.InRange(r0, 44, 52);
        Assert.InRange(g0, 14, 22);
        Assert.InRange(b0, 55, 63);
        var (r1, g1, b1) = Colormaps.Map(Colormap.Turbo, 1f);
        Assert.InRange(r1, 118, 126);
        Assert.InRange(g1, 0, 8);
        Assert.InRange(b1, 0, 7);
        // bright green-yellow in the middle
        var (rm, gm, bm) = Colormaps.Map(Colormap.Turbo, 0.5f);
        Assert.True(gm > 240 && rm > 140 && bm < 80, $"turbo(0.5) = ({rm}, {gm}, {bm})");
    }

    [Fact]
    public void Every_colormap_clamps_and_handles_NaN()
    {
        foreach (var cm in Enum.GetValues<Colormap>())
        {
            Assert.Equal(Colormaps.Map(cm, 0f), Colormaps.Map(cm, -1f));
            Assert.Equal(Colormaps.Map(cm, 0f), Colormaps.Map(cm, float.NaN));
            Assert.Equal(Colormaps.Map(cm, 1f), Colormaps.Map(cm, 2f));
            Assert.Equal(Colormaps.Map(cm, 1f), Colormaps.Map(cm, float.PositiveInfinity));
        }
    }

    [Theory]
    [InlineData("jet", Colormap.Jet)]
    [InlineData("TURBO", Colormap.Turbo)]
    [InlineData("Viridis", Colormap.Viridis)]
    [InlineData("inferno", Colormap.Inferno)]
    [InlineData("gray", Colormap.Gray)]
    public void Parse_CaseInsensitive(string s, Colormap cm) => Assert.Equal(cm, Colormaps.Parse(s));

    [Fact]
    public void Parse_Unknown_ListsNames()
    {
        var e = Assert.Throws<SalientException>(() => Colormaps.Parse("hot"));
        Assert.Equal("unknown colormap 'hot'; valid colormaps: jet, turbo, viridis, inferno, gray, coolwarm", e.Message);
    }
}
