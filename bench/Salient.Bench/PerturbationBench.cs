using Salient.Cli;
using Salient.Methods;
using System.Diagnostics;
using System.Globalization;
using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Perturbation;
using Salient.Runtime;

namespace Salient.Bench;

/// <summary>
/// <c>perturbation</c>: for each model and method, the time to explain one image, the number of
/// rows the method ran through ORT (forward passes, or head passes for Ablation-CAM), and the time
/// of exactly those rows run as plain batched ORT runs (same session, same batch size, inputs
/// prepared beforehand) in the same process, alternating with the method's runs. Medians over
/// <c>--runs</c> runs. A hand-written timer (Stopwatch), not BenchmarkDotNet: one Score-CAM run on
/// ResNet-50 takes minutes on two cores, far too long for BenchmarkDotNet's pilot/warm-up scheme.
/// </summary>
internal static class PerturbationBench
{
    private sealed class Options
    {
        public List<string> Models = ["mobilenetv2", "resnet50"];
        public List<string> Methods = ["scorecam", "ablationcam", "occlusion", "rise"];
        public int Runs = 3;
        public int Threads;
        public int? BatchSize;
        public bool Pipeline = true;
        public int? RiseMasks;
        public int? TopChannels;
        public string? Image;
        public bool ScanBatch;
    }

    private const string Usage = """
        usage: Salient.Bench perturbation [--models mobilenetv2,resnet50] [--methods scorecam,ablationcam,occlusion,rise]
                                          [--runs 3] [--threads 0] [--batch-size N] [--no-pipeline] [--masks N] [--top-channels N] [--image FILE]
                                          [--scan-batch]   (only: plain forward time per row at batch 1…64)
          resnet50 comes from tools/generated/resnet50.onnx: /usr/bin/python3 tools/make_bench_models.py
        """;

