using Salient.Imaging;
using Xunit;

namespace Salient.Tests.Imaging;

public class PreprocessorTests
{
    // 2×2 test image: red, green / blue, (51, 102, 153)
    private static RgbImage Tiny() => RgbImage.FromBytes(2, 2, [255, 0, 0, 0, 255, 0, 0, 0, 255, 51, 102, 153]);

    private static void AssertClose(float[] expected, float[] actual, float tol = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void Imagenet_Nchw_HandComputed()
    {
        var p = Preprocessor.Prepare(Tiny(), 2, 2, 3, TensorLayout.Nchw, ResizeMode.Crop, Preprocessing.Imagenet);
        // R plane: 255, 0, 0, 51 -> (p/255 - 0.485) / 0.229
        float r255 = (1f - 0.485f) / 0.229f, r0 = -0.485f / 0.229f, r51 = (0.2f - 0.485f) / 0.229f;
        float g255 = (1f - 0.456f) / 0.224f, g0 = -0.456f / 0.224f, g102 = (0.4f - 0.456f) / 0.224f;
        float b255 = (1f - 0.406f) / 0.225f, b0 = -0.406f / 0.225f, b153 = (0.6f - 0.406f) / 0.225f;
        AssertClose([r255, r0, r0, r51, g0, g255, g0, g102, b0, b0, b255, b153], p.Tensor);
        Assert.Equal(2.2489083f, p.Tensor[0], 5);
        Assert.Equal(-2.1179039f, p.Tensor[1], 5);
        Assert.Equal(-1.2445415f, p.Tensor[3], 5);
        Assert.Equal(3, p.Channels);
        Assert.Equal(TensorLayout.Nchw, p.Layout);
    }

    [Fact]
    public void Imagenet_Nhwc_HandComputed()
    {
        var p = Preprocessor.Prepare(Tiny(), 2, 2, 3, TensorLayout.Nhwc, ResizeMode.Stretch, Preprocessing.Imagenet);
        AssertClose(
        [
            2.2489083f, -2.0357143f, -1.8044444f, // red
            -2.1179039f, 2.4285715f, -1.8044444f, // green
            -2.1179039f, -2.0357143f, 2.64f, // blue
            -1.2445415f, -0.25f, 0.86222225f, // (51, 102, 153)
        ], p.Tensor);
    }

    [Fact]
    public void Caffe_IsBgrMinusMean()
    {
        var p = Preprocessor.Prepare(Tiny(), 2, 2, 3, TensorLayout.Nchw, ResizeMode.Crop, Preprocessing.Caffe);
        AssertClose(
        [
            -103.939f, -103.939f, 151.061f, 49.061f, // B plane
            -116.779f, 138.221f, -116.779f, -14.779f, // G plane
            131.32f, -123.68f, -123.68f, -72.68f, // R plane
        ], p.Tensor, 1e-3f);

        var nhwc = Preprocessor.Prepare(Tiny(), 2, 2, 3, TensorLayout.Nhwc, ResizeMode.Crop, Preprocessing.Caffe);
        AssertClose([-103.939f, -116.779f, 131.32f], nhwc.Tensor[..3], 1e-3f);
        AssertClose([49.061f, -14.779f, -72.68f], nhwc.Tensor[9..], 1e-3f);
    }

    [Fact]
    public void Tf_ScalesToMinusOneOne()
    {
        var p = Preprocessor.Prepare(Tiny(), 2, 2, 3, TensorLayout.Nhwc, ResizeMode.Crop, Preprocessing.Tf);
        AssertClose([1, -1, -1, -1, 1, -1, -1, -1, 1, -0.6f, -0.2f, 0.2f], p.Tensor);
    }

    [Fact]
    public void Raw_DividesBy255()
    {
        var p = Preprocessor.Prepare(Tiny(), 2, 2, 3, TensorLayout.Nchw, ResizeMode.Crop, Preprocessing.Raw);
        AssertClose([1, 0, 0, 0.2f, 0, 1, 0, 0.4f, 0, 0, 1, 0.6f], p.Tensor);
        // division, exactly like torchvision's ToTensor (x.float().div(255))
        Assert.Equal(51f / 255f, p.Tensor[3]);
    }

    [Fact]
    public void Gray_UsesLumaAndFirstMeanStd()
    {
        // luma: 0.299·255, 0.587·255, 0.114·255, 0.299·51 + 0.587·102 + 0.114·153 = 92.565
        var raw = Preprocessor.Prepare(Tiny(), 2, 2, 1, TensorLayout.Nchw, ResizeMode.Crop, Preprocessing.Raw);
        AssertClose([0.299f, 0.587f, 0.114f, 92.565f / 255f], raw.Tensor);
        var inet = Preprocessor.Prepare(Tiny(), 2, 2, 1, TensorLayout.Nhwc, ResizeMode.Crop, Preprocessing.Imagenet);
        AssertClose([(0.299f - 0.485f) / 0.229f, (0.587f - 0.485f) / 0.229f, (0.114f - 0.485f) / 0.229f, (0.363f - 0.485f) / 0.229f], inet.Tensor);
        Assert.Equal(1, inet.Channels);
    }

    [Fact]
    public void An_unsupported_channel_count_is_an_error()
    {
        var e = Assert.Throws<SalientException>(() =>
            Preprocessor.Prepare(Tiny(), 2, 2, 4, TensorLayout.Nchw, ResizeMode.Crop, Preprocessing.Raw));
        Assert.Contains("4 channels", e.Message);
        Assert.Throws<SalientException>(() =>
            Preprocessor.Prepare(Tiny(), 0, 2, 3, TensorLayout.Nchw, ResizeMode.Crop, Preprocessing.Raw));
    }

    [Fact]
    public void Crop_geometry_of_320x240_to_224()
    {
        // shorter side 240 -> round(224·256/224) = 256; longer side (int)(256·320/240) = (int)341.33 = 341;
        // left = round((341-224)/2 = 58.5) = 58 (half to even, like Python), top = round(32/2) = 16.
        var plan = Preprocessor.Plan(320, 240, 224, 224, ResizeMode.Crop);
        Assert.Equal(341, plan.ResizedWidth);
        Assert.Equal(256, plan.ResizedHeight);
        Assert.Equal(58, plan.Left);
        Assert.Equal(16, plan.Top);
        var g = plan.Geometry;
        Assert.Equal(58 * 320.0 / 341, g.X, 9);
        Assert.Equal(15.0, g.Y, 9);
        Assert.Equal(224 * 320.0 / 341, g.Width, 9);
        Assert.Equal(210.0, g.Height, 9);
        Assert.Equal(320, g.SourceWidth);
        Assert.Equal(240, g.SourceHeight);
        Assert.False(g.IsWholeImage);
    }

    [Fact]
    public void Crop_geometry_rounds_halves_to_even_and_handles_portrait_images()
    {
        // 640×477: short 477 -> 256, long (int)(256·640/477 = 343.48) = 343; left = round(59.5) = 60
        var p = Preprocessor.Plan(640, 477, 224, 224, ResizeMode.Crop);
        Assert.Equal((343, 256, 60, 16), (p.ResizedWidth, p.ResizedHeight, p.Left, p.Top));
        // portrait 240×320: width is the shorter side
        var q = Preprocessor.Plan(240, 320, 224, 224, ResizeMode.Crop);
        Assert.Equal((256, 341, 16, 58), (q.ResizedWidth, q.ResizedHeight, q.Left, q.Top));
        // other input sizes: 299 -> round(299·256/224 = 341.71) = 342
        var r = Preprocessor.Plan(500, 500, 299, 299, ResizeMode.Crop);
        Assert.Equal((342, 342, 22, 22), (r.ResizedWidth, r.ResizedHeight, r.Left, r.Top));
    }

    [Fact]
    public void Crop_geometry_of_a_non_square_input_always_covers_the_window()
    {
        // input 448×224 on a square image: the shorter-side rule gives 256×256, too narrow for 448
        var p = Preprocessor.Plan(300, 300, 448, 224, ResizeMode.Crop);
        Assert.True(p.ResizedWidth >= 448 && p.ResizedHeight >= 224);
        Assert.True(p.Left >= 0 && p.Top >= 0);
        Assert.True(p.Left + 448 <= p.ResizedWidth && p.Top + 224 <= p.ResizedHeight);
    }

    [Fact]
    public void Stretch_GeometryIsWholeImage()
    {
        var g = Preprocessor.ComputeGeometry(320, 240, 224, 224, ResizeMode.Stretch);
        Assert.Equal(new CropGeometry(0, 0, 320, 240, 320, 240), g);
        Assert.True(g.IsWholeImage);
    }

    [Theory]
    [InlineData(ResizeMode.Crop)]
    [InlineData(ResizeMode.Stretch)]
    public void An_image_at_the_input_size_is_used_as_is(ResizeMode mode)
    {
        var rnd = new Random(7);
        var bytes = new byte[6 * 4 * 3];
        rnd.NextBytes(bytes);
        var img = RgbImage.FromBytes(6, 4, bytes);
        var p = Preprocessor.Prepare(img, 6, 4, 3, TensorLayout.Nhwc, mode, Preprocessing.Raw);
        Assert.Equal(img.Data, p.ModelView.Data);
        Assert.Equal(CropGeometry.Whole(6, 4), p.Geometry);
        for (int i = 0; i < bytes.Length; i++) Assert.Equal(bytes[i] / 255f, p.Tensor[i]);
    }

    [Fact]
    public void Crop_PixelsEqualFullResizeThenCrop()
    {
        var rnd = new Random(3);
        var bytes = new byte[40 * 30 * 3];
        rnd.NextBytes(bytes);
        var img = RgbImage.FromBytes(40, 30, bytes);
        // 40×30 -> input 16×16: short side -> round(16·256/224 = 18.29) = 18, long (int)(18·40/30) = 24
        var view = Preprocessor.Fit(img, 16, 16, ResizeMode.Crop, out var g);
        var full = Resampler.Resize(img, 24, 18);
        int left = 4, top = 1; // round(8/2), round(2/2)
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
                Assert.Equal(full.GetPixel(x + left, y + top), view.GetPixel(x, y));
        Assert.Equal(4 * 40.0 / 24, g.X, 9);
        Assert.Equal(1 * 30.0 / 18, g.Y, 9);
    }

    [Fact]
    public void WriteInto_fills_the_batch_slice()
    {
        var batch = new float[2 * 2 * 2 * 3];
        var g = Preprocessor.WriteInto(Tiny(), batch.AsSpan(12, 12), 2, 2, 3, TensorLayout.Nchw, ResizeMode.Crop, Preprocessing.Raw, out var view);
        Assert.All(batch[..12], v => Assert.Equal(0f, v));
        Assert.Equal(Preprocessor.Prepare(Tiny(), 2, 2, 3, TensorLayout.Nchw, ResizeMode.Crop, Preprocessing.Raw).Tensor, batch[12..]);
        Assert.True(g.IsWholeImage);
        Assert.Equal(2, view.Width);
        Assert.Throws<ArgumentException>(() =>
            Preprocessor.WriteInto(Tiny(), batch.AsSpan(0, 5), 2, 2, 3, TensorLayout.Nchw, ResizeMode.Crop, Preprocessing.Raw, out _));
    }
}

public class PreprocessingTests
{
    [Theory]
    [InlineData("imagenet", "imagenet")]
    [InlineData("IMAGENET", "imagenet")]
    [InlineData(" Caffe ", "caffe")]
    [InlineData("tf", "tf")]
    [InlineData("Raw", "raw")]
    public void Parse_CaseInsensitive(string text, string name) => Assert.Equal(name, Preprocessing.Parse(text).Name);

