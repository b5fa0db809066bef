using Salient.Methods;
using Xunit;

namespace Salient.Tests.Methods;

/// <summary>Finer-CAM's score and its closed-form seed against central differences of the score itself.</summary>
public class FinerCamTests
{
    private static double Score(double[] y, int c, int[] js, double alpha)
    {
        double max = y.Max();
        var e = y.Select(v => Math.Exp(v - max)).ToArray();
        double z = e.Sum(), num = 0, den = 1e-9;
        foreach (int j in js)
        {
            num += e[j] / z * (y[c] - alpha * y[j]);
            den += e[j] / z;
        }
        return num / den;
    }

    [Theory]
    [InlineData(1.0, 3)]
    [InlineData(0.6, 2)]
    public void Seed_is_the_gradient_of_the_softmax_weighted_difference(double alpha, int compare)
    {
        float[] y = [0.3f, 2.0f, 1.7f, -0.4f, 2.4f, 1.1f, 0.9f];
        const int c = 1;
        var js = FinerCam.Similar(y, c, compare);
        // |y_j − 2.0|: 2.4 (0.4), 1.7 (0.3), 1.1 (0.9), 0.9 (1.1) → 2, 4, 5 in that order.
        Assert.Equal(new[] { 2, 4, 5 }.Take(compare), js);
        var seed = FinerCam.Seed(y, c, compare, alpha);
        var yd = y.Select(v => (double)v).ToArray();
        for (int l = 0; l < y.Length; l++)
        {
            const double h = 1e-5;
            var up = (double[])yd.Clone(); up[l] += h;
            var down = (double[])yd.Clone(); down[l] -= h;
            double fd = (Score(up, c, js, alpha) - Score(down, c, js, alpha)) / (2 * h);
            Assert.Equal(fd, seed[l], 5);
        }
    }
}
