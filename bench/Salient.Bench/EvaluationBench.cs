using System.Diagnostics;
using System.Globalization;
using Salient.Evaluation;
using Salient.Models;
using Salient.Perturbation;
using Salient.Runtime;

namespace Salient.Bench;

/// <summary>
/// <c>evaluation</c>: the cost of <c>salient evaluate</c>'s metrics per (image, method) as a multiple of
/// one forward pass of the same model and image (batch 1, same ORT options): deletion + insertion at
/// 50 steps (goal ≤ 110 forward-equivalents), and ROAD (MoRF + LeRF at 9 percentiles, noise 0.01).
/// Every metric run is framed by forward timings (medians of 7 before and after it, averaged), so each
/// ratio compares times taken seconds apart, in wall-clock and in process CPU time (all threads); the table gives the median ratio over the runs and its range. With
/// <c>--peer</c>, pytorch-grad-cam's ROADCombined (bench/eval/road_peer.py, same image, same map, one
/// torch thread) runs in a child process alternating with Salient's ROAD run by run (goal: ≥ 10× faster).
/// The first method's map is the peer's (a Gaussian blob at (120, 90), σ = 40 px, on 224×224); the
/// others are the Sobel and a random map.
/// </summary>
internal static class EvaluationBench
{
    private const string Usage = "usage: Salient.Bench evaluation IMAGE [--model FILE.onnx] [--methods 1,3] [--runs 5] [--threads 1] [--batch-size N] [--only deletion|road] [--peer]";

