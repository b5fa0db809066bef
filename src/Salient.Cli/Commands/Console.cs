using Spectre.Console;

namespace Salient.Cli.Commands;

internal static class Term
{
    public static IAnsiConsole For(TextWriter w)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(w),
        Ansi = w == Console.Out && !Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = w == Console.Out && !Console.IsOutputRedirected ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = InteractionSupport.No,
    });
        if (w != Console.Out || Console.IsOutputRedirected) console.Profile.Width = 200;
        return console;
    }

    public static string Human(long n) => n switch
    {
        >= 1_000_000 => $"{n / 1e6:0.##}M",
        >= 10_000 => $"{n / 1e3:0.#}k",
        _ => n.ToString(),
    };
}
