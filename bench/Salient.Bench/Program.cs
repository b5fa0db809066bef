namespace Salient.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/Salient.Bench -- SUITE [options]</c>. Each suite is one
/// entry of <see cref="Suites"/>: add a line there to add one.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, (string Summary, Func<string[], int> Run)> Suites = new(StringComparer.OrdinalIgnoreCase)
    {
        ["perturbation"] = ("Score-CAM, Ablation-CAM, occlusion, RISE vs. the plain batched forward passes they need", PerturbationBench.Run),
        ["deepvis"] = ("activation maximization: one optimization step vs. one forward+input-gradient pass", DeepVisBench.Run),
        ["render"] = ("one photo: the CAM itself vs decoding, the panel, PNG encoding", RenderBench.Run),
        ["startup"] = ("a big model's first run phase by phase: read, fold, shape facts, sessions, first forward and backward; peak RSS", StartupBench.Run),
        ["shapes"] = ("static shape inference vs a full ONNX Runtime probe on the big models (--models FOLDER)", ShapesBench.Run),
        ["export"] = ("the model written by `salient export` (logits + Grad-CAM map) vs. a plain forward, batch 1 and 8", ExportBench.Run),
        ["evaluation"] = ("evaluate: deletion+insertion (50 steps) and ROAD per (image, method) as a multiple of one forward", EvaluationBench.Run),
        ["serve"] = ("salient serve under load: POST /api/explain (Grad-CAM) over loopback, req/s and p50/p99 vs the library alone", ServeBench.Run),
        ["gradients"] = ("Grad-CAM, saliency, guided backprop vs. a plain forward; backward build time; peak memory", GradientBench.Run),
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Suites.TryGetValue(args[0], out var suite))
        {
            Console.Error.WriteLine("usage: Salient.Bench SUITE [options]");
            foreach (var (name, (summary, _)) in Suites) Console.Error.WriteLine($"  {name,-14} {summary}");
            return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
        }
        try { return suite.Run(args[1..]); }
        catch (SalientException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
