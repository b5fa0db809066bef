using System.Diagnostics;
using System.Globalization;
using Salient.Autodiff;
using Salient.Imaging;
using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;

namespace Salient.Bench;

/// <summary>
/// <c>startup MODEL.onnx…</c>: where the time of a big model's first run goes, phase by phase, in one
/// process: reading the file (protobuf walk + weights into arrays), constant folding, the shape
/// facts (static inference and, where it cannot resolve, the ORT probe), the plain forward session
/// (ORT graph optimization + pre-packing), its first run, the Grad-CAM backward build (graph, sessions)
/// and its first run. Also the process's peak RSS (VmHWM, so far: run one model per process for its own).
/// </summary>
internal static class StartupBench
{
    public static int Run(string[] args)
    {
        int threads = 0;
        var paths = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--threads") threads = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else paths.Add(args[i]);
        }
        if (paths.Count == 0) throw new SalientException("usage: Salient.Bench startup [--threads N] MODEL.onnx…");
        var runtime = new RuntimeOptions { IntraOpThreads = threads };
        Console.WriteLine("| model | read ms | fold ms | shape facts ms | Grad-CAM build + backward session ms | forward session (layer + backward inputs exposed) ms | first forward ms | first Grad-CAM backward ms | process peak RSS so far MB |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var path in paths)
        {
            var sw = Stopwatch.StartNew();
            double Lap() { double ms = sw.Elapsed.TotalMilliseconds; sw.Restart(); return ms; }
            double read, fold;
            {
                var graph = OnnxReader.ReadFile(path);
                read = Lap();
                ConstantFolder.Fold(graph);
                fold = Lap();
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            sw.Restart();
            using var model = SalientModel.Load(path, new ModelOptions { Runtime = runtime, Preprocessing = Preprocessing.Imagenet });
            Lap();   // (a second read + fold + facts, timed apart below)
            var s = model.InputSize;
            var structure = model.Structure();
            double facts = model.Probe(model.Input.ShapeFor(1, s.Height, s.Width)).Time.TotalMilliseconds;
            var image = ImageLoader.Load(Salient.Cli.DefaultAssets.ImagePath);
            var item = model.Prepare(image);
            string layer = structure.DefaultLayer ?? throw new SalientException("no default layer");
            sw.Restart();
            var request = new GradientRequest { ScoreTensor = structure.LogitsName, Wrt = [layer], SeedIndices = true };
            var program = model.Gradients.Build(request, model.Input.ShapeFor(1, s.Height, s.Width));
            double build = Lap();
            Console.Error.WriteLine($"  {Path.GetFileName(path)}: backward graph {program.BuildTime.TotalMilliseconds:F0} ms, probe {program.ProbeTime.TotalMilliseconds:F0} ms, sessions {program.SessionTime.TotalMilliseconds:F0} ms; backward nodes {program.BackwardGraph.Nodes.Count}: {string.Join(' ', program.BackwardGraph.Nodes.Select(n => n.OpType))}");
            // What the explain pipeline does: one forward fetching the logits, the layer and what the backward reads.
            var wanted = new[] { structure.LogitsName, layer }.Concat(program.BackwardForwardInputs).Distinct().ToArray();
            var session = model.Session(wanted);
            double sessionMs = Lap();
            var forward = session.Run([model.Pack([item])], wanted);
            double first = Lap();
            var cls = Statistics.ArgMax(forward[structure.LogitsName].Data);
            if (program.CanRunBackwardFromFloats) program.RunBackward(model.Pack([item]), forward, new long[] { cls });
            else { using var pass = program.Forward(model.Pack([item])); pass.Backward(new long[] { cls }); }
            double backward = Lap();
            Console.WriteLine($"| {Path.GetFileNameWithoutExtension(path)} | {read:F0} | {fold:F0} | {facts:F0} | {build:F0} | {sessionMs:F0} | {first:F0} | {backward:F0} | {PeakMb():F0} |");
        }
        return 0;
    }

    private static double PeakMb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        return 0;
    }
}
