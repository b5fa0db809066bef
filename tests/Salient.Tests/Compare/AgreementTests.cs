using Salient.Evaluation;
using Xunit;

namespace Salient.Tests.Compare;

/// <summary>The agreement metrics against values worked out by hand.</summary>
public class AgreementTests
{
    [Fact]
    public void Spearman_without_ties_is_one_minus_six_sum_d_squared()
    {
        // ranks 1..5 and 2,1,4,3,5: d = −1,1,−1,1,0, Σd² = 4 → ρ = 1 − 6·4 / (5·24) = 0.8
        Assert.Equal(0.8, Agreement.Spearman([10f, 20f, 30f, 40f, 50f], [20f, 10f, 40f, 30f, 50f]), 12);
        Assert.Equal(-1.0, Agreement.Spearman([1f, 2f, 3f], [0.3f, 0.2f, 0.1f]), 12);
    }

    [Fact]
    public void Spearman_with_ties_uses_average_ranks()
    {
        // ranks a = 1, 2.5, 2.5, 4 and b = 1, 4, 2.5, 2.5; deviations from 2.5: (−1.5, 0, 0, 1.5) and (−1.5, 1.5, 0, 0)
        // Σ dx·dy = 2.25, Σ dx² = Σ dy² = 4.5 → ρ = 0.5 (the d² formula would give 0.4: it ignores ties).
        Assert.Equal([1, 2.5, 2.5, 4], Agreement.Ranks([1f, 2f, 2f, 3f]));
        Assert.Equal(0.5, Agreement.Spearman([1f, 2f, 2f, 3f], [1f, 3f, 2f, 2f]), 12);
        Assert.Equal(0.0, Agreement.Spearman([1f, 2f, 3f], [5f, 5f, 5f]));   // a constant map has no order
    }

    [Fact]
    public void A_map_agrees_exactly_with_itself()
    {
        var map = Enumerable.Range(0, 257).Select(i => (float)Math.Sin(i * 0.7) * (i % 5)).ToArray();
        Assert.Equal(1.0, Agreement.Spearman(map, (float[])map.Clone()));
        Assert.Equal(1.0, Agreement.TopIoU(map, (float[])map.Clone()));
    }

    [Fact]
    public void Top_region_iou_by_hand()
    {
        // n = 10, top 20 % → k = 2: a's region {0, 1}, b's {0, 2}: IoU = 1 / 3.
        float[] a = [0.9f, 0.8f, 0.1f, 0.2f, 0.3f, 0, 0, 0, 0, 0];
        float[] b = [0.9f, 0.1f, 0.8f, 0.2f, 0.3f, 0, 0, 0, 0, 0];
        Assert.Equal([true, true, false, false, false, false, false, false, false, false], Agreement.TopRegion(a));
        Assert.Equal(1.0 / 3, Agreement.TopIoU(a, b), 12);
        // Ties at the threshold are all in: c's region is {0, 1, 2} → with a: 2 / 3.
        float[] c = [0.5f, 0.5f, 0.5f, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal(3, Agreement.TopRegion(c).Count(x => x));
        Assert.Equal(2.0 / 3, Agreement.TopIoU(a, c), 12);
        // k = ⌈0.25 · 10⌉ = 3: a's {0, 1, 4}, b's {0, 2, 4} → 2 / 4.
        Assert.Equal(0.5, Agreement.TopIoU(a, b, 0.25), 12);
    }

    [Fact]
    public void A_mask_restricts_both_metrics_to_its_pixels()
    {
        // Outside the mask the maps disagree completely; inside they are the same order.
        float[] a = [1f, 2f, 3f, 4f, 9f, 0f];
        float[] b = [10f, 20f, 30f, 40f, 0f, 9f];
        bool[] mask = [true, true, true, true, false, false];
        Assert.Equal(1.0, Agreement.Spearman(a, b, mask), 12);
        Assert.Equal(1.0, Agreement.TopIoU(a, b, 0.25, mask));   // k = 1 of 4: pixel 3 in both
        Assert.True(Agreement.Spearman(a, b) < 0.5);
        Assert.Throws<ArgumentException>(() => Agreement.Spearman(a, [1f]));
    }
}
