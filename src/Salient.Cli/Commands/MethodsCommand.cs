using System.CommandLine;
using Salient.Methods;

namespace Salient.Cli.Commands;

/// <summary><c>salient methods</c>: the attribution methods available (with <c>--verbose</c>, their parameters).</summary>
internal static class MethodsCommand
{
    public static Command Create(TextWriter stdout)
    {
        var verbose = Program.Verbose; // global; here it also lists each method's parameters (type, default, help)
        var cmd = new Command("methods", "list the explanation methods");
        cmd.SetAction(p =>
        {
            foreach (var m in MethodRegistry.All)
            {
                stdout.WriteLine($"{m.Name,-22} {(m.UsesLayer ? "layer" : "input"),-6} {m.Summary}");
                if (!p.GetValue(verbose)) continue;
                foreach (var par in MethodRegistry.ParametersOf(m))
                    stdout.WriteLine($"    --{par.Name,-16} {par.Kind}{(par.DefaultText is { } d ? $" (default {d})" : "")}: {par.Help}");
            }
            return 0;
        });
        return cmd;
    }
}