    public static int Run(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new SalientException($"{args[i]} needs a value\n{Usage}");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--models": o.Models = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).ToList(); break;
                case "--methods": o.Methods = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).ToList(); break;
                case "--runs": o.Runs = Math.Max(1, NextInt()); break;
                case "--threads": o.Threads = NextInt(); break;
                case "--batch-size": o.BatchSize = NextInt(); break;
                case "--no-pipeline": o.Pipeline = false; break;
                case "--masks": o.RiseMasks = NextInt(); break;
                case "--top-channels": o.TopChannels = NextInt(); break;
                case "--image": o.Image = Next(); break;
                case "--scan-batch": o.ScanBatch = true; break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: Console.Error.WriteLine($"unknown option {args[i]}\n{Usage}"); return 2;
            }
        }
        BatchRunner.PipelineByDefault = o.Pipeline;

        Console.WriteLine($"# Salient perturbation benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"machine: {CpuName()}, {Environment.ProcessorCount} logical cores; .NET {Environment.Version}; ORT intra-op threads {(o.Threads == 0 ? "default (one per core)" : o.Threads)}, spinning off; pipelined fill {(o.Pipeline ? "on" : "off")}; median of {o.Runs} runs");
        Console.WriteLine();
        Console.WriteLine("| model | method | passes | batch | method s/img | same passes as plain batched ORT runs, s | wall-time ratio | CPU-time ratio | method time outside ORT runs, s | method ÷ one forward (batch 1) |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        var summary = new List<string>();
        foreach (var name in o.Models)
        {
            var path = ModelPath(name);
            if (path is null)
            {
                Console.WriteLine($"| {name} | (missing: run /usr/bin/python3 tools/make_bench_models.py {name}) | | | | | | | | |");
                continue;
            }
            var runtime = new RuntimeOptions { IntraOpThreads = o.Threads, AllowSpinning = false };
            var options = name == "mobilenetv2" ? DefaultAssets.Apply(new ModelOptions()) with { Runtime = runtime } : new ModelOptions { Runtime = runtime };
            using var model = SalientModel.Load(path, options);
            var image = model.LoadImage(o.Image ?? DefaultAssets.ImagePath);
            var item = model.Prepare(image);
            var structure = model.Structure();
            var layer = structure.ResolveLayer("auto");
            var session = model.Session([structure.LogitsName]);

            // One plain forward pass at batch 1 (after a warm-up).
            var one = Tile(item.Tensor, 1);
            var shape1 = model.Input.ShapeFor(1, item.Height, item.Width);
            for (int w = 0; w < 3; w++) session.Run([new InputValue(model.Input.Name, shape1, one)], [structure.LogitsName]);
            var singles = new List<double>();
            for (int r = 0; r < 15; r++)
            {
                var sw = Stopwatch.StartNew();
                session.Run([new InputValue(model.Input.Name, shape1, one)], [structure.LogitsName]);
                singles.Add(sw.Elapsed.TotalSeconds);
            }
            double single = Median(singles);
            Console.Error.WriteLine($"[{name}] layer {layer.Name} {Onnx.Shapes.Format(layer.Shape)}, one forward {single * 1000:0.0} ms, default batch {BatchSizing.ForModel(model)}");

            if (o.ScanBatch)
            {
                foreach (int b in new[] { 1, 2, 4, 8, 16, 32, 64 })
                {
                    int rows = Math.Max(64, 2 * b);
                    FullBaseline(model, session, item, b, b); // warm-up at this shape
                    var t = Enumerable.Range(0, o.Runs).Select(_ => FullBaseline(model, session, item, rows, b)).ToList();
                    Console.WriteLine($"| {name} | plain forward, batch {b} | {rows} | {b} | | {Median(t):0.000} | | | | {Median(t) / rows * 1000:0.0} ms/row |");
                }
                continue;
            }
            var perMethod = new Dictionary<string, double>();
            foreach (var method in o.Methods)
            {
                var p = new Dictionary<string, string>();
                if (o.BatchSize is { } b) p[CommonParameters.BatchSize.Name] = b.ToString(CultureInfo.InvariantCulture);
                if (o.RiseMasks is { } m && method == "rise") p[Methods.Rise.Masks.Name] = m.ToString(CultureInfo.InvariantCulture);
                if (o.TopChannels is { } tc && method == "scorecam") p[Methods.ScoreCam.TopChannels.Name] = tc.ToString(CultureInfo.InvariantCulture);
                var request = new ExplainRequest { Methods = [method], Classes = ["243"], Parameters = p };
                bool head = method == "ablationcam";
                var cut = head ? CutSession.For(model, layer.Name) : null;
                int batch = o.BatchSize ?? (head ? cut!.DefaultBatch : BatchSizing.ForModel(model));
                var times = new List<double>();
                var baselines = new List<double>();
                var outside = new List<double>();
                var perForward = new List<double>();
                var cpuRatios = new List<double>();
                long rows = 0;
                for (int r = 0; r < o.Runs; r++)
                {
                    long rows0 = BatchRunner.RowsRun;
                    var ticks0 = BatchRunner.Ticks;
                    var cpu0 = CpuSeconds();
                    var sw = Stopwatch.StartNew();
                    Explainer.Explain(model, [item], request);
                    times.Add(sw.Elapsed.TotalSeconds);
                    double cpuMethod = CpuSeconds() - cpu0;
                    rows = BatchRunner.RowsRun - rows0;
                    var ticks = BatchRunner.Ticks;
                    outside.Add(times[^1] - Sec(ticks.Run - ticks0.Run));
                    Console.Error.WriteLine($"[{name}] {method} run {r + 1}: {times[^1]:0.000} s, {rows} rows; ORT {Sec(ticks.Run - ticks0.Run):0.000} s, building inputs {Sec(ticks.Fill - ticks0.Fill):0.000} s, ORT waiting for inputs {Sec(ticks.Wait - ticks0.Wait):0.000} s");
                    var cpu1 = CpuSeconds();
                    baselines.Add(head ? HeadBaseline(model, cut!, item, layer.Name, (int)rows, batch) : FullBaseline(model, session, item, (int)rows, batch));
                    cpuRatios.Add(cpuMethod / Math.Max(1e-9, CpuSeconds() - cpu1));
                    Console.Error.WriteLine($"[{name}] {method} plain batched: {baselines[^1]:0.000} s");
                    // One forward pass at batch 1, measured next to this run (the load of a shared machine drifts).
                    var ones = new List<double>();
                    for (int q = 0; q < 5; q++)
                    {
                        var s1 = Stopwatch.StartNew();
                        session.Run([new InputValue(model.Input.Name, shape1, one)], [structure.LogitsName]);
                        ones.Add(s1.Elapsed.TotalSeconds);
                    }
                    perForward.Add(times[^1] / Median(ones));
                }
                double t = Median(times), bl = Median(baselines);
                // The ratio is the median of the per-run ratios (each method run next to its own baseline run),
                // which a load change between runs disturbs less than a ratio of medians.
                double ratio = Median(times.Select((x, i) => x / baselines[i]).ToList());
                perMethod[method] = t;
                string passes = $"{rows}{(head ? " head" : "")}";
                Console.WriteLine($"| {name} | {method}{Setting(method, p)} | {passes} | {batch} | {t:0.000} | {bl:0.000} | {ratio:0.00} | {Median(cpuRatios):0.00} | {Median(outside):0.000} | {Median(perForward):0} |");
            }
            if (perMethod.TryGetValue("ablationcam", out var ab) && perMethod.TryGetValue("scorecam", out var sc))
                summary.Add($"{name}: Ablation-CAM / Score-CAM = {ab / sc:0.000}; one forward pass (batch 1) = {single * 1000:0.0} ms");
            else summary.Add($"{name}: one forward pass (batch 1) = {single * 1000:0.0} ms");
        }
        Console.WriteLine();
        foreach (var s in summary) Console.WriteLine(s);
        return 0;
    }

    private static string Setting(string method, Dictionary<string, string> p) => method switch
    {
        "scorecam" => p.TryGetValue(Methods.ScoreCam.TopChannels.Name, out var t) ? $" (top {t})" : " (all channels)",
        "rise" => $" ({(p.TryGetValue(Methods.Rise.Masks.Name, out var m) ? m : Methods.Rise.DefaultMasks.ToString(CultureInfo.InvariantCulture))} masks)",
        "occlusion" => " (default patch/stride)",
        _ => "",
    };

    /// <summary>rows copies of the image through the whole model, in batches, buffers prepared beforehand.</summary>
    private static double FullBaseline(SalientModel model, GraphSession session, PreparedInput item, int rows, int batch)
    {
        var fullShape = model.Input.ShapeFor(Math.Min(batch, rows), item.Height, item.Width);
        var full = new InputValue(model.Input.Name, fullShape, Tile(item.Tensor, Math.Min(batch, rows)));
        int tailRows = rows % batch;
        var tail = tailRows == 0 || rows < batch ? null : new InputValue(model.Input.Name, model.Input.ShapeFor(tailRows, item.Height, item.Width), Tile(item.Tensor, tailRows));
        string logits = model.Structure().LogitsName;
        var sw = Stopwatch.StartNew();
        for (int done = 0; done < rows; done += batch)
            session.Run([rows - done >= batch || tail is null ? full : tail], [logits]);
        return sw.Elapsed.TotalSeconds;
    }

    /// <summary>rows copies of the layer activation through the cut graph, in batches.</summary>
    private static double HeadBaseline(SalientModel model, CutSession cut, PreparedInput item, string layer, int rows, int batch)
    {
        var names = new[] { layer }.Concat(cut.Cut.ExtraInputs).ToArray();
        var fwd = model.Run([item], names);
        InputValue[] Inputs(int n) => names.Select(t =>
        {
            var v = fwd[t];
            bool perRow = t == layer || cut.Cut.PerRowExtras.Contains(t);
            return perRow ? new InputValue(t, [n, .. v.Shape[1..]], Tile(v.Data, n)) : new InputValue(t, v.Shape, v.Data);
        }).ToArray();
        var full = Inputs(Math.Min(batch, rows));
        var tail = rows % batch == 0 || rows < batch ? null : Inputs(rows % batch);
        var sw = Stopwatch.StartNew();
        for (int done = 0; done < rows; done += batch)
            cut.Session.Run(rows - done >= batch || tail is null ? full : tail, [cut.Cut.Output]);
        return sw.Elapsed.TotalSeconds;
    }

    private static float[] Tile(float[] row, int n)
    {
        var r = new float[row.Length * n];
        for (int i = 0; i < n; i++) row.CopyTo(r, i * row.Length);
        return r;
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    /// <summary>CPU time of the whole process (every thread: ORT's pool, the input builder, this one).</summary>
    private static double CpuSeconds()
    {
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime.TotalSeconds;
    }

    private static double Sec(long ticks) => (double)ticks / Stopwatch.Frequency;

    private static string? ModelPath(string name)
    {
        if (name == "mobilenetv2") return DefaultAssets.ModelPath;
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "tools", "generated", name + ".onnx");
            if (File.Exists(p)) return p;
        }
        return File.Exists(name) ? name : null;
    }

    private static string CpuName()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return "unknown CPU";
    }
}