    [Fact]
    public void Parse_Unknown_ListsPresets()
    {
        var e = Assert.Throws<SalientException>(() => Preprocessing.Parse("torch"));
        Assert.Equal("unknown preprocessing 'torch'; valid presets: imagenet, caffe, tf, raw", e.Message);
    }

    [Fact]
    public void Presets_HaveDocumentedValues()
    {
        Assert.Equal([0.485f, 0.456f, 0.406f], Preprocessing.Imagenet.Mean);
        Assert.Equal([0.229f, 0.224f, 0.225f], Preprocessing.Imagenet.Std);
        Assert.Equal(1f / 255f, Preprocessing.Imagenet.Scale);
        Assert.False(Preprocessing.Imagenet.Bgr);
        Assert.Equal([103.939f, 116.779f, 123.68f], Preprocessing.Caffe.Mean);
        Assert.True(Preprocessing.Caffe.Bgr);
        Assert.Equal(1f, Preprocessing.Caffe.Scale);
        Assert.Equal(1f / 127.5f, Preprocessing.Tf.Scale);
        Assert.Equal([1f, 1f, 1f], Preprocessing.Tf.Mean);
        Assert.Equal([0f, 0f, 0f], Preprocessing.Raw.Mean);
    }

    [Fact]
    public void Overrides_broadcast_and_are_validated()
    {
        var p = Preprocessing.Imagenet.WithOverrides([0.5f], [0.25f], null, true);
        Assert.Equal([0.5f, 0.5f, 0.5f], p.Mean);
        Assert.Equal([0.25f, 0.25f, 0.25f], p.Std);
        Assert.Equal(1f / 255f, p.Scale);
        Assert.True(p.Bgr);
        Assert.Equal([0.485f, 0.456f, 0.406f], Preprocessing.Imagenet.Mean); // preset untouched

        var q = Preprocessing.Raw.WithOverrides(null, null, 2f, null);
        Assert.Equal(2f, q.Scale);
        Assert.Equal([0f, 0f, 0f], q.Mean);

        Assert.Throws<SalientException>(() => Preprocessing.Raw.WithOverrides([1f, 2f], null, null, null));
        Assert.Throws<SalientException>(() => Preprocessing.Raw.WithOverrides(null, [1f, 2f, 3f, 4f], null, null));
        Assert.Throws<SalientException>(() => Preprocessing.Raw.WithOverrides(null, [0f], null, null));
        Assert.Throws<SalientException>(() => Preprocessing.Raw.WithOverrides(null, null, 0f, null));
    }

