using Salient.Cli;
using System.Diagnostics;
using System.Globalization;
using Salient.Autodiff;
using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Bench;

/// <summary>
/// <c>gradients</c>: for MobileNetV2 and ResNet-50 at batch 1 and 8, the median time of a plain ORT
/// forward pass and, in the same process and alternating with it, of Grad-CAM at the last layer
/// and of the full input gradient (saliency, guided backprop), as ratios to the forward; the time
/// to build the backward graph; and (<c>--memory</c>, one child process per measurement) the peak
/// resident memory of a plain forward run vs a Grad-CAM run. Hand-written median timer
/// (Stopwatch), ORT spinning off — see docs/benchmarks.md.
/// </summary>
internal static class GradientBench
{
    private const string Usage = """
        usage: Salient.Bench gradients [--models mobilenetv2,resnet50] [--batches 1,8] [--runs 9] [--threads 0] [--methods gradcam,saliency,guidedbackprop] [--quantile 0.5] [--breakdown] [--memory | --memory-only]
          resnet50 comes from tools/generated/resnet50.onnx: /usr/bin/python3 tools/make_bench_models.py;
          a model may also be a path to an .onnx file, e.g. /tmp/bigmodels/vit_b_16_head.onnx (a ViT-B/16 with a random head:
          /usr/bin/python3 tools/make_bench_models.py --out /tmp/bigmodels vit_b_16_head); Grad-CAM uses the default layer
          (for a ViT: the last block's first LayerNorm); --quantile 0.1 reports 10th percentiles (steadier on a busy machine),
          --breakdown where Grad-CAM's time goes
        """;

