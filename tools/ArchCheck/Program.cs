// Full-size gradient check, part 2: compares Salient's gradients with PyTorch autograd on the
// torchvision architectures written by tools/make_arch_models.py.
//   /usr/bin/python3 tools/make_arch_models.py
//   dotnet run -c Release --project tools/ArchCheck -- [tools/generated/arch [names...]]
// Routing-matched reference (see RoutingDump.cs): dump ORT's MaxPool/ReLU decisions, replay them
// in PyTorch autograd, then the check adds columns against grad_*_replay.npy:
//   dotnet run -c Release --project tools/ArchCheck -- --dump-routing [root [names...]]
//   /usr/bin/python3 tools/make_arch_models.py --replay [names...]
using System.Diagnostics;
using System.Text.Json;
using Salient.Autodiff;
using Salient.Models;
using Salient.Rendering;
using Salient.Runtime;

const double Tolerance = 1e-4;
bool dumpRouting = args.Contains("--dump-routing");
var positional = args.Where(a => a != "--dump-routing").ToList();
string root = positional.Count > 0 ? positional[0] : Path.Combine("tools", "generated", "arch");
var only = positional.Skip(1).ToHashSet();
if (!Directory.Exists(root))
{
    Console.Error.WriteLine($"error: {root} not found; run /usr/bin/python3 tools/make_arch_models.py first");
    return 1;
}
var dirs = Directory.GetDirectories(root).Order()
    .Where(d => File.Exists(Path.Combine(d, "meta.json")) && (only.Count == 0 || only.Contains(Path.GetFileName(d))))
    .ToList();

if (dumpRouting)
{
    foreach (var dir in dirs)
    {
        var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "meta.json"))).RootElement;
        RoutingDump.Write(dir, m.GetProperty("name").GetString()!, m.GetProperty("size").GetInt32(), new RuntimeOptions());
    }
    return 0;
}

// Replay columns only when some architecture has a replay reference, so the plain table is unchanged.
string[] replayTags = ["input_standard", "target_standard", "input_guided", "target_guided"];
bool anyReplay = dirs.Any(d => replayTags.Any(t => File.Exists(Path.Combine(d, $"grad_{t}_replay.npy"))));
Console.WriteLine($"| architecture | max rel. Δ logits | input grad (standard) | target grad (standard) | input grad (guided) | target grad (guided) |" +
    (anyReplay ? " input (standard, replay) | target (standard, replay) | input (guided, replay) | target (guided, replay) |" : "") +
    " differentiated nodes (input) | build ms | forward ms | forward+input-grad ms |");
