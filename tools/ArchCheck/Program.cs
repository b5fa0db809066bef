// Full-size gradient check, part 2: compares Salient's gradients with PyTorch autograd on the
// torchvision architectures written by tools/make_arch_models.py.
//   /usr/bin/python3 tools/make_arch_models.py
//   dotnet run -c Release --project tools/ArchCheck -- [tools/generated/arch]
using System.Diagnostics;
using System.Text.Json;
using Salient.Autodiff;
using Salient.Models;
using Salient.Rendering;
using Salient.Runtime;

const double Tolerance = 1e-4;
string root = args.Length > 0 ? args[0] : Path.Combine("tools", "generated", "arch");
if (!Directory.Exists(root))
{
    Console.Error.WriteLine($"error: {root} not found; run /usr/bin/python3 tools/make_arch_models.py first");
    return 1;
}

Console.WriteLine($"| architecture | max rel. Δ logits | input grad (standard) | target grad (standard) | input grad (guided) | target grad (guided) | differentiated nodes (input) | build ms | forward ms | forward+input-grad ms |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
bool allOk = true;
foreach (var dir in Directory.GetDirectories(root).Order())
{
    var metaPath = Path.Combine(dir, "meta.json");
    if (!File.Exists(metaPath)) continue;
    var meta = JsonDocument.Parse(File.ReadAllText(metaPath)).RootElement;
    string name = meta.GetProperty("name").GetString()!;
    int cls = meta.GetProperty("class").GetInt32();
    int size = meta.GetProperty("size").GetInt32();
    try
    {
        using var model = SalientModel.Load(Path.Combine(dir, "model.onnx"), new ModelOptions { Size = (size, size), Runtime = new RuntimeOptions() });
        var (x, xShape) = Npy.Read(Path.Combine(dir, "input.npy"));
        var input = new InputValue(model.Input.Name, xShape.Select(d => (long)d).ToArray(), x);
        var (refLogits, _) = Npy.Read(Path.Combine(dir, "logits.npy"));
        int classes = refLogits.Length;
        var cells = new List<string>();
        double logitErr = 0;
        int nodes = 0;
        double buildMs = 0;
        foreach (var rule in new[] { ReluRule.Standard, ReluRule.Guided })
        {
            var request = new GradientRequest { ScoreTensor = "logits", Wrt = [model.Input.Name, "target"], Relu = rule };
            var sw = Stopwatch.StartNew();
            var program = model.Gradients.Build(request, input.Shape);
            if (rule == ReluRule.Standard) { buildMs = sw.Elapsed.TotalMilliseconds; nodes = program.DifferentiatedNodeCount; }
            var r = model.Gradients.Run(input, request, _ => Seeds.ClassLogit([cls], classes));
            logitErr = Math.Max(logitErr, RelErr(r.Forward["logits"].Data, refLogits));
            string tag = rule == ReluRule.Standard ? "standard" : "guided";
            foreach (var (wrt, file) in new[] { (model.Input.Name, $"grad_input_{tag}.npy"), ("target", $"grad_target_{tag}.npy") })
            {
                var (want, _) = Npy.Read(Path.Combine(dir, file));
                double e = RelErr(r.Gradients[wrt].Data, want);
                allOk &= e <= Tolerance;
                cells.Add(e <= Tolerance ? $"{e:0.0e+0}" : $"{e:0.0e+0} ✗ ({WithinShare(r.Gradients[wrt].Data, want):0.00%} within)");
            }
        }
        // Timing: plain forward vs forward + full input gradient (medians of 5).
        var plain = model.Session([]);
        double fwd = Median(() => plain.Run([input]));
        var inReq = new GradientRequest { ScoreTensor = "logits", Wrt = [model.Input.Name] };
        double both = Median(() => model.Gradients.Run(input, inReq, _ => Seeds.ClassLogit([cls], classes)));
        allOk &= logitErr <= Tolerance;
        Console.WriteLine($"| {name} | {logitErr:0.0e+0} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | {nodes} | {buildMs:0} | {fwd:0.0} | {both:0.0} |");
    }
    catch (Exception e)
    {
        allOk = false;
        Console.WriteLine($"| {name} | error: {e.Message.Split('\n')[0]} |");
    }
}
Console.WriteLine(allOk ? $"all within relative error {Tolerance:0e+0}" : "SOME CHECKS FAILED");
return allOk ? 0 : 1;

static double RelErr(float[] got, float[] want)
{
    if (got.Length != want.Length) return double.PositiveInfinity;
    double maxRef = want.Max(v => Math.Abs((double)v)), maxDiff = 0;
    for (int i = 0; i < got.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(got[i] - (double)want[i]));
    return maxRef == 0 ? maxDiff : maxDiff / maxRef;
}

// Share of elements within Tolerance·max|ref| (a max-error miss caused by a few routing flips at near-ties still shows ~100%).
static double WithinShare(float[] got, float[] want)
{
    double maxRef = want.Max(v => Math.Abs((double)v));
    int ok = 0;
    for (int i = 0; i < got.Length; i++) if (Math.Abs(got[i] - (double)want[i]) <= Tolerance * maxRef) ok++;
    return (double)ok / got.Length;
}

static double Median(Action a)
{
    a();
    var t = new List<double>();
    for (int i = 0; i < 5; i++) { var sw = Stopwatch.StartNew(); a(); t.Add(sw.Elapsed.TotalMilliseconds); }
    t.Sort();
    return t[2];
}
