using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Salient.Export;
using Salient.Models;

namespace Salient.Bench;

/// <summary>
/// <c>export</c>: the model written by <c>salient export</c> (logits + map in one ORT call) vs a plain
/// forward of the same model, both as plain ORT sessions with the same options, alternating, median
/// of the runs; batch 1 and 8 (goal: Grad-CAM ≤ 1.15× the forward).
/// </summary>
internal static class ExportBench
{
    private const string Usage = "usage: Salient.Bench export [--model FILE.onnx] [--methods gradcam,layercam] [--batches 1,8] [--runs 21] [--threads 1] [--dynamic-batch]";

    public static int Run(string[] args)
    {
        string? path = null;
        var methods = new List<string> { "gradcam" };
        bool dynamic = false;
        var batches = new List<int> { 1, 8 };
        int runs = 21, threads = 1;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new SalientException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--model": path = Next(); break;
                case "--methods": methods = Next().Split(',').ToList(); break;
                case "--batches": batches = Next().Split(',').Select(int.Parse).ToList(); break;
                case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--dynamic-batch": dynamic = true; break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: throw new SalientException($"unknown option {args[i]}\n{Usage}");
            }
        }
        using var model = path is null ? SalientModel.LoadBuiltIn() : SalientModel.Load(path);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores; ORT intra-op threads {threads}, spinning off; medians of {runs}; model {model.Path}");
        Console.WriteLine($"{"method",-10} {"batch",5} {"forward ms",11} {"exported ms",12} {"ratio",6}");
        var plainBytes = File.ReadAllBytes(path ?? ExtractBuiltIn());
        var (w, h) = model.InputSize;
        foreach (int batch in batches)
        {
            var shape = model.Input.ShapeFor(batch, h, w);
            var x = new float[shape.Aggregate(1L, (a, b) => a * b)];
            var rng = new Random(1);
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            using var plain = Session(plainBytes, threads);
            foreach (var method in methods)
            {
                using var exported = Session(dynamic ? ExplanationExport.ToOnnx(model, method, "auto", dynamicBatch: true) : ExplanationExport.ToOnnx(model, method, "auto", batch), threads);
                using var image = OrtValue.CreateTensorValueFromMemory(x, shape);
                using var cls = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(-1L, batch).ToArray(), [batch]);
                string plainOut = plain.OutputNames[0];
                void Forward() { using var r = plain.Run(new RunOptions(), [model.Input.Name], [image], [plainOut]); }
                void Export() { using var r = exported.Run(new RunOptions(), [model.Input.Name, ExplanationExport.ClassInput], [image, cls], [ExplanationExport.LogitsOutput, ExplanationExport.MapOutput]); }
                Forward(); Export();   // warm-up
                var tf = new List<double>(); var te = new List<double>();
                for (int r = 0; r < runs; r++)
                {
                    tf.Add(Time(Forward));
                    te.Add(Time(Export));
                }
                double f = Median(tf), e = Median(te);
                Console.WriteLine($"{(dynamic ? method + "*" : method),-10} {batch,5} {f,11:0.00} {e,12:0.00} {e / f,6:0.00}×");
            }
        }
        if (dynamic) Console.WriteLine("* exported with --dynamic-batch (a Loop over batch-1 items)");
        return 0;
    }

    private static string ExtractBuiltIn()
    {
        string tmp = Path.Combine(Path.GetTempPath(), "salient-bench-mobilenetv2-w8.onnx");
        using var model = SalientModel.LoadBuiltIn();
        File.WriteAllBytes(tmp, Onnx.OnnxWriter.ToBytes(model.Graph));   // the folded graph the exported model starts from
        return tmp;
    }

    private static InferenceSession Session(byte[] bytes, int threads)
    {
        using var so = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return new InferenceSession(bytes, so);
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
        return s[s.Count / 2];
    }
}