Console.WriteLine("|---|---|---|---|---|---|" + (anyReplay ? "---|---|---|---|" : "") + "---|---|---|---|");
bool allOk = true;
var tieExplained = new List<string>();
foreach (var dir in dirs)
{
    var metaPath = Path.Combine(dir, "meta.json");
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
        var replayCells = new Dictionary<string, string>();
        bool plainOk = true, replayOk = true;
        int replayed = 0;
        double logitErr = 0;
        int nodes = 0;
        double buildMs = 0;
        foreach (var rule in new[] { ReluMode.Standard, ReluMode.Guided })
        {
            var request = new GradientRequest { ScoreTensor = "logits", Wrt = [model.Input.Name, "target"], Relu = rule };
            var sw = Stopwatch.StartNew();
            var program = model.Gradients.Build(request, input.Shape);
            if (rule == ReluMode.Standard) { buildMs = sw.Elapsed.TotalMilliseconds; nodes = program.DifferentiatedNodeCount; }
            var r = model.Gradients.Run(input, request, _ => Seeds.ClassLogit([cls], classes));
            logitErr = Math.Max(logitErr, RelErr(r.Forward["logits"].Data, refLogits));
            string tag = rule == ReluMode.Standard ? "standard" : "guided";
            foreach (var (wrt, file) in new[] { (model.Input.Name, $"grad_input_{tag}.npy"), ("target", $"grad_target_{tag}.npy") })
            {
                var (want, _) = Npy.Read(Path.Combine(dir, file));
                cells.Add(Cell(r.Gradients[wrt].Data, want, ref plainOk));
                // The routing-matched reference: PyTorch autograd taking ORT's MaxPool/ReLU decisions.
                var replayPath = Path.Combine(dir, file.Replace(".npy", "_replay.npy"));
                if (File.Exists(replayPath)) { replayCells[file] = Cell(r.Gradients[wrt].Data, Npy.Read(replayPath).Data, ref replayOk); replayed++; }
            }
        }
        // Timing: plain forward vs forward + full input gradient (medians of 5).
        var plain = model.Session([]);
        double fwd = Median(() => plain.Run([input]));
        var inReq = new GradientRequest { ScoreTensor = "logits", Wrt = [model.Input.Name] };
        double both = Median(() => model.Gradients.Run(input, inReq, _ => Seeds.ClassLogit([cls], classes)));
        // Verdict: within tolerance of plain autograd, or -- where PyTorch's own forward broke a near-tie
        // differently from ORT (replay.json counts the flips) -- of autograd taking ORT's decisions.
        bool explained = replayed == 4 && replayOk && RoutingFlips(dir) > 0;
        allOk &= logitErr <= Tolerance && replayOk && (plainOk || explained);
        if (!plainOk && explained) tieExplained.Add(name);
        string replayPart = anyReplay
            ? string.Concat(replayTags.Select(t => $" {replayCells.GetValueOrDefault($"grad_{t}.npy", "—")} |"))
            : "";
        Console.WriteLine($"| {name} | {logitErr:0.0e+0} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |{replayPart} {nodes} | {buildMs:0} | {fwd:0.0} | {both:0.0} |");
    }
    catch (Exception e)
    {
        allOk = false;
        Console.WriteLine($"| {name} | error: {e.Message.Split('\n')[0]} |");
    }
}
Console.WriteLine(allOk ? $"all within relative error {Tolerance:0e+0}" +
    (tieExplained.Count > 0 ? $" (of autograd with ORT's MaxPool/ReLU decisions for {string.Join(", ", tieExplained)}: near-tie flips in PyTorch's own forward, counted below)" : "")
    : "SOME CHECKS FAILED");
if (anyReplay) PrintRoutingFlips(dirs);
return allOk ? 0 : 1;

static string Cell(float[] got, float[] want, ref bool allOk)
{
    double e = RelErr(got, want);
    allOk &= e <= Tolerance;
    return e <= Tolerance ? $"{e:0.0e+0}" : $"{e:0.0e+0} ✗ ({WithinShare(got, want):0.00%} within)";
}

// How often PyTorch's own forward decided differently from ORT's (written by make_arch_models.py --replay).
static void PrintRoutingFlips(IEnumerable<string> dirs)
{
    Console.WriteLine();
    Console.WriteLine("| architecture | MaxPool nodes | MaxPool windows | windows with a different argmax | ReLU nodes | ReLU elements | elements with a different sign | Salient forward program vs dump (MaxPool, ReLU) |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
    foreach (var dir in dirs)
    {
        var path = Path.Combine(dir, "replay.json");
        if (!File.Exists(path)) continue;
        var j = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        string cross = "—";
        var routingPath = Path.Combine(dir, "routing", "routing.json");
        if (File.Exists(routingPath) && JsonDocument.Parse(File.ReadAllText(routingPath)).RootElement.TryGetProperty("salient_forward_crosscheck", out var c))
            cross = $"{c.GetProperty("maxpool_index_mismatches").GetInt64()}, {c.GetProperty("relu_mask_mismatches").GetInt64()}";
        Console.WriteLine($"| {j.GetProperty("name").GetString()} | {j.GetProperty("maxpool_nodes").GetInt32()} | {j.GetProperty("maxpool_windows").GetInt64()} | " +
            $"{j.GetProperty("maxpool_flips").GetInt64()} | {j.GetProperty("relu_nodes").GetInt32()} | {j.GetProperty("relu_elements").GetInt64()} | " +
            $"{j.GetProperty("relu_flips").GetInt64()} | {cross} |");
    }
}

static long RoutingFlips(string dir)
{
    var path = Path.Combine(dir, "replay.json");
    if (!File.Exists(path)) return 0;
    var j = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    return j.GetProperty("maxpool_flips").GetInt64() + j.GetProperty("relu_flips").GetInt64();
}

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
