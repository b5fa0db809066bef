using System.Globalization;

namespace Salient.Imaging;

/// <summary>
/// Pixel normalization: <c>x = (pixel * Scale - Mean[c]) / Std[c]</c> with pixel in [0, 255] and c the
/// channel index in the MODEL's channel order (i.e. after the RGB→BGR swap when <see cref="Bgr"/> is set).
/// Mean and Std hold 1 value (used for every channel) or 3. Single-channel (gray) models use Mean[0]/Std[0].
/// </summary>
public sealed record Preprocessing(string Name, float[] Mean, float[] Std, float Scale, bool Bgr)
{
    /// <summary>torchvision / timm: RGB, [0,1] then ImageNet mean/std.</summary>
    public static Preprocessing Imagenet { get; } =
        new("imagenet", [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f], 1f / 255f, false);

    /// <summary>Keras "caffe" mode (VGG16, ResNet50): BGR, [0,255] minus the BGR ImageNet mean, no scaling.</summary>
    public static Preprocessing Caffe { get; } =
        new("caffe", [103.939f, 116.779f, 123.68f], [1f, 1f, 1f], 1f, true);

    /// <summary>Keras "tf" mode (MobileNet, Inception): RGB scaled to [-1, 1].</summary>
    public static Preprocessing Tf { get; } =
        new("tf", [1f, 1f, 1f], [1f, 1f, 1f], 1f / 127.5f, false);

    /// <summary>RGB scaled to [0, 1], nothing else.</summary>
    public static Preprocessing Raw { get; } =
        new("raw", [0f, 0f, 0f], [1f, 1f, 1f], 1f / 255f, false);

    /// <summary>All presets, in the order they are listed to users.</summary>
    public static IReadOnlyList<Preprocessing> Presets { get; } = [Imagenet, Caffe, Tf, Raw];

    /// <summary>Preset names, comma separated (for help text).</summary>
    public static string PresetNames => string.Join(", ", Presets.Select(p => p.Name));

    /// <summary>A preset by name (case-insensitive); throws <see cref="SalientException"/> listing the presets.</summary>
    public static Preprocessing Parse(string name)
    {
        var t = (name ?? "").Trim();
        foreach (var p in Presets)
            if (string.Equals(p.Name, t, StringComparison.OrdinalIgnoreCase))
                return p;
        throw new SalientException($"unknown preprocessing '{name}'; valid presets: {PresetNames}");
    }

    /// <summary>
    /// A copy with the given values replaced (null keeps the current one). Mean/std of length 1 are
    /// broadcast to all 3 channels; other lengths than 1 or 3, a zero or non-finite std, or a zero or
    /// non-finite scale throw <see cref="SalientException"/>.
    /// </summary>
    public Preprocessing WithOverrides(float[]? mean, float[]? std, float? scale, bool? bgr)
    {
        var m = mean is null ? Mean : Broadcast(mean, "mean");
        var s = std is null ? Std : Broadcast(std, "std");
        var result = this with
        {
            Name = mean is null && std is null && scale is null && bgr is null ? Name : Name + "+custom",
            Mean = (float[])m.Clone(),
            Std = (float[])s.Clone(),
            Scale = scale ?? Scale,
            Bgr = bgr ?? Bgr,
        };
        result.Validate();
        return result;
    }

    /// <summary>Throws <see cref="SalientException"/> when the values cannot be used.</summary>
    public void Validate()
    {
        if (Mean is null || (Mean.Length != 1 && Mean.Length != 3))
            throw new SalientException($"preprocessing '{Name}': mean needs 1 or 3 values, got {Mean?.Length ?? 0}");
        if (Std is null || (Std.Length != 1 && Std.Length != 3))
            throw new SalientException($"preprocessing '{Name}': std needs 1 or 3 values, got {Std?.Length ?? 0}");
        foreach (var v in Mean)
            if (!float.IsFinite(v))
                throw new SalientException($"preprocessing '{Name}': mean values must be finite numbers");
        foreach (var v in Std)
            if (!float.IsFinite(v) || v == 0f)
                throw new SalientException($"preprocessing '{Name}': std values must be finite and non-zero (got {Fmt(v)})");
        if (!float.IsFinite(Scale) || Scale == 0f)
            throw new SalientException($"preprocessing '{Name}': scale must be finite and non-zero (got {Fmt(Scale)})");
    }

    /// <summary>Mean of model channel <paramref name="c"/> (broadcast when only one value is given).</summary>
    public float MeanOf(int c) => Mean.Length == 1 ? Mean[0] : Mean[c];

    /// <summary>Std of model channel <paramref name="c"/> (broadcast when only one value is given).</summary>
    public float StdOf(int c) => Std.Length == 1 ? Std[0] : Std[c];

    /// <summary>Value equality, comparing the mean and std values (not the array instances).</summary>
    public bool Equals(Preprocessing? other) =>
        other is not null && Name == other.Name && Scale.Equals(other.Scale) && Bgr == other.Bgr &&
        (Mean ?? []).AsSpan().SequenceEqual(other.Mean ?? []) && (Std ?? []).AsSpan().SequenceEqual(other.Std ?? []);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Name);
        h.Add(Scale);
        h.Add(Bgr);
        foreach (var v in Mean ?? []) h.Add(v);
        foreach (var v in Std ?? []) h.Add(v);
        return h.ToHashCode();
    }

    public override string ToString() =>
        $"{Name} (mean [{string.Join(", ", Mean.Select(Fmt))}], std [{string.Join(", ", Std.Select(Fmt))}], " +
        $"scale {Fmt(Scale)}, {(Bgr ? "BGR" : "RGB")})";

    private static float[] Broadcast(float[] values, string what) => values.Length switch
    {
        1 => [values[0], values[0], values[0]],
        3 => values,
        _ => throw new SalientException($"--{what} needs 1 or 3 values, got {values.Length}"),
    };

    private static string Fmt(float v) => v.ToString("0.######", CultureInfo.InvariantCulture);
}
