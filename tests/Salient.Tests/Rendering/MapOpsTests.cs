using Salient.Imaging;
using Salient.Rendering;
using Xunit;

namespace Salient.Tests.Rendering;

public class MapOpsTests
{
    private static void AssertClose(float[] expected, float[] actual, float tol = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void Bilinear_resize_of_2x2_to_4x4_equals_the_hand_computation()
    {
        // source [[0, 10], [20, 30]]; destination x samples source x' = (x + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25
        // (clamped to [0, 1]) and the same for rows.
        var r = MapMath.ResizeBilinear([0, 10, 20, 30], 2, 2, 4, 4);
        AssertClose(
        [
            0, 2.5f, 7.5f, 10,
            5, 7.5f, 12.5f, 15,
            15, 17.5f, 22.5f, 25,
            20, 22.5f, 27.5f, 30,
        ], r);
    }

    [Fact]
    public void Bilinear_resize_handles_non_square_maps_and_downscaling()
    {
        // 1×3 -> 1×2: x' = (x + 0.5)·1.5 - 0.5 = 0.25, 1.75 over [0, 6, 12]
        AssertClose([1.5f, 10.5f], MapMath.ResizeBilinear([0, 6, 12], 1, 3, 1, 2));
        // same size: a copy
        var src = new float[] { 1, 2, 3 };
        var same = MapMath.ResizeBilinear(src, 1, 3, 1, 3);
        Assert.Equal(src, same);
        Assert.NotSame(src, same);
    }

    [Fact]
    public void Min_max_normalization_equals_the_hand_computation()
    {
        AssertClose([0, 0.25f, 1, 0.5f], MapMath.NormalizeMinMax([-2, -1, 2, 0]));
    }

    [Fact]
    public void Min_max_normalization_of_a_constant_map_is_zeros()
    {
        Assert.Equal([0f, 0f, 0f], MapMath.NormalizeMinMax([3.5f, 3.5f, 3.5f]));
        Assert.Equal([0f, 0f], MapMath.NormalizeMinMax([0f, 0f]));
    }

    [Fact]
    public void Min_max_normalization_never_propagates_NaN()
    {
        var r = MapMath.NormalizeMinMax([float.NaN, 1, 3]);
        Assert.Equal([0f, 0f, 1f], r);
        Assert.Equal([0f, 0f], MapMath.NormalizeMinMax([float.NaN, float.NaN]));
    }

    [Fact]
    public void Normalize_by_max_divides_by_a_positive_maximum_and_leaves_other_maps_unchanged()
    {
        AssertClose([0.25f, 1, -0.5f], MapMath.NormalizeByMax([1, 4, -2]));
        Assert.Equal([-1f, -2f], MapMath.NormalizeByMax([-1, -2])); // max <= 0: unchanged
        Assert.Equal([0f, 0f], MapMath.NormalizeByMax([0, 0]));
    }

    [Fact]
    public void Map_at_original_geometry_of_a_crop_equals_the_hand_computation()
    {
        // original 6×4; the model saw the 4×4 window starting at x = 1 (columns 1..4); the map is 2×2.
        // Inside the window, original pixel x has center x + 0.5; in map coordinates that is
        // (x + 0.5 - 1)/4·2 - 0.5 = -0.25, 0.25, 0.75, 1.25 for x = 1..4 (same for rows y = 0..3).
        var g = new CropGeometry(1, 0, 4, 4, 6, 4);
        var r = MapMath.ToOriginalGeometry([0, 10, 20, 30], 2, 2, g);
        AssertClose(
        [
            0, 0, 2.5f, 7.5f, 10, 0,
            0, 5, 7.5f, 12.5f, 15, 0,
            0, 15, 17.5f, 22.5f, 25, 0,
            0, 20, 22.5f, 27.5f, 30, 0,
        ], r);
    }

    [Fact]
    public void Map_at_original_geometry_of_the_whole_image_equals_a_resize()
    {
        var map = new float[] { 1, 5, 2, 8, 3, 0 };
        var a = MapMath.ToOriginalGeometry(map, 2, 3, CropGeometry.Whole(7, 5));
        var b = MapMath.ResizeBilinear(map, 2, 3, 5, 7);
        AssertClose(b, a, 1e-4f);
    }

    [Fact]
    public void Map_at_original_geometry_of_a_fractional_crop_from_the_preprocessor()
    {
        // 320×240 cropped to 224: window x in [54.43, 264.63), y in [15, 225)
        var g = Salient.Imaging.Preprocessor.ComputeGeometry(320, 240, 224, 224, ResizeMode.Crop);
        var map = Enumerable.Repeat(1f, 7 * 7).ToArray();
        var r = MapMath.ToOriginalGeometry(map, 7, 7, g);
        Assert.Equal(320 * 240, r.Length);
        Assert.Equal(0f, r[10 * 320 + 100]); // above the window (y = 10)
        Assert.Equal(0f, r[100 * 320 + 50]); // left of it (x = 50)
        Assert.Equal(1f, r[100 * 320 + 55]); // x = 55: center 55.5 is inside
        Assert.Equal(1f, r[224 * 320 + 264]); // last row / column inside
        Assert.Equal(0f, r[225 * 320 + 100]);
        Assert.Equal(0f, r[100 * 320 + 265]);
    }
}
