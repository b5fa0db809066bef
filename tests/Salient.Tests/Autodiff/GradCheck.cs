using Salient.Autodiff;
using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;
using Xunit;

namespace Salient.Tests.Autodiff;

/// <summary>
/// Finite-difference checks: the engine's gradient of Σ seed ⊙ y with respect to the input is
/// compared with central differences (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε of the same sum, computed
/// with plain ORT forward runs of the unmodified graph (float32 forward, sums in double).
/// Tolerance: |fd − grad| ≤ tol · max|grad| for every checked coordinate (default ε = 1e-2,
/// tol = 1e-2). Piecewise-linear ops are exact under FD as long as no kink is crossed, so the tests
/// keep inputs away from kinks (|x| ≥ 0.05 for ReLU-like ops, distinct values ≥ 0.05 apart for max).
/// </summary>
internal static class GradCheck
{
    public static readonly RuntimeOptions Options = new() { IntraOpThreads = 1 };

    public static float[] Uniform(Random rng, int n, float lo = -1f, float hi = 1f) =>
        Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * (float)rng.NextDouble()).ToArray();

    /// <summary>Uniform values with none closer than <paramref name="gap"/> to any of <paramref name="kinks"/>.</summary>
    public static float[] AwayFrom(Random rng, int n, float lo, float hi, float gap, params float[] kinks)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            float x;
            do x = lo + (hi - lo) * (float)rng.NextDouble();
            while (kinks.Any(k => Math.Abs(x - k) < gap));
            v[i] = x;
        }
        return v;
    }

    /// <summary>A random permutation of evenly spaced values (all distinct, <paramref name="spacing"/> apart), centred on 0.</summary>
    public static float[] Distinct(Random rng, int n, float spacing = 0.05f)
    {
        var v = Enumerable.Range(0, n).Select(i => (i - n / 2) * spacing + spacing / 2).ToArray();
        for (int i = n - 1; i > 0; i--) { int j = rng.Next(i + 1); (v[i], v[j]) = (v[j], v[i]); }
        return v;
    }

    public sealed record Outcome(float[] Gradient, float[] Fd, int[] Checked, double MaxAbsGrad, double MaxErr);

    /// <summary>Runs the engine and FD on <paramref name="g"/> and asserts agreement.</summary>
    public static Outcome Check(Graph g, long[] shape, float[] x, string input = "x", double eps = 1e-2, double tol = 1e-2,
        int maxCoords = 400, int seed = 7, ReluMode? relu = null, string score = "y", bool dynamicBatch = false)
    {
        var spec = new InputSpec(input, DataType.Float, Salient.Core.TensorLayout.Nchw, 1, 1, 1, dynamicBatch, dynamicBatch ? 1 : (int)shape[0]);
        using var engine = new GradientEngine(g, spec, Options);
        float[]? seedData = null;
        var result = engine.Run(new InputValue(input, shape, x), new GradientRequest { ScoreTensor = score, Wrt = [input], Relu = relu ?? ReluMode.Standard },
            s =>
            {
                seedData = Uniform(new Random(seed), (int)s.Length, -1f, 1f);
                return seedData;
            });
        var grad = result.Gradients[input];
        Assert.Equal(shape, grad.Shape);
        Assert.NotNull(seedData);

        var fg = g.Clone();
        fg.Outputs.Clear();
        fg.Outputs.Add(new ValueInfo(score, DataType.Float, null));
        using var session = new GraphSession(fg, Options);
        double F(float[] v)
        {
            var y = session.Run([new InputValue(input, shape, v)], [score])[score].Data;
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += (double)seedData![i] * y[i];
            return s;
        }
        var rng = new Random(seed + 1);
        int n = x.Length;
        int[] coords = n <= maxCoords ? Enumerable.Range(0, n).ToArray()
            : Enumerable.Range(0, n).OrderBy(_ => rng.Next()).Take(maxCoords).Order().ToArray();
        var fd = new float[coords.Length];
        var xp = (float[])x.Clone();
        for (int k = 0; k < coords.Length; k++)
        {
            int i = coords[k];
            xp[i] = (float)(x[i] + eps);
            double fp = F(xp);
            xp[i] = (float)(x[i] - eps);
            double fm = F(xp);
            xp[i] = x[i];
            fd[k] = (float)((fp - fm) / (2 * eps));
        }
        double maxGrad = grad.Data.Max(v => Math.Abs((double)v));
        double maxErr = 0;
        int worst = -1;
        for (int k = 0; k < coords.Length; k++)
        {
            double e = Math.Abs(fd[k] - grad.Data[coords[k]]);
            if (e > maxErr) { maxErr = e; worst = k; }
        }
        Assert.True(maxGrad > 1e-6, "the gradient is all zero: the test would prove nothing");
        Assert.True(maxErr <= tol * maxGrad,
            $"max |fd − grad| = {maxErr:g4} at coordinate {(worst >= 0 ? coords[worst] : -1)} (fd {(worst >= 0 ? fd[worst] : 0):g5}, grad {(worst >= 0 ? grad.Data[coords[worst]] : 0):g5}); max|grad| = {maxGrad:g4}, tolerance {tol} × max|grad|");
        return new Outcome(grad.Data, fd, coords, maxGrad, maxErr);
    }
}
