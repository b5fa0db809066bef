using System.Diagnostics;
using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;

namespace Salient.Bench;

/// <summary>
/// Static shape inference against a full ONNX Runtime probe on the big models (too big for the test
/// suite): every inferred shape, type and small value must equal ORT's, and how many tensors are left
/// to ORT is printed. Exit code 1 on any difference.
/// <code>/usr/bin/python3 tools/make_bench_models.py --out /tmp/bigmodels vgg16 resnet50 convnext_tiny vit_b_16
/// dotnet run -c Release --project bench/Salient.Bench -- shapes [--models /tmp/bigmodels]</code>
/// </summary>
internal static class ShapesBench
{
    public static int Run(string[] args)
    {
        string folder = args.Length > 1 && args[0] == "--models" ? args[1] : "/tmp/bigmodels";
        var models = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.onnx").Order().ToList() : [];
        if (models.Count == 0)
        {
            Console.Error.WriteLine($"no .onnx models in {folder}: make them with /usr/bin/python3 tools/make_bench_models.py --out {folder} vgg16 resnet50 convnext_tiny vit_b_16");
            return 1;
        }
        Console.WriteLine("| model | tensors inferred | left to ORT | differences | inference ms | ORT probe ms |");
        Console.WriteLine("|---|---|---|---|---|---|");
        int failures = 0;
        var runtime = new RuntimeOptions { IntraOpThreads = 1 };
        foreach (var path in models)
        {
            var graph = OnnxReader.ReadFile(path);
            ConstantFolder.Fold(graph);
            var input = InputSpec.Detect(graph);
            var shape = input.ShapeFor(input.DynamicBatch ? 1 : input.FixedBatch, input.Height ?? 224, input.Width ?? 224);
            var sw = Stopwatch.StartNew();
            var inferred = ShapeInference.Infer(graph, input.Name, input.Type, shape);
            double inferMs = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var ort = ShapeProbe.ProbeWithOrtOnly(graph, input.Name, input.Type, shape, runtime, ShapeProbe.SmallLimit);
            double ortMs = sw.Elapsed.TotalMilliseconds;
            int count = 0, differences = 0;
            foreach (var (name, t) in inferred)
            {
                if (graph.Initializers.ContainsKey(name) || name == input.Name) continue;
                count++;
                bool same = ort.Shapes.TryGetValue(name, out var o) && Shapes.Equal(o.Dims, t.Dims) && o.Type == t.Type
                    && (t.Value is not { } v || !ort.Small.TryGetValue(name, out var ov) || ov.ToDoubles().SequenceEqual(v.ToDoubles()));
                if (same) continue;
                differences++;
                Console.Error.WriteLine($"{Path.GetFileName(path)}: {name} inferred {Shapes.Format(t.Dims)} {t.Type}, ORT {(o is null ? "none" : Shapes.Format(o.Dims) + " " + o.Type)}");
            }
            int open = ort.Shapes.Keys.Count(k => !graph.Initializers.ContainsKey(k) && k != input.Name && !inferred.ContainsKey(k));
            failures += differences;
            Console.WriteLine($"| {Path.GetFileNameWithoutExtension(path)} | {count} | {open} | {differences} | {inferMs:0} | {ortMs:0} |");
        }
        return failures == 0 ? 0 : 1;
    }
}
