using Salient.Evaluation;
using Xunit;

namespace Salient.Tests.Evaluation;

/// <summary>Deletion / insertion inputs built from whatever a reused buffer row held equal the definition.</summary>
public class PerturbedRowTests
{
    [Theory]
    [InlineData(TensorLayout.Nchw)]
    [InlineData(TensorLayout.Nhwc)]
    public void Every_step_equals_the_definition_whatever_the_buffer_held(TensorLayout layout)
    {
        const int C = 3, Plane = 37 * 23, N = 10;
        var rng = new Random(2);
        float[] Image() => Enumerable.Range(0, C * Plane).Select(_ => (float)rng.NextDouble()).ToArray();
        var x = Image();
        var baseline = Image();
        var order = Enumerable.Range(0, Plane).OrderBy(_ => rng.Next()).ToArray();
        int At(int c, int p) => layout == TensorLayout.Nchw ? c * Plane + p : p * C + c;
        foreach (bool deletion in new[] { true, false })
        {
            var (from, to) = deletion ? (x, baseline) : (baseline, x);
            var curve = new PixelCurve(from, to, order, C, Plane, layout, fromIsInput: deletion);
            var other = new PixelCurve(to, from, order.Reverse().ToArray(), C, Plane, layout, fromIsInput: !deletion);
            var steps = Enumerable.Range(0, N + 1).Select(k => new CurveStep(curve, k * Plane / N)).ToArray();
            for (int k = 0; k <= N; k++)
            {
                // The definition: the first k·Plane/N pixels of the order show `to`, the others `from`.
                var expected = (float[])from.Clone();
                for (int i = 0; i < k * Plane / N; i++)
                    for (int c = 0; c < C; c++) expected[At(c, order[i])] = to[At(c, order[i])];
                var held = new List<(string, float[], PerturbedRow?)> { ("unknown", Image(), PerturbedRow.Unknown), ("another curve's row", Image(), new CurveStep(other, Plane / 3)) };
                held.Add(("the input", (float[])x.Clone(), null)); // a fresh buffer row holds the unperturbed input
                for (int j = 0; j <= k; j++)
                {
                    var d = new float[C * Plane];
                    steps[j].Build(d, PerturbedRow.Unknown);
                    held.Add(($"step {j}", d, steps[j]));
                }
                foreach (var (what, buffer, previous) in held)
                {
                    steps[k].Build(buffer, previous);
                    Assert.True(expected.AsSpan().SequenceEqual(buffer), $"{(deletion ? "deletion" : "insertion")} step {k} built over {what}");
                }
            }
        }
    }
}