    public static int Run(string[] args)
    {
        var models = new List<string> { "mobilenetv2", "resnet50" };
        var batches = new List<int> { 1, 8 };
        int runs = 9, threads = 0;
        double quantile = 0.5;
        bool memory = false, timing = true, breakdown = false;
        var methods = new List<string> { "gradcam", "saliency", "guidedbackprop" };
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new SalientException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--models": models = Next().Split(',').ToList(); break;
                case "--batches": batches = Next().Split(',').Select(int.Parse).ToList(); break;
                case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--methods": methods = Next().Split(',').ToList(); break;
                case "--memory": memory = true; break;
                case "--memory-only": memory = true; timing = false; break;
                case "--breakdown": breakdown = true; break;
                case "--quantile": quantile = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--child": return Child(args[(i + 1)..]);
                default: throw new SalientException($"unknown option {args[i]}\n{Usage}");
            }
        }
        var runtime = new RuntimeOptions { IntraOpThreads = threads };
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores; ORT intra-op threads {(threads == 0 ? "default" : threads)}, spinning off; {(quantile == 0.5 ? "medians" : $"{quantile * 100:0}th percentiles")} of {runs}");
        Console.WriteLine();
        Console.WriteLine("| model | batch | forward ms | Grad-CAM ms (ratio) | saliency ms (ratio) | guided backprop ms (ratio) | backward build ms (graph / probe / sessions) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var name in timing ? models : [])
        {
            string path = ModelPath(name);
            using var model = SalientModel.Load(path, new ModelOptions { Runtime = runtime, Preprocessing = Preprocessing.Imagenet });
            var image = ImageLoader.Load(BenchImage());
            foreach (int batch in batches)
            {
                var items = Enumerable.Repeat(model.Prepare(image), batch).ToList();
                var input = model.Pack(items);
                var plain = model.Session([]);
                var layer = model.Structure().ResolveLayer("auto").Name;
                var sw = Stopwatch.StartNew();
                var program = model.Gradients.Build(new GradientRequest { ScoreTensor = model.Structure().LogitsName, Wrt = [layer] }, input.Shape);
                double firstBuild = sw.Elapsed.TotalMilliseconds;
                ExplainResult Method(string m) => Explainer.Explain(model, items, new ExplainRequest { Methods = [m], Classes = ["auto"] });
                string[] all = ["gradcam", "saliency", "guidedbackprop"];
                var chosen = all.Where(methods.Contains).ToList();
                var times = Alternate(runs, quantile, [() => plain.Run([input]), .. chosen.Select(m => (Action)(() => Method(m)))]);
                double f = times[0];
                string Cell(string m) => chosen.IndexOf(m) is int k and >= 0 ? $"{times[k + 1]:0.0} ({times[k + 1] / f:0.00}×)" : "–";
                Console.WriteLine($"| {Path.GetFileNameWithoutExtension(name)} | {batch} | {f:0.0} | {Cell("gradcam")} | {Cell("saliency")} | {Cell("guidedbackprop")} | {program.BuildTime.TotalMilliseconds:0} / {program.ProbeTime.TotalMilliseconds:0} / {program.SessionTime.TotalMilliseconds:0} (first call {firstBuild:0}) |");
                if (breakdown) Breakdown(model, items, input, runs);
            }
        }
        if (memory)
        {
            Console.WriteLine();
            Console.WriteLine("| model | batch | peak RSS forward MB | peak RSS Grad-CAM MB | ratio |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (var name in models)
                foreach (int batch in batches)
                {
                    double fwd = ChildPeak(name, batch, "forward", threads);
                    double gc = ChildPeak(name, batch, "gradcam", threads);
                    Console.WriteLine($"| {name} | {batch} | {fwd:0} | {gc:0} | {gc / fwd:0.00}× |");
                }
        }
        return 0;
    }

    /// <summary>
    /// Where Grad-CAM's time goes, alternating in one loop: the plain forward, the forward program that
    /// Grad-CAM runs (layer and backward inputs exposed), its backward for one index seed, and the whole
    /// pipeline call (forward program + backward + CAM arithmetic + resizing to the image).
    /// </summary>
    private static void Breakdown(SalientModel model, IReadOnlyList<PreparedInput> items, InputValue input, int runs)
    {
        var plain = model.Session([]);
        var layer = model.Structure().ResolveLayer("auto").Name;
        var program = model.Gradients.Build(new GradientRequest { ScoreTensor = model.Structure().LogitsName, Wrt = [layer], SeedIndices = true }, input.Shape);
        var seed = new long[items.Count];
        ForwardPass? pass = null;
        string[] wanted = [layer, .. program.BackwardForwardInputs, model.Structure().LogitsName];
        Dictionary<string, TensorValue>? fwd = null;
        var times = Alternate(runs, 0.1,
            () => plain.Run([input]),
            () => { pass?.Dispose(); pass = program.Forward(input); },
            () => pass!.Backward(seed),
            () => fwd = model.Run(items, wanted.Distinct().ToArray()),
            () => program.RunBackward(null, fwd!, seed),
            () => model.Pack(items),
            () => Explainer.Explain(model, items, new ExplainRequest { Methods = ["gradcam"], Classes = ["auto"] }));
        pass?.Dispose();
        Console.WriteLine($"|   breakdown | forward {times[0]:0.00} ms | forward program {times[1]:0.00} ms ({times[1] / times[0]:0.00}×) | backward {times[2]:0.00} ms | model.Run(wanted) {times[3]:0.00} | backward from floats {times[4]:0.00} | pack {times[5]:0.00} | whole Grad-CAM {times[6]:0.00} ms (10th percentiles of {runs}) |");
    }

    private static string ModelPath(string name) => name switch
    {
        "mobilenetv2" => DefaultAssets.ModelPath,
        _ when name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) => File.Exists(name) ? name : throw new SalientException($"{name} not found"),
        _ => File.Exists(Path.Combine("tools", "generated", name + ".onnx")) ? Path.Combine("tools", "generated", name + ".onnx")
            : throw new SalientException($"tools/generated/{name}.onnx not found; run /usr/bin/python3 tools/make_bench_models.py {name}"),
    };

    private static string BenchImage() => DefaultAssets.ImagePath;

    /// <summary>Runs the actions in turn, <paramref name="runs"/> times after a warm-up, and returns each one's median ms.</summary>
    internal static double[] Alternate(int runs, params Action[] actions) => Alternate(runs, 0.5, actions);

    /// <summary>Like <see cref="Alternate(int, Action[])"/>, returning each one's <paramref name="quantile"/> (0: the fastest run) instead of the median.</summary>
    internal static double[] Alternate(int runs, double quantile, params Action[] actions)
    {
        foreach (var a in actions) a();
        var t = actions.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < runs; r++)
            for (int i = 0; i < actions.Length; i++)
            {
                var sw = Stopwatch.StartNew();
                actions[i]();
                t[i].Add(sw.Elapsed.TotalMilliseconds);
            }
        return t.Select(l => { l.Sort(); return l[(int)Math.Min(l.Count - 1, quantile * l.Count)]; }).ToArray();
    }

    /// <summary>Peak resident memory (VmHWM) of a child process doing one kind of run three times.</summary>
    private static double ChildPeak(string model, int batch, string kind, int threads)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!, ["gradients", "--child", model, batch.ToString(), kind, threads.ToString()])
        { RedirectStandardOutput = true, UseShellExecute = false };
        if (Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal))
            psi.ArgumentList.Insert(0, typeof(GradientBench).Assembly.Location);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return double.Parse(output.Trim().Split('\n')[^1], CultureInfo.InvariantCulture);
    }

    private static int Child(string[] a)
    {
        string name = a[0];
        int batch = int.Parse(a[1]);
        string kind = a[2];
        int threads = int.Parse(a[3]);
        using var model = SalientModel.Load(ModelPath(name), new ModelOptions { Runtime = new RuntimeOptions { IntraOpThreads = threads }, Preprocessing = Preprocessing.Imagenet });
        var items = Enumerable.Repeat(model.Prepare(ImageLoader.Load(BenchImage())), batch).ToList();
        for (int i = 0; i < 3; i++)
        {
            if (kind == "forward") model.Session([]).Run([model.Pack(items)]);
            else Explainer.Explain(model, items, new ExplainRequest { Methods = ["gradcam"], Classes = ["auto"] });
        }
        var hwm = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        double kb = double.Parse(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        Console.WriteLine((kb / 1024).ToString(CultureInfo.InvariantCulture));
        return 0;
    }
}
