namespace Salient.Core;

/// <summary>Seeded noise: every random number Salient draws comes from a <see cref="Random"/> the caller seeds.</summary>
internal static class Noise
{
    /// <summary>A standard normal sample (Box–Muller, cosine branch).</summary>
    public static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
