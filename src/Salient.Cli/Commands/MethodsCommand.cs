using System.CommandLine;
using Salient.Methods;

namespace Salient.Cli.Commands;

/// <summary><c>salient methods</c>: the attribution methods available.</summary>
internal static class MethodsCommand
{
    public static Command Create(TextWriter stdout)
    {
        var cmd = new Command("methods", "list the explanation methods");
        cmd.SetAction(_ =>
        {
            foreach (var m in MethodRegistry.All.OrderBy(m => m.Name))
                stdout.WriteLine($"{m.Name,-22} {(m.UsesLayer ? "layer" : "input"),-6} {m.Summary}");
            return 0;
        });
        return cmd;
    }
}
