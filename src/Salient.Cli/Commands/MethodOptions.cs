using System.CommandLine;
using Salient.Methods;

namespace Salient.Cli.Commands;

/// <summary>The CLI options of the method parameters, generated from the methods' declarations.</summary>
internal static class MethodOptions
{
    /// <summary>One option <c>--NAME</c> per declared parameter name (flags value-less), skipping names in <paramref name="except"/>.</summary>
    public static (Option Option, string Parameter)[] Create(IEnumerable<string> except)
    {
        var taken = new HashSet<string>(except, StringComparer.Ordinal);
        var list = new List<(Option, string)>();
        foreach (var group in MethodRegistry.All.SelectMany(m => MethodRegistry.ParametersOf(m).Select(p => (Method: m.Name, Parameter: p)))
                     .GroupBy(x => x.Parameter.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            string name = "--" + group.Key;
            if (!taken.Add(name)) continue;
            var spec = group.First().Parameter;
            var users = group.Select(x => x.Method).Distinct().ToList();
            string who = users.Count > 4 ? $"{string.Join(", ", users.Take(3))}, …" : string.Join(", ", users);
            string description = $"{who}: {spec.Help}" + (spec.IsFlag ? "" : $" ({spec.Kind}{(spec.DefaultText is { } d ? $"; default {d}" : "")})");
            list.Add((spec.IsFlag
                ? new Option<bool>(name) { Description = description }
                : new Option<string?>(name) { Description = description, HelpName = spec.ValueName }, group.Key));
        }
        return list.ToArray();
    }

    /// <summary>The parameters given by those options, as request parameters.</summary>
    public static void Collect(System.CommandLine.ParseResult p, IEnumerable<(Option Option, string Parameter)> options, Dictionary<string, string> into)
    {
        foreach (var (o, name) in options)
        {
            if (o is Option<bool> flag) { if (p.GetValue(flag)) into[name] = "true"; }
            else if (o is Option<string?> value && p.GetValue(value) is { } v) into[name] = v;
        }
    }

    /// <summary>The <c>--param NAME=VALUE</c> values (names case-insensitive; the last of a name wins).</summary>
    public static Dictionary<string, string> ParseParams(string[]? ps)
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in ps ?? [])
        {
            int eq = p.IndexOf('=');
            if (eq <= 0) throw new SalientException($"--param '{p}' is not NAME=VALUE");
            d[p[..eq].Trim()] = p[(eq + 1)..].Trim();
        }
        return d;
    }
}
