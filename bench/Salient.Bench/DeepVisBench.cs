using Salient.Cli;
using System.Diagnostics;
using System.Globalization;
using Salient.Autodiff;
using Salient.Models;
using Salient.Runtime;
using Salient.Visualization;

namespace Salient.Bench;

/// <summary>
/// <c>deepvis</c>: the cost of one activation-maximization step against the engine call it is built
/// on. For each preset and batch size: the median wall time of one optimization step (the interval
/// between consecutive progress reports of <see cref="FeatureVisualizer"/>: gradient + image update +
/// regularizers / Fourier transforms + Adam) and the median time of one plain forward+input-gradient
/// pass of the same model (<see cref="GradientEngine.Run"/> on the logits, same batch), alternated in
/// the same process; their ratio must stay ≤ 1.2. Optionally a complete 256-step visualization at
/// 224 × 224. A Stopwatch bench, not BenchmarkDotNet (one 256-step run takes a minute on two cores).
/// </summary>
internal static class DeepVisBench
{
    private const string Usage = """
        usage: Salient.Bench deepvis [--model FILE] [--presets deepvis,lucid] [--batches 1,10] [--steps 16] [--runs 3]
                                     [--threads 0] [--full]   (--full: also time one complete 256-step visualization at batch 1)
        """;

    public static int Run(string[] args)
    {
        string? modelPath = null;
        var presets = new List<string> { "deepvis", "lucid" };
        var batches = new List<int> { 1, 10 };
        int steps = 16, runs = 3, threads = 0;
        bool full = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new SalientException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--model": modelPath = Next(); break;
                case "--presets": presets = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).ToList(); break;
                case "--batches": batches = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList(); break;
                case "--steps": steps = Math.Max(3, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--runs": runs = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--full": full = true; break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: Console.Error.WriteLine($"unknown option {args[i]}\n{Usage}"); return 2;
            }
        }
        var options = new ModelOptions { Runtime = new RuntimeOptions { IntraOpThreads = threads } };
        if (modelPath is null) { modelPath = DefaultAssets.ModelPath; options = DefaultAssets.Apply(options); }
        using var model = SalientModel.Load(modelPath, options);
        var structure = model.Structure();
        int classes = structure.ClassCount;
        var (w, h) = model.InputSize;

        Console.WriteLine($"# Salient DeepVis benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"model {Path.GetFileName(modelPath)} at {w}x{h}; {Environment.ProcessorCount} logical cores; .NET {Environment.Version}; " +
                          $"ORT intra-op threads {(threads == 0 ? "default (one per core)" : threads)}; medians of {runs} runs × {steps} steps; class-logit objectives");
        Console.WriteLine();
        Console.WriteLine("| preset | batch | step, s | forward+input-gradient pass, s | step ÷ pass | step per image, s | 256 steps per image, s |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        bool ok = true;
        foreach (var name in presets)
        {
            var preset = VisualizationPresets.Get(name);
            foreach (int batch in batches)
            {
                var objectives = Enumerable.Range(0, batch).Select(i => Objective.Class((i * 97 + 1) % classes)).ToList();
                var input = new InputValue(model.Input.Name, model.Input.ShapeFor(batch, h, w), new float[batch * model.Input.Channels * h * w]);
                var request = new GradientRequest { ScoreTensor = structure.LogitsName, Wrt = [model.Input.Name] };
                var seed = Seeds.ClassLogit(objectives.Select(o => ((ClassObjective)o).ClassIndex).ToArray(), classes);
                model.Gradients.Run(input, request, _ => seed); // build + warm up
                var vis = new FeatureVisualizer(model);
                vis.Run(objectives, new VisualizationOptions { Preset = preset, Steps = 2, BatchSize = batch }); // warm up
                var stepTimes = new List<double>();
                var passTimes = new List<double>();
                for (int r = 0; r < runs; r++)
                {
                    for (int k = 0; k < steps; k++)
                    {
                        var sw = Stopwatch.StartNew();
                        model.Gradients.Run(input, request, _ => seed);
                        passTimes.Add(sw.Elapsed.TotalSeconds);
                    }
                    var marks = new List<double>();
                    var clock = Stopwatch.StartNew();
                    vis.Run(objectives, new VisualizationOptions { Preset = preset, Steps = steps + 1, BatchSize = batch, Seed = r },
                        new Progress(_ => marks.Add(clock.Elapsed.TotalSeconds)));
                    for (int k = 1; k < marks.Count; k++) stepTimes.Add(marks[k] - marks[k - 1]);
                }
                double step = Median(stepTimes), pass = Median(passTimes), ratio = step / pass;
                ok &= ratio <= 1.2;
                Console.WriteLine(FormattableString.Invariant(
                    $"| {preset.Name} | {batch} | {step:0.000} | {pass:0.000} | {ratio:0.00} | {step / batch:0.000} | {256 * step / batch:0.0} |"));
            }
        }
        if (full)
        {
            foreach (var name in presets)
            {
                var preset = VisualizationPresets.Get(name);
                var clock = Stopwatch.StartNew();
                var res = new FeatureVisualizer(model).Run([Objective.Class(130)], new VisualizationOptions { Preset = preset, Steps = 256 });
                Console.WriteLine(FormattableString.Invariant(
                    $"\none complete 256-step {preset.Name} visualization (class 130, batch 1, {w}x{h}): {clock.Elapsed.TotalSeconds:0.0} s, final logit {res[0].Value:0.0}"));
            }
        }
        Console.WriteLine();
        Console.WriteLine(ok ? "every step ≤ 1.2 × one forward+input-gradient pass" : "SOME STEP EXCEEDS 1.2 × one forward+input-gradient pass");
        return ok ? 0 : 1;
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : 0.5 * (s[s.Count / 2 - 1] + s[s.Count / 2]);
    }

    private sealed class Progress(Action<VisualizationProgress> a) : IProgress<VisualizationProgress>
    {
        public void Report(VisualizationProgress value) => a(value);
    }
}
