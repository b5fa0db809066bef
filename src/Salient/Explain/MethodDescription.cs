using Salient.Methods;

namespace Salient.Explain;

/// <summary>What a service needs to offer a method: its name, one line, whether it targets a layer, and its parameters.</summary>
public sealed record MethodDescription(string Name, string Summary, bool UsesLayer, IReadOnlyList<Parameter> Parameters)
{
    /// <summary>Every registered method, by name.</summary>
    public static IReadOnlyList<MethodDescription> All { get; } =
        MethodRegistry.All.Select(m => new MethodDescription(m.Name, m.Summary, m.UsesLayer, MethodRegistry.ParametersOf(m))).ToList();
}
