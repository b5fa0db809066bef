namespace Salient.Methods;

/// <summary>
/// All attribution methods by name. Every non-abstract <see cref="IExplanationMethod"/> with a
/// parameterless constructor in this assembly is registered automatically: adding a method is
/// adding one file.
/// </summary>
internal static class MethodRegistry
{
    private static readonly Dictionary<string, IExplanationMethod> Methods = new(StringComparer.OrdinalIgnoreCase);

    static MethodRegistry()
    {
        foreach (var t in typeof(MethodRegistry).Assembly.GetTypes())
            if (typeof(IExplanationMethod).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) is not null)
            {
                var m = (IExplanationMethod)Activator.CreateInstance(t)!;
                Methods[m.Name] = m;
            }
    }

    /// <summary>Every method, by name.</summary>
    public static IReadOnlyList<IExplanationMethod> All => Methods.Values.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();

    /// <summary>The method called <paramref name="name"/>; an unknown name fails with the closest one suggested.</summary>
    public static IExplanationMethod Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Methods.TryGetValue(name.Trim(), out var m)) return m;
        throw new SalientException(Core.Names.Suggest(name.Trim(), Methods.Keys) is { } s
            ? $"unknown method '{name}'; did you mean '{s}'? (available: {string.Join(", ", Methods.Keys.Order())})"
            : $"unknown method '{name}'; available: {string.Join(", ", Methods.Keys.Order())}");
    }

    /// <summary>
    /// Every parameter a method accepts: its own declarations, plus those the pipeline applies to it
    /// (aug-smooth for layer methods).
    /// </summary>
    public static IReadOnlyList<Parameter> ParametersOf(IExplanationMethod method)
    {
        ArgumentNullException.ThrowIfNull(method);
        var list = method.Parameters.ToList();
        if (method.UsesLayer) list.Add(CommonParameters.AugSmooth);
        return list.GroupBy(p => p.Name).Select(g => g.First()).ToList();
    }
}
