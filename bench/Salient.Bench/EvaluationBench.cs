using System.Diagnostics;
using System.Globalization;
using Salient.Evaluation;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Bench;

/// <summary>
/// <c>evaluation</c>: the cost of <c>salient evaluate</c>'s metrics per (image, method) as a multiple of
/// one forward pass of the same model and image (batch 1, same ORT options): deletion + insertion at
/// 50 steps (goal ≤ 110 forward-equivalents), and ROAD (MoRF + LeRF at 9 percentiles, noise 0.01) to
/// set beside pytorch-grad-cam's ROADCombined (bench/eval/road_peer.py). Medians of the runs.
/// </summary>
internal static class EvaluationBench
{
    private const string Usage = "usage: Salient.Bench evaluation IMAGE [--model FILE.onnx] [--methods 1,3] [--runs 5] [--threads 1]";

    public static int Run(string[] args)
    {
        string? path = null, image = null;
        var methodCounts = new List<int> { 1, 3 };
        int runs = 5, threads = 1;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new SalientException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--model": path = Next(); break;
                case "--methods": methodCounts = Next().Split(',').Select(int.Parse).ToList(); break;
                case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
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
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores; ORT intra-op threads {threads}; medians of {runs}; model {model.Path}; image {image} ({item.Width}×{item.Height}), class {cls}");

        void Forward() => model.Run([item]);
        Forward();
        var tf = new List<double>();
        for (int r = 0; r < Math.Max(runs, 11); r++) tf.Add(Time(Forward));
        double forward = Median(tf);
        Console.WriteLine($"one forward (batch 1): {forward:0.00} ms");
        Console.WriteLine($"{"metric",-22} {"methods",7} {"ms",9} {"ms/method",10} {"forwards/method",16}");
        var maps = new[] { BaselineMaps.SobelMap(item), BaselineMaps.RandomMap(item.Height, item.Width, 1), BaselineMaps.RandomMap(item.Height, item.Width, 2) };
        foreach (var (label, metrics) in new (string, string[])[] { ("deletion+insertion@50", [MetricNames.Deletion, MetricNames.Insertion]), ("road (9 percentiles)", [MetricNames.Road]) })
            foreach (int n in methodCounts)
            {
                var c = new EvaluationCase(item, cls, Enumerable.Range(0, n).ToDictionary(k => $"m{k}", k => maps[k % maps.Length]));
                var o = new EvaluationOptions { Steps = 50 };
                void Once() => Evaluator.Evaluate(model, c, metrics, o, logits);
                Once();
                var t = new List<double>();
                for (int r = 0; r < runs; r++) t.Add(Time(Once));
                double ms = Median(t);
                Console.WriteLine($"{label,-22} {n,7} {ms,9:0.0} {ms / n,10:0.0} {ms / n / forward,15:0.0}×");
            }
        return 0;
    }

    private static double Time(Action a)
    {
        var sw = Stopwatch.StartNew();
        a();
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
