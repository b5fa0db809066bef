using Salient.Explain;
using Xunit;

namespace Salient.Tests.Methods;

/// <summary>The 99th-percentile normalization of pixel maps against a sort-based reference.</summary>
public class NormalizationTests
{
    [Theory]
    [InlineData(1, 0.99)]
    [InlineData(7, 0.99)]
    [InlineData(50176, 0.99)]
    [InlineData(1000, 0.5)]
    public void Percentile_normalization_equals_sorting(int n, double q)
    {
        var rng = new Random(n);
        var map = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2) * (rng.Next(10) == 0 ? 10 : 1)).ToArray();
        var sorted = map.Select(Math.Abs).Order().ToArray();
        float p = sorted[Math.Clamp((int)Math.Ceiling(q * n) - 1, 0, n - 1)];
        var got = MapMath.NormalizeByPercentile(map, q);
        for (int i = 0; i < n; i++) Assert.Equal(Math.Min(1f, Math.Abs(map[i]) / p), got[i]);
    }

    [Fact]
    public void Mostly_zero_map_falls_back_to_the_maximum()
    {
        var map = new float[200];
        map[3] = -4f;
        map[7] = 2f;
        var got = MapMath.NormalizeByPercentile(map, 0.99);
        Assert.Equal(1f, got[3]);
        Assert.Equal(0.5f, got[7]);
        Assert.Equal(new float[200], MapMath.NormalizeByPercentile(new float[200], 0.99));
    }
}
