using System.Globalization;

namespace Salient.Perturbation;

/// <summary>
/// The names and typed parsing of the method parameters carried in
/// <see cref="Explain.ExplainRequest.Parameters"/> (strings, as typed after <c>--param NAME=VALUE</c> or
/// set by the CLI's first-class options). Messages name the CLI option.
/// </summary>
public static class MethodParameters
{
    /// <summary>Rows per ORT batch for the perturbation methods (default: from the model's memory footprint).</summary>
    public const string BatchSize = "batch-size";
    /// <summary>Score-CAM: "default" (softmax over channels of the masked logits) or "paper" (probability increase over a baseline).</summary>
    public const string Variant = "variant";
    /// <summary>Score-CAM: only the N channels with the largest mean activation (Faster-Score-CAM).</summary>
    public const string TopChannels = "top-channels";
    /// <summary>Occlusion: patch side in input pixels.</summary>
    public const string Patch = "patch";
    /// <summary>Occlusion: step between patches in input pixels.</summary>
    public const string Stride = "stride";
    /// <summary>Occlusion: what the patch is filled with: mean | zero | a number (in model-input units, after preprocessing).</summary>
    public const string Fill = "fill";
    /// <summary>RISE: number of random masks.</summary>
    public const string Masks = "masks";
    /// <summary>RISE: side of one cell of the low-resolution mask grid, in input pixels.</summary>
    public const string Cell = "cell";
    /// <summary>RISE: probability that a cell is kept.</summary>
    public const string KeepProbability = "p";
    /// <summary>RISE: random seed.</summary>
    public const string Seed = "seed";
    /// <summary>CAM family: average over horizontal flip × zoom 1.0/1.1/0.9, de-augmented.</summary>
    public const string AugSmooth = "aug-smooth";
    /// <summary>CAM family: first principal component of the weighted activations instead of their sum.</summary>
    public const string EigenSmooth = "eigen-smooth";

    public static int? Int(IReadOnlyDictionary<string, string> p, string name, int min, int max = int.MaxValue)
    {
        if (!p.TryGetValue(name, out var s)) return null;
        if (!int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            throw new SalientException(max == int.MaxValue
                ? $"--{name} '{s}' must be an integer ≥ {min}"
                : $"--{name} '{s}' must be an integer between {min} and {max}");
        return v;
    }

    public static double? Double(IReadOnlyDictionary<string, string> p, string name, double min, double max, bool minExclusive = false, bool maxExclusive = false)
    {
        if (!p.TryGetValue(name, out var s)) return null;
        if (!double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || double.IsNaN(v)
            || (minExclusive ? v <= min : v < min) || (maxExclusive ? v >= max : v > max))
            throw new SalientException($"--{name} '{s}' must be a number in {(minExclusive ? "(" : "[")}{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}{(maxExclusive ? ")" : "]")}");
        return v;
    }

    public static bool Flag(IReadOnlyDictionary<string, string> p, string name)
    {
        if (!p.TryGetValue(name, out var s)) return false;
        s = s.Trim();
        if (s.Equals("true", StringComparison.OrdinalIgnoreCase) || s == "1" || s.Equals("yes", StringComparison.OrdinalIgnoreCase) || s.Equals("on", StringComparison.OrdinalIgnoreCase)) return true;
        if (s.Equals("false", StringComparison.OrdinalIgnoreCase) || s == "0" || s.Equals("no", StringComparison.OrdinalIgnoreCase) || s.Equals("off", StringComparison.OrdinalIgnoreCase) || s.Length == 0) return false;
        throw new SalientException($"--{name} '{s}' must be true or false");
    }

    public static string? Choice(IReadOnlyDictionary<string, string> p, string name, params string[] allowed)
    {
        if (!p.TryGetValue(name, out var s)) return null;
        var t = s.Trim().ToLowerInvariant();
        if (!allowed.Contains(t)) throw new SalientException($"--{name} '{s}' must be one of: {string.Join(", ", allowed)}");
        return t;
    }

    /// <summary>Occlusion fill: null for "mean", else the constant (0 for "zero").</summary>
    public static (bool Mean, float Value) FillValue(IReadOnlyDictionary<string, string> p)
    {
        if (!p.TryGetValue(Fill, out var s)) return (true, 0f);
        var t = s.Trim().ToLowerInvariant();
        if (t == "mean") return (true, 0f);
        if (t == "zero") return (false, 0f);
        if (float.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v)) return (false, v);
        throw new SalientException($"--fill '{s}' must be mean, zero or a number (in model-input units, after preprocessing)");
    }

    /// <summary>Checks every parameter this module knows (types and ranges) so that a typo fails before a long run starts.</summary>
    public static void Validate(IReadOnlyDictionary<string, string> p)
    {
        Int(p, BatchSize, 1, 1 << 16);
        Choice(p, Variant, "default", "paper");
        Int(p, TopChannels, 1);
        Int(p, Patch, 1);
        Int(p, Stride, 1);
        FillValue(p);
        Int(p, Masks, 1, 1 << 24);
        Int(p, Cell, 1);
        Double(p, KeepProbability, 0, 1, minExclusive: true, maxExclusive: false);
        if (p.TryGetValue(Seed, out var seed) && !int.TryParse(seed.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            throw new SalientException($"--seed '{seed}' must be an integer");
        Flag(p, AugSmooth);
        Flag(p, EigenSmooth);
    }

    public static int SeedOf(IReadOnlyDictionary<string, string> p) =>
        p.TryGetValue(Seed, out var s) && int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
        : p.ContainsKey(Seed) ? throw new SalientException($"--seed '{s}' must be an integer") : 0;
}
