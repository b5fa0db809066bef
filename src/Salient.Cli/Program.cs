using System.CommandLine;
using Salient.Cli.Commands;

namespace Salient.Cli;

public static class Program
{
    /// <summary>Library messages name options as "the `size` option"; on the command line that is "--size".</summary>
    internal static string CliWording(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, "the `([a-z][a-z0-9-]*)` option", "--$1");

    /// <summary>Global <c>--verbose</c>: ONNX Runtime's own warnings on stderr (and, for <c>methods</c>, each method's parameters).</summary>
    internal static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "show ONNX Runtime's own log lines (warnings); for `methods`, also each method's parameters",
        Recursive = true,
    };

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the CLI; every user error becomes one line on stderr and exit code 1, never a stack trace.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("salient — see where a vision model looks when it decides (CAM, Eigen-CAM, Grad-CAM and more for any ONNX image model)");
        root.Options.Add(Verbose);
        root.Subcommands.Add(LayersCommand.Create(stdout));
        root.Subcommands.Add(PredictCommand.Create(stdout));
        root.Subcommands.Add(ExplainCommand.Create(stdout, stderr));
        root.Subcommands.Add(MethodsCommand.Create(stdout));
        root.Subcommands.Add(VisualizeCommand.Create(stdout, stderr));
        root.Subcommands.Add(ActivationsCommand.Create(stdout));

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) stderr.WriteLine($"error: {e.Message}");
            stderr.WriteLine("Run 'salient --help' (or 'salient COMMAND --help') for usage.");
            return 2;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Methods.ParameterException e)
        {
            stderr.WriteLine($"error: {e.Describe(n => "--" + n)}");
            return 1;
        }
        catch (SalientException e)
        {
            stderr.WriteLine($"error: {CliWording(e.Message)}");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"internal error ({e.GetType().Name}): {e.Message.Split('\n')[0]} — please report it with the command you ran" +
                             (Environment.GetEnvironmentVariable("SALIENT_DEBUG") == "1" ? "\n" + e : " (set SALIENT_DEBUG=1 for details)"));
            return 3;
        }
    }
}
