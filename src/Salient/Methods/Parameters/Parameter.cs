using System.Globalization;

namespace Salient.Methods;

/// <summary>
/// A method parameter's declaration: name, type, default, range and help. Methods declare theirs
/// (<see cref="IExplanationMethod.Parameters"/>); one parser and one validation serve the library,
/// the CLI's per-method options and <c>salient methods --verbose</c>. Values travel as strings
/// (<see cref="Explain.ExplainRequest.Parameters"/>) and are read back typed with <see cref="MethodContext.Get(IntParameter)"/> etc.
/// </summary>
public abstract class Parameter
{
    private protected Parameter(string name, string help)
    {
        Name = name;
        Help = help;
    }

    /// <summary>The parameter's name, e.g. "samples" (the CLI option is <c>--samples</c>).</summary>
    public string Name { get; }
    /// <summary>One line of help.</summary>
    public string Help { get; }
    /// <summary>The type in words, e.g. "integer ≥ 1", "true/false", "default | paper".</summary>
    public abstract string Kind { get; }
    /// <summary>The default as text ("auto…" when it depends on the input), or null when there is none.</summary>
    public abstract string? DefaultText { get; }
    /// <summary>A placeholder for help texts, e.g. "N".</summary>
    public virtual string ValueName => "VALUE";
    /// <summary>True for on/off switches (the CLI makes them value-less flags).</summary>
    public virtual bool IsFlag => false;

    /// <summary>Checks a value (throws <see cref="SalientException"/> naming the parameter and what it must be).</summary>
    public abstract void Validate(string value);

    private protected ParameterException Invalid(string value, string must) => new(Name, value, must);

    private protected static string Num(double v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>An integer in [Min, Max]; <see cref="Default"/> null means "chosen from the input" (described in the help).</summary>
internal sealed class IntParameter(string name, int? @default, string help, int min = int.MinValue, int max = int.MaxValue, string? automatic = null) : Parameter(name, help)
{
    public int? Default { get; } = @default;
    public int Min { get; } = min;
    public int Max { get; } = max;
    public override string ValueName => "N";
    public override string Kind => Min == int.MinValue ? "integer" : Max == int.MaxValue ? $"integer ≥ {Min}" : $"integer {Min}–{Max}";
    public override string? DefaultText => Default?.ToString(CultureInfo.InvariantCulture) ?? automatic;

    public int Parse(string value)
    {
        if (!int.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < Min || v > Max)
            throw Invalid(value, $"an {Kind}");
        return v;
    }

    public override void Validate(string value) => Parse(value);
}

/// <summary>A real number in a range (each end open or closed).</summary>
internal sealed class NumberParameter(string name, double @default, string help, double min = double.NegativeInfinity, double max = double.PositiveInfinity,
    bool minExclusive = false, bool maxExclusive = false) : Parameter(name, help)
{
    public double Default { get; } = @default;
    public override string ValueName => "X";
    public override string Kind =>
        double.IsNegativeInfinity(min) && double.IsPositiveInfinity(max) ? "number"
        : $"number in {(minExclusive ? "(" : "[")}{Num(min)}, {Num(max)}{(maxExclusive ? ")" : "]")}";
    public override string? DefaultText => Num(Default);

    public double Parse(string value)
    {
        if (!double.TryParse(value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || double.IsNaN(v)
            || (minExclusive ? v <= min : v < min) || (maxExclusive ? v >= max : v > max))
            throw Invalid(value, $"a {Kind}");
        return v;
    }

    public override void Validate(string value) => Parse(value);
}

/// <summary>An on/off switch: true/false, on/off, yes/no, 1/0 (any case); an empty value is false.</summary>
internal sealed class FlagParameter(string name, string help) : Parameter(name, help)
{
    private static readonly string[] True = ["true", "on", "yes", "1"], False = ["false", "off", "no", "0", ""];

    public override string Kind => "true/false";
    public override string? DefaultText => "false";
    public override bool IsFlag => true;

    public bool Parse(string value)
    {
        var t = value.Trim();
        if (True.Contains(t, StringComparer.OrdinalIgnoreCase)) return true;
        if (False.Contains(t, StringComparer.OrdinalIgnoreCase)) return false;
        throw Invalid(value, "true or false (also on/off, yes/no, 1/0)");
    }

    public override void Validate(string value) => Parse(value);
}

/// <summary>One of a fixed set of words (case-insensitive; the value read back is lower-case).</summary>
internal sealed class ChoiceParameter(string name, string @default, string help, Func<IReadOnlyList<string>> choices) : Parameter(name, help)
{
    public ChoiceParameter(string name, string @default, string help, params string[] choices) : this(name, @default, help, () => choices) { }

    public string Default { get; } = @default;
    public IReadOnlyList<string> Choices => choices();
    public override string ValueName => "NAME";
    public override string Kind => string.Join(" | ", Choices);
    public override string? DefaultText => Default;

    public string Parse(string value)
    {
        var t = value.Trim().ToLowerInvariant();
        if (Choices.Contains(t)) return t;
        var hint = Names.Suggest(t, Choices) is { } s ? $"; did you mean '{s}'?" : "";
        throw Invalid(value, $"one of: {string.Join(", ", Choices)}{hint}");
    }

    public override void Validate(string value) => Parse(value);
}

/// <summary>Free text with a method-specific check (e.g. "black | blurred | an image file").</summary>
internal sealed class TextParameter(string name, string @default, string help, string kind, Func<string, string?> check) : Parameter(name, help)
{
    public string Default { get; } = @default;
    public override string Kind { get; } = kind;
    public override string? DefaultText => Default;

    /// <summary>The value (trimmed), after the check.</summary>
    public string Parse(string value)
    {
        var t = value.Trim();
        if (check(t) is { } must) throw Invalid(value, must);
        return t;
    }

    public override void Validate(string value) => Parse(value);
}
