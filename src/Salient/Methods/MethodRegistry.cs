namespace Salient.Methods;

/// <summary>
/// All attribution methods by CLI name. Every non-abstract <see cref="IExplanationMethod"/> with a
/// parameterless constructor in this assembly is registered automatically: adding a method is
/// adding one file.
/// </summary>
public static class MethodRegistry
{
    private static readonly Dictionary<string, IExplanationMethod> Methods = new(StringComparer.OrdinalIgnoreCase);

    static MethodRegistry()
    {
        foreach (var t in typeof(MethodRegistry).Assembly.GetTypes())
            if (typeof(IExplanationMethod).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) is not null)
                Register((IExplanationMethod)Activator.CreateInstance(t)!);
    }

    public static void Register(IExplanationMethod m) => Methods[m.Name] = m;

    public static IReadOnlyCollection<IExplanationMethod> All => Methods.Values;

    public static IExplanationMethod Get(string name)
    {
        if (Methods.TryGetValue(name.Trim(), out var m)) return m;
        throw new SalientException($"unknown method '{name}'; available: {string.Join(", ", Methods.Keys.Order())}");
    }
}
