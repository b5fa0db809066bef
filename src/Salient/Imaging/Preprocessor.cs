namespace Salient.Imaging;

/// <summary>
/// Turns an image into a model input tensor: fit to the input size (<see cref="ResizeMode"/>), convert
/// to the model's channels, normalize (<see cref="Preprocessing"/>) and lay out (<see cref="TensorLayout"/>).
/// </summary>
/// <remarks>
/// <para><b>Crop</b> follows torchvision's <c>Resize(round(S·256/224))</c> + <c>CenterCrop(S)</c>, generalized to
/// non-square inputs: with S = min(width, height), the image's shorter side is resized to
/// round(S·256/224) and the longer side to <c>(int)(new_short · long / short)</c> (truncated, as torchvision
/// does); the width × height window is then cut from the middle at
/// <c>top = round((resized_h - height) / 2)</c>, <c>left = round((resized_w - width) / 2)</c>, rounding halves to
/// even like Python's <c>round</c>. When that resize would leave the image narrower or shorter than the
/// window (very non-square inputs), the image is instead scaled by 256/224 times the factor that makes it
/// cover the window, so no padding is ever needed.</para>
/// <para><b>Stretch</b> resizes the whole image to width × height.</para>
/// <para><b>Decision:</b> an image that already has exactly the input size is used as it is in BOTH modes — no
/// resize and no crop — so test images shipped at the model's size give bit-exact reference numbers.</para>
/// <para>Resizing uses <see cref="Resampler"/> (antialiased triangle filter, on floats).</para>
/// </remarks>
internal static class Preprocessor
{
    /// <summary>Fits, normalizes and lays out one image into a new tensor.</summary>
    public static PreparedInput Prepare(RgbImage image, int width, int height, int channels,
        TensorLayout layout, ResizeMode mode, Preprocessing pp)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(pp);
        long size = CheckShape(width, height, channels);
        pp.Validate();
        var view = Fit(image, width, height, mode, out var geometry);
        var tensor = new float[size];
        WriteTensor(view, tensor, channels, layout, pp);
        return new PreparedInput(tensor, width, height, channels, layout, geometry, view);
    }

    /// <summary>
    /// Like <see cref="Prepare"/> but writes the tensor into <paramref name="destination"/> (e.g. one image's
    /// slice of a batch tensor; its length must be width × height × channels) and returns the geometry.
    /// </summary>
    public static CropGeometry WriteInto(RgbImage image, Span<float> destination, int width, int height, int channels,
        TensorLayout layout, ResizeMode mode, Preprocessing pp, out RgbImage modelView)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(pp);
        CheckShape(width, height, channels);
        pp.Validate();
        modelView = Fit(image, width, height, mode, out var geometry);
        WriteTensor(modelView, destination, channels, layout, pp);
        return geometry;
    }

    /// <summary>
    /// The resize / crop step alone: the RGB image at width × height that the model sees, and where it
    /// lies in <paramref name="image"/>.
    /// </summary>
    public static RgbImage Fit(RgbImage image, int width, int height, ResizeMode mode, out CropGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckShape(width, height, 1);
        var plan = Plan(image.Width, image.Height, width, height, mode);
        geometry = plan.Geometry;
        if (plan.IsIdentity) return image.Clone();
        return Resampler.ResizeRegion(image, plan.ResizedWidth, plan.ResizedHeight, plan.Left, plan.Top, width, height);
    }

    /// <summary>Where a width × height model input lies in a sourceWidth × sourceHeight image.</summary>
    public static CropGeometry ComputeGeometry(int sourceWidth, int sourceHeight, int width, int height, ResizeMode mode) =>
        Plan(sourceWidth, sourceHeight, width, height, mode).Geometry;

    /// <summary>
    /// Normalizes an image that already has the model's input size into <paramref name="destination"/>
    /// (length width × height × channels). channels must be 1 (gray, luma 0.299R + 0.587G + 0.114B) or 3.
    /// </summary>
    public static void WriteTensor(RgbImage modelView, Span<float> destination, int channels, TensorLayout layout, Preprocessing pp)
    {
        ArgumentNullException.ThrowIfNull(modelView);
        ArgumentNullException.ThrowIfNull(pp);
        long size = CheckShape(modelView.Width, modelView.Height, channels);
        pp.Validate();
        if (destination.Length != size)
            throw new ArgumentException(
                $"destination holds {destination.Length} floats but a {modelView.Width}x{modelView.Height}x{channels} input needs {size}",
                nameof(destination));
        if (layout != TensorLayout.Nchw && layout != TensorLayout.Nhwc)
            throw new ArgumentOutOfRangeException(nameof(layout), layout, "unknown tensor layout");

        int plane = modelView.Width * modelView.Height;
        var src = modelView.Data;
        var (divide, factor) = ScaleOperation(pp.Scale);

        if (channels == 1)
        {
            float mean = pp.MeanOf(0), std = pp.StdOf(0);
            for (int i = 0; i < plane; i++)
            {
                float luma = 0.299f * src[3 * i] + 0.587f * src[3 * i + 1] + 0.114f * src[3 * i + 2];
                destination[i] = Normalize(luma, divide, factor, mean, std);
            }
            return;
        }

        for (int c = 0; c < 3; c++)
        {
            int srcChannel = pp.Bgr ? 2 - c : c;
            float mean = pp.MeanOf(c), std = pp.StdOf(c);
            if (layout == TensorLayout.Nchw)
            {
                var dst = destination.Slice(c * plane, plane);
                for (int i = 0; i < plane; i++)
                    dst[i] = Normalize(src[3 * i + srcChannel], divide, factor, mean, std);
            }
            else
            {
                for (int i = 0; i < plane; i++)
                    destination[3 * i + c] = Normalize(src[3 * i + srcChannel], divide, factor, mean, std);
            }
        }
    }

    // The same float32 operations as the reference pipelines: torchvision divides by 255 (ToTensor)
    // then subtracts and divides (Normalize); Keras divides by 127.5 ("tf") or does nothing ("caffe").
    // A scale that is the reciprocal of a whole or half number is therefore applied as a division.
    private static float Normalize(float pixel, bool divide, float factor, float mean, float std)
    {
        float x = divide ? pixel / factor : pixel * factor;
        return (x - mean) / std;
    }

    internal static (bool Divide, float Factor) ScaleOperation(float scale)
    {
        double inv = 1.0 / scale;
        double half = Math.Round(inv * 2.0) / 2.0;
        if (half != 0 && Math.Abs(inv - half) <= 1e-4 * Math.Abs(half) && (float)(1.0 / half) == scale)
            return (true, (float)half);
        return (false, scale);
    }

    private static long CheckShape(int width, int height, int channels)
    {
        if (width <= 0 || height <= 0)
            throw new SalientException($"model input size must be positive, got {width}x{height}");
        if (channels != 1 && channels != 3)
            throw new SalientException(
                $"the model input has {channels} channels; only 1 (gray) or 3 (RGB/BGR) channel images are supported");
        long size = (long)width * height * channels;
        if (size > Array.MaxLength)
            throw new SalientException($"model input size {width}x{height}x{channels} is too large");
        return size;
    }

    internal readonly record struct FitPlan(int ResizedWidth, int ResizedHeight, int Left, int Top, bool IsIdentity, CropGeometry Geometry);

    internal static FitPlan Plan(int w, int h, int width, int height, ResizeMode mode)
    {
        if (w <= 0 || h <= 0) throw new ArgumentOutOfRangeException(nameof(w), "image size must be positive");
        if (w == width && h == height)
            return new FitPlan(w, h, 0, 0, true, CropGeometry.Whole(w, h));

        switch (mode)
        {
            case ResizeMode.Stretch:
                return new FitPlan(width, height, 0, 0, false, CropGeometry.Whole(w, h));
            case ResizeMode.Crop:
            {
                int target = (int)Math.Round(Math.Min(width, height) * 256.0 / 224.0, MidpointRounding.ToEven);
                int nw, nh;
                if (w <= h)
                {
                    nw = target;
                    nh = (int)((double)((long)target * h) / w);
                }
                else
                {
                    nh = target;
                    nw = (int)((double)((long)target * w) / h);
                }
                if (nw < width || nh < height)
                {
                    double f = Math.Max((double)width / w, (double)height / h) * 256.0 / 224.0;
                    nw = Math.Max(width, (int)Math.Round(w * f));
                    nh = Math.Max(height, (int)Math.Round(h * f));
                }
                int left = (int)Math.Round((nw - width) / 2.0, MidpointRounding.ToEven);
                int top = (int)Math.Round((nh - height) / 2.0, MidpointRounding.ToEven);
                double sx = (double)w / nw, sy = (double)h / nh;
                var g = new CropGeometry(left * sx, top * sy, width * sx, height * sy, w, h);
                return new FitPlan(nw, nh, left, top, false, g);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown resize mode");
        }
    }
}
