namespace Salient.Methods;

/// <summary>All attribution methods by CLI name.</summary>
public static class MethodRegistry
{
    private static readonly Dictionary<string, IExplanationMethod> Methods = new(StringComparer.OrdinalIgnoreCase);

    static MethodRegistry()
    {
        Register(new Cam());
        Register(new EigenCam());
    }

    public static void Register(IExplanationMethod m) => Methods[m.Name] = m;

    public static IReadOnlyCollection<IExplanationMethod> All => Methods.Values;

    public static IExplanationMethod Get(string name)
    {
        if (Methods.TryGetValue(name.Trim(), out var m)) return m;
        throw new SalientException($"unknown method '{name}'; available: {string.Join(", ", Methods.Keys.Order())}");
    }
}
