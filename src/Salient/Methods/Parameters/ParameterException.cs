namespace Salient.Methods;

/// <summary>
/// A method parameter with a value it cannot take. The message speaks of the parameter
/// (<c>parameter patch='0' must be an integer ≥ 1</c>); a front end words it its own way with
/// <see cref="Describe"/> (the CLI: <c>--patch '0' must be an integer ≥ 1</c>).
/// </summary>
public sealed class ParameterException(string parameter, string value, string requirement)
    : SalientException($"parameter {parameter}='{value}' must be {requirement}")
{
    public string Parameter { get; } = parameter;
    public string Value { get; } = value;
    /// <summary>What the value must be, e.g. "an integer ≥ 1".</summary>
    public string Requirement { get; } = requirement;

    /// <summary>The message with the parameter named by <paramref name="name"/> (e.g. n => "--" + n).</summary>
    public string Describe(Func<string, string> name) => $"{name(Parameter)} '{Value}' must be {Requirement}";
}
