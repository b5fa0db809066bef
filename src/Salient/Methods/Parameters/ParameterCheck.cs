namespace Salient.Methods;

/// <summary>The one validation of a request's parameters against the declarations of its methods.</summary>
internal static class ParameterCheck
{
    /// <summary>
    /// Every given parameter must be declared by at least one of <paramref name="methods"/> and be a
    /// valid value for each method that declares it. An unknown name fails with the closest valid one
    /// suggested: <c>unknown parameter 'sampels' for smoothgrad; did you mean 'samples'?</c>
    /// </summary>
    public static void Validate(IReadOnlyList<IExplanationMethod> methods, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(methods);
        ArgumentNullException.ThrowIfNull(values);
        var declared = methods.SelectMany(m => MethodRegistry.ParametersOf(m)).ToList();
        foreach (var (name, value) in values)
        {
            var specs = declared.Where(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).ToList();
            if (specs.Count == 0)
            {
                var names = declared.Select(p => p.Name).Distinct().ToList();
                var forWhat = string.Join(", ", methods.Select(m => m.Name));
                throw new SalientException(Names.Suggest(name, names) is { } s
                    ? $"unknown parameter '{name}' for {forWhat}; did you mean '{s}'?"
                    : names.Count == 0 ? $"unknown parameter '{name}': {forWhat} take{(methods.Count == 1 ? "s" : "")} no parameters"
                    : $"unknown parameter '{name}' for {forWhat}; valid: {string.Join(", ", names.Order())}");
            }
            foreach (var spec in specs) spec.Validate(value ?? "");
        }
    }
}
