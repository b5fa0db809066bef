using System.CommandLine;
using Salient.Cli.Commands;

namespace Salient.Cli;

public static class Program
{
    /// <summary>Library messages name options as "the `size` option"; on the command line that is "--size".</summary>
    internal static string CliWording(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, "the `([a-z][a-z0-9-]*)` option", "--$1");

    /// <summary>"unknown command 'explian'; did you mean 'explain'?" for a first word that is no command.</summary>
    internal static string? UnknownCommand(Command root, string first)
    {
        if (first.StartsWith('-') || root.Subcommands.Any(c => c.Name == first)) return null;
        var names = root.Subcommands.Select(c => c.Name).Append("help");
        return Core.Names.Suggest(first, names) is { } s
            ? $"error: unknown command '{first}'; did you mean '{s}'? (run 'salient --help' for the commands)"
            : $"error: unknown command '{first}'; the commands are {string.Join(", ", root.Subcommands.Select(c => c.Name))} (run 'salient --help')";
    }

    /// <summary>"unknown option '--clas' for explain; did you mean '--class'?" for an option the command does not have.</summary>
    internal static string? UnknownOption(Command command, string[] args)
    {
        var known = new HashSet<string>(StringComparer.Ordinal) { "--help", "-h", "-?", "--version" };
        for (var c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
            foreach (var o in c.Options) { known.Add(o.Name); foreach (var a in o.Aliases) known.Add(a); }
        foreach (var arg in args)
        {
            if (arg == "--") break;
            bool optionLike = arg.StartsWith("--") && arg.Length > 2 || arg.Length == 2 && arg[0] == '-' && char.IsLetter(arg[1]);
            if (!optionLike) continue;
            string name = arg.Split('=')[0];
            if (known.Contains(name)) continue;
            var candidates = known.Where(k => k.StartsWith("--") && k != "--version").ToList();
            return Core.Names.Suggest(name, candidates) is { } s
                ? $"error: unknown option '{name}' for {command.Name}; did you mean '{s}'? (run 'salient {command.Name} --help')"
                : $"error: unknown option '{name}' for {command.Name} (run 'salient {command.Name} --help')";
        }
        return null;
    }

    /// <summary>Global <c>--verbose</c>: ONNX Runtime's own warnings on stderr (and, for <c>methods</c>, each method's parameters).</summary>
    internal static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "show ONNX Runtime's own log lines (warnings); for `methods`, also each method's parameters",
        Recursive = true,
    };

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The command's name, whatever the executable is called (the installed tool's shim is `salient`).</summary>
    public const string CommandName = "salient";

    /// <summary>The product version (one for the tool and the library), without the commit suffix.</summary>
    public static string Version => InformationalVersion.Split('+')[0];

    /// <summary>The version with its commit (e.g. 0.2.0+457bdba…).</summary>
    public static string InformationalVersion => typeof(Program).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "0.0.0";

    internal static Command BuildRoot(TextWriter stdout, TextWriter stderr)
    {
        // A plain command named "salient" (a RootCommand would take the executable's name, Salient.Cli).
        var root = new Command(CommandName, "see where a vision model looks when it decides (CAM, Eigen-CAM, Grad-CAM and more for any ONNX image model; a built-in ImageNet MobileNetV2 when no --model is given)");
        root.Options.Add(new System.CommandLine.Help.HelpOption());
        // Our own --version: System.CommandLine's reads the entry assembly, which is not this one when the CLI is hosted (tests).
        var version = new Option<bool>("--version") { Description = "show the version of salient (and of the Salient library: they share one)" };
        root.Options.Add(version);
        root.Options.Add(Verbose);
        root.Subcommands.Add(ExplainCommand.Create(stdout, stderr));
        root.Subcommands.Add(EvaluateCommand.Create(stdout, stderr));
        root.Subcommands.Add(SanityCommand.Create(stdout, stderr));
        root.Subcommands.Add(CompareCommand.Create(stdout, stderr));
        root.Subcommands.Add(ReportCommand.Create(stdout, stderr));
        root.Subcommands.Add(PredictCommand.Create(stdout, stderr));
        root.Subcommands.Add(LayersCommand.Create(stdout));
        root.Subcommands.Add(MethodsCommand.Create(stdout));
        root.Subcommands.Add(VisualizeCommand.Create(stdout, stderr));
        root.Subcommands.Add(ActivationsCommand.Create(stdout));
        root.Subcommands.Add(ExportCommand.Create(stdout, stderr));
        root.Subcommands.Add(MergeCommand.Create(stdout, stderr));
        root.Subcommands.Add(ServeCommand.Create(stdout, stderr));
        root.SetAction(p =>
        {
            if (p.GetValue(version)) stdout.WriteLine(InformationalVersion);
            return 0;
        });
        return root;
    }

    /// <summary>Runs the CLI; every user error becomes one line on stderr and exit code 1, never a stack trace.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = BuildRoot(stdout, stderr);
        // `salient` and `salient help [COMMAND]` print the help.
        if (args.Length == 0) args = ["--help"];
        else if (args[0] == "help") args = args.Length > 1 ? [args[1], "--help"] : ["--help"];
        if (UnknownCommand(root, args[0]) is { } unknownCommand)
        {
            stderr.WriteLine(unknownCommand);
            return 2;
        }
        ParseResult parsed = root.Parse(args);
        if (UnknownOption(parsed.CommandResult.Command, args) is { } unknownOption)
        {
            stderr.WriteLine(unknownOption);
            return 2;
        }
        if (parsed.Errors.Count > 0)
        {
            stderr.WriteLine($"error: {parsed.Errors[0].Message} (run 'salient {(parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ")}--help' for usage)");
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
