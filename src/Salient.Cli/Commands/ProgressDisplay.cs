using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Salient.Cli.Commands;

/// <summary>
/// A command's progress over a number of units (images, visualized units…): on a terminal a Spectre
/// progress bar (done/total, units/s, ETA); otherwise plain lines
/// <c>[done/total] TEXT · 1.23 images/s · ETA 0:42</c> for the steps the command describes.
/// </summary>
/// <example>
/// <code>
/// var results = ProgressDisplay.Run(stdout, "visualize", units.Count, "units", display =>
///     Work(onUnitDone: (done, text) => display.Advance(done, text)));
/// </code>
/// </example>
internal sealed class ProgressDisplay
{
    private readonly TextWriter _stdout;
    private readonly int _total;
    private readonly string _unit;
    private readonly bool _enabled;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private ProgressTask? _bar;

    private ProgressDisplay(TextWriter stdout, int total, string unit, bool enabled)
    {
        _stdout = stdout;
        _total = total;
        _unit = unit;
        _enabled = enabled;
    }

    /// <summary>True while the terminal shows the bar: callers then print nothing per unit (it would break the bar).</summary>
    public bool Interactive => _bar is not null;

    /// <summary>
    /// Runs <paramref name="body"/> with a display of <paramref name="total"/> units named <paramref name="unit"/>
    /// ("images", "units"). The bar shows when <paramref name="enabled"/> and stdout is the console, not
    /// redirected; plain lines otherwise. Disabled: no bar and no lines (a one-image run), <see cref="Advance"/> is silent.
    /// </summary>
    public static T Run<T>(TextWriter stdout, string description, int total, string unit, Func<ProgressDisplay, T> body, bool enabled = true)
    {
        var display = new ProgressDisplay(stdout, total, unit, enabled);
        if (!enabled || !ReferenceEquals(stdout, Console.Out) || Console.IsOutputRedirected) return body(display);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Out),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
        });
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new CountColumn(), new RateColumn(unit), new EtaColumn())
            .Start(ctx =>
            {
                display._bar = ctx.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total));
                try { result = body(display); }
                finally { display._bar = null; }
            });
        return result;
    }

    /// <summary>
    /// <paramref name="done"/> units of the total are finished (fractions allowed). On the bar: its value.
    /// In plain mode: a line <c>[done/total] TEXT · rate unit/s · ETA</c> when <paramref name="text"/> is given.
    /// </summary>
    public void Advance(double done, string? text = null)
    {
        if (_bar is { } bar) { bar.Value = done; return; }
        if (!_enabled || text is null) return;
        double rate = done / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
        _stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{done:0.##}/{_total}] {text} · {rate:0.00} {_unit}/s · ETA {FormatDuration((_total - done) / Math.Max(rate, 1e-9))}"));
    }

    /// <summary>The bar's description (e.g. the current step); ignored in plain mode.</summary>
    public void Describe(string text)
    {
        if (_bar is { } bar) bar.Description = Markup.Escape(text);
    }

    /// <summary>m:ss, or h:mm:ss from an hour on; "?" when unknown.</summary>
    public static string FormatDuration(double seconds)
    {
        if (double.IsNaN(seconds) || double.IsInfinity(seconds) || seconds > TimeSpan.MaxValue.TotalSeconds / 2) return "?";
        var t = TimeSpan.FromSeconds(Math.Round(Math.Max(0, seconds)));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes}:{t.Seconds:00}";
    }

    /// <summary>"done/total".</summary>
    private sealed class CountColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text($"{task.Value:0}/{task.MaxValue:0}");
    }

    /// <summary>Units per second since the start.</summary>
    private sealed class RateColumn(string unit) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            double s = task.ElapsedTime?.TotalSeconds ?? 0;
            return new Text(s > 0 && task.Value > 0 ? $"{task.Value / s:0.00} {unit}/s" : $"– {unit}/s");
        }
    }

    /// <summary>Remaining time at the average rate so far.</summary>
    private sealed class EtaColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            double s = task.ElapsedTime?.TotalSeconds ?? 0;
            if (task.Value <= 0 || s <= 0) return new Text("ETA –");
            return new Text($"ETA {FormatDuration((task.MaxValue - task.Value) * s / task.Value)}");
        }
    }
}

/// <summary>
/// Ctrl-C as a <see cref="CancellationToken"/> while a command runs: the first press cancels the token
/// (the command stops between steps and keeps what finished); a second press ends the process as usual.
/// </summary>
internal sealed class CtrlC : IDisposable
{
    /// <summary>The conventional exit code of a command stopped by Ctrl-C (128 + SIGINT).</summary>
    public const int ExitCode = 130;

    private readonly CancellationTokenSource _cts = new();

    public CtrlC() => Console.CancelKeyPress += OnCancel;

    public CancellationToken Token => _cts.Token;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (_cts.IsCancellationRequested) return; // second press: let it end the process
        e.Cancel = true;
        try { _cts.Cancel(); }
        catch (ObjectDisposedException) { } // pressed while the command was ending
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _cts.Dispose();
    }
}