    public static int Run(string[] args)
    {
        string? path = null, image = null, only = null;
        var methodCounts = new List<int> { 1, 3 };
        int runs = 5, threads = 1;
        int? batch = null;
        bool peer = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new SalientException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--model": path = Next(); break;
                case "--methods": methodCounts = Next().Split(',').Select(int.Parse).ToList(); break;
                case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--batch-size": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--only": only = Next(); break;
                case "--peer": peer = true; break;
                default:
                    if (args[i].StartsWith('-') || image is not null) throw new SalientException($"unknown option {args[i]}\n{Usage}");
                    image = args[i];
                    break;
            }
        }
        if (image is null) throw new SalientException(Usage);
        var options = new ModelOptions { Runtime = new RuntimeOptions { IntraOpThreads = threads } };
        using var model = path is null ? SalientModel.LoadBuiltIn(options) : SalientModel.Load(path, options);
        var item = model.Prepare(model.LoadImage(image));
        string logitsName = model.Structure().LogitsName;
        var logits = model.Run([item])[logitsName].Data;
        int cls = Statistics.ArgMax(logits);
        Console.WriteLine($"# Salient evaluation benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {LoadAverage()}; ORT intra-op threads {threads}; {runs} runs; model {model.Path}; image {image} ({item.Width}×{item.Height}), class {cls}; batch {Evaluator.BatchSize(model, new EvaluationOptions { BatchSize = batch })}{(batch is null ? " (default)" : "")}");

        void Forward() => model.Run([item]);
        for (int r = 0; r < 5; r++) Forward();
        (double Wall, double Cpu) ForwardMs()
        {
            var t = Enumerable.Range(0, 7).Select(_ => Time(Forward)).ToList();
            return (Median(t.Select(v => v.Wall).ToList()), Median(t.Select(v => v.Cpu).ToList()));
        }

        var maps = new[] { PeerMap(item.Height, item.Width), BaselineMaps.SobelMap(item), BaselineMaps.RandomMap(item.Height, item.Width, 2) };
        var o = new EvaluationOptions { Steps = 50, BatchSize = batch };
        Console.WriteLine();
        Console.WriteLine("| metric | methods | ms (median) | one forward, ms | forward-equivalents per method, wall: median [range] | CPU: median [range] | rows per method | ORT runs, ms | building rows, ms | ORT waiting for rows, ms |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        var sets = new (string Label, string Key, string[] Metrics)[]
        {
            ("deletion+insertion@50", "deletion", [MetricNames.Deletion, MetricNames.Insertion]),
            ("road (9 percentiles)", "road", [MetricNames.Road]),
        };
        foreach (var (label, key, metrics) in sets.Where(s => only is null || s.Key == only))
            foreach (int n in methodCounts)
            {
                var c = new EvaluationCase(item, cls, Enumerable.Range(0, n).ToDictionary(k => $"m{k}", k => maps[k % maps.Length]));
                void Once() => Evaluator.Evaluate(model, c, metrics, o, logits);
                Once();
                var times = new List<double>();
                var forwards = new List<double>();
                var ratios = new List<double>();
                var cpuRatios = new List<double>();
                long rows0 = BatchRunner.RowsRun;
                var ticks0 = BatchRunner.Ticks;
                for (int r = 0; r < runs; r++)
                {
                    var before = ForwardMs();
                    var t = Time(Once);
                    var after = ForwardMs();
                    (double Wall, double Cpu) f = ((before.Wall + after.Wall) / 2, (before.Cpu + after.Cpu) / 2);
                    forwards.Add(f.Wall);
                    times.Add(t.Wall);
                    ratios.Add(t.Wall / n / f.Wall);
                    cpuRatios.Add(t.Cpu / n / f.Cpu);
                }
                var ticks1 = BatchRunner.Ticks;
                double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency / runs;
                Console.WriteLine($"| {label} | {n} | {Median(times):0.0} | {Median(forwards):0.00} | {Median(ratios):0.0} [{ratios.Min():0.0}–{ratios.Max():0.0}] | {Median(cpuRatios):0.0} [{cpuRatios.Min():0.0}–{cpuRatios.Max():0.0}] | " +
                    $"{(BatchRunner.RowsRun - rows0) / (double)runs / n:0.#} | {Ms(ticks1.Run - ticks0.Run):0.0} | {Ms(ticks1.Fill - ticks0.Fill):0.0} | {Ms(ticks1.Wait - ticks0.Wait):0.0} |");
            }

        if (peer) ComparePeer(model, item, cls, maps[0], logits, o, image, runs);
        return 0;
    }

    /// <summary>ROAD of one method (the peer's map) alternating with pytorch-grad-cam's ROADCombined in a child process.</summary>
    private static void ComparePeer(SalientModel model, Imaging.PreparedInput item, int cls, float[] map, float[] logits, EvaluationOptions o, string image, int runs)
    {
        string script = Path.Combine(RepoRoot(), "bench", "eval", "road_peer.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", [script, image, "--serve"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        string reference = Environment.GetEnvironmentVariable("GRADCAM_REF") ?? "/work/ref/jacobgil+pytorch-grad-cam";
        psi.Environment["GRADCAM_REF"] = reference;
        using var python = Process.Start(psi) ?? throw new SalientException("cannot start /usr/bin/python3");
        string? ready;
        while ((ready = python.StandardOutput.ReadLine()) is not null && ready != "ready") Console.WriteLine($"peer: {ready}");
        if (ready is null) throw new SalientException("the peer (bench/eval/road_peer.py) ended before it was ready");

        var c = new EvaluationCase(item, cls, new Dictionary<string, float[]> { ["blob"] = map });
        var salient = new List<(double Wall, double Cpu)>();
        var theirs = new List<(double Wall, double Cpu)>();
        Evaluator.Evaluate(model, c, [MetricNames.Road], o, logits);
        for (int r = 0; r < runs; r++)
        {
            salient.Add(Time(() => Evaluator.Evaluate(model, c, [MetricNames.Road], o, logits)));
            python.StandardInput.WriteLine("road");
            var answer = python.StandardOutput.ReadLine() ?? throw new SalientException("the peer stopped answering");
            var parts = answer.Split(' ');
            theirs.Add((double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture)));
        }
        python.StandardInput.Close();
        python.WaitForExit();
        var wallRatios = salient.Zip(theirs, (s, t) => t.Wall / s.Wall).ToList();
        var cpuRatios = salient.Zip(theirs, (s, t) => t.Cpu / s.Cpu).ToList();
        Console.WriteLine();
        Console.WriteLine($"ROAD, one method, the peer's map, alternating run by run ({runs} pairs; load average {LoadAverage()}):");
        Console.WriteLine("| | wall ms (median) | CPU ms (median) |");
        Console.WriteLine("| --- | --- | --- |");
        Console.WriteLine($"| Salient ROAD | {Median(salient.Select(s => s.Wall).ToList()):0} | {Median(salient.Select(s => s.Cpu).ToList()):0} |");
        Console.WriteLine($"| pytorch-grad-cam ROADCombined | {Median(theirs.Select(s => s.Wall).ToList()):0} | {Median(theirs.Select(s => s.Cpu).ToList()):0} |");
        Console.WriteLine($"| peer ÷ Salient, per pair: median [range] | {Median(wallRatios):0.0}× [{wallRatios.Min():0.0}–{wallRatios.Max():0.0}] | {Median(cpuRatios):0.0}× [{cpuRatios.Min():0.0}–{cpuRatios.Max():0.0}] |");
    }

    /// <summary>The peer's map (bench/eval/road_peer.py): a Gaussian blob at (x 120, y 90), σ = 40 px, on the input grid.</summary>
    private static float[] PeerMap(int h, int w)
    {
        var m = new float[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                m[y * w + x] = (float)Math.Exp(-((y - 90.0) * (y - 90.0) + (x - 120.0) * (x - 120.0)) / (2 * 40.0 * 40.0));
        return m;
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "bench", "eval", "road_peer.py"))) return d.FullName;
        throw new SalientException("bench/eval/road_peer.py not found above the benchmark's folder");
    }

    private static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    /// <summary>Wall-clock and process CPU time (all threads: ORT's, the row builder's, the GC's) of one call, in ms.</summary>
    private static (double Wall, double Cpu) Time(Action a)
    {
        double c0 = ProcessCpuMs();
        var sw = Stopwatch.StartNew();
        a();
        return (sw.Elapsed.TotalMilliseconds, ProcessCpuMs() - c0);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec t);
    private struct Timespec { public long Seconds, Nanoseconds; }

    /// <summary>This process's CPU time: CLOCK_PROCESS_CPUTIME_ID (nanoseconds) on Linux, else the coarser <see cref="Process.TotalProcessorTime"/>.</summary>
    private static double ProcessCpuMs()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(2, out var t) == 0) return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime.TotalMilliseconds;
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