    [Fact]
    public void Equality_IsByValue()
    {
        var a = new Preprocessing("x", [1f, 2f, 3f], [1f], 0.5f, false);
        var b = new Preprocessing("x", [1f, 2f, 3f], [1f], 0.5f, false);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { Bgr = true });
        Assert.NotEqual(a, b with { Mean = [1f, 2f, 4f] });
    }

    [Fact]
    public void Custom_ScaleIsApplied()
    {
        // x = (p·2 - 10) / 4 for p = 51: (102 - 10) / 4 = 23
        var pp = Preprocessing.Raw.WithOverrides([10f], [4f], 2f, false);
        var img = RgbImage.FromBytes(1, 1, [51, 0, 255]);
        var t = Preprocessor.Prepare(img, 1, 1, 3, TensorLayout.Nchw, ResizeMode.Crop, pp).Tensor;
        Assert.Equal([23f, -2.5f, 125f], t);
    }

    [Theory]
    [InlineData("crop", ResizeMode.Crop)]
    [InlineData("STRETCH", ResizeMode.Stretch)]
    public void Resize_modes_parse(string text, ResizeMode mode) => Assert.Equal(mode, ResizeModes.Parse(text));

    [Fact]
    public void An_unknown_resize_mode_lists_the_valid_values()
    {
        var e = Assert.Throws<SalientException>(() => ResizeModes.Parse("pad"));
        Assert.Equal("unknown resize mode 'pad'; valid values: crop, stretch", e.Message);
    }
}
