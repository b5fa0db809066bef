namespace Salient.Imaging;

/// <summary>How an image is fitted to the model's input size.</summary>
public enum ResizeMode
{
    /// <summary>torchvision-style: resize the shorter side to 256/224 of the input, then center-crop.</summary>
    Crop,

    /// <summary>Resize the whole image to the input size, ignoring aspect ratio.</summary>
    Stretch,
}

/// <summary>Parsing of <see cref="ResizeMode"/> names as typed on the command line.</summary>
internal static class ResizeModes
{
    /// <summary>Case-insensitive; throws <see cref="SalientException"/> listing the valid names.</summary>
    public static ResizeMode Parse(string text)
    {
        var t = (text ?? "").Trim();
        foreach (var mode in Enum.GetValues<ResizeMode>())
            if (string.Equals(t, mode.ToString(), StringComparison.OrdinalIgnoreCase))
                return mode;
        throw new SalientException($"unknown resize mode '{text}'; valid values: {Names}");
    }

    /// <summary>Lower-case names, comma separated (for help text).</summary>
    public static string Names => string.Join(", ", Enum.GetNames<ResizeMode>().Select(n => n.ToLowerInvariant()));
}

/// <summary>A model input tensor for one image, plus what is needed to map results back to the image.</summary>
public sealed class PreparedInput
{
    public PreparedInput(float[] tensor, int width, int height, int channels, TensorLayout layout,
        CropGeometry geometry, RgbImage modelView)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(modelView);
        if (tensor.LongLength != (long)width * height * channels)
            throw new ArgumentException($"tensor has {tensor.Length} values, expected {width}x{height}x{channels}", nameof(tensor));
        Tensor = tensor;
        Width = width;
        Height = height;
        Channels = channels;
        Layout = layout;
        Geometry = geometry;
        ModelView = modelView;
    }

    /// <summary>Width × height × channels values in <see cref="Layout"/> order (no batch dimension).</summary>
    public float[] Tensor { get; }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public TensorLayout Layout { get; }

    /// <summary>Where the model input lies in the original image.</summary>
    public CropGeometry Geometry { get; }

    /// <summary>The resized / cropped RGB image at model input size, before normalization (for display).</summary>
    public RgbImage ModelView { get; }
}
