// ORT's forward decisions for one architecture, for the routing-matched PyTorch reference
// (`make_arch_models.py --replay`). At a MaxPool near-tie or a ReLU input within rounding of 0 the
// network is not differentiable, and ORT's float32 forward and PyTorch's may decide differently;
// the replay makes PyTorch autograd follow ORT's decisions, so what remains between the two
// gradients is the backward arithmetic alone.
//
// Written to <dir>/routing/:
//   routing.json     the MaxPool / Relu / Clip nodes in graph order: name, op, file, shape (+ Clip bounds)
//   NNN_maxpool.npy  ORT's argmax Indices (MaxPool's optional 2nd output; flat over N·C·H·W,
//                    storage_order 0) as float32 — exact, because every index is < 2^24 (checked)
//   NNN_relu.npy     ORT's forward input of the Relu (or Clip) node: its sign is ORT's decision
using System.Text.Json;
using Salient.Autodiff;
using Salient.Models;
using Salient.Onnx;
using Salient.Rendering;
using Salient.Runtime;

static class RoutingDump
{
    public sealed record Entry(int Index, string Name, string Op, string File, long[] Shape, float? Lo = null, float? Hi = null);

    /// <summary>Writes the routing files of one architecture directory and prints a one-line summary.</summary>
    public static void Write(string dir, string name, int size, RuntimeOptions runtime)
    {
        using var model = SalientModel.Load(Path.Combine(dir, "model.onnx"), new ModelOptions { Size = (size, size), Runtime = runtime });
        var (x, xShape) = Npy.Read(Path.Combine(dir, "input.npy"));
        var input = new InputValue(model.Input.Name, xShape.Select(d => (long)d).ToArray(), x);

        // model.Graph is the graph Salient differentiates (after constant folding, which only drops
        // constant subgraphs; node order is kept — the python side checks it against the file order).
        var g = model.Graph.Clone();
        var decisionNodes = g.Nodes.Where(IsDecision).ToList();
        var fetch = new List<string>();
        foreach (var n in decisionNodes)
        {
            if (n.OpType == "MaxPool")
            {
                // The Indices output is optional: name it where the exporter left it out.
                if (n.Outputs.Count < 2) n.Outputs.Add(n.Outputs[0] + ":indices");
                else if (n.Outputs[1] == "") n.Outputs[1] = n.Outputs[0] + ":indices";
                fetch.Add(n.Outputs[1]);
            }
            else fetch.Add(n.Inputs[0]);   // the pre-activation
        }
        foreach (var t in fetch.Distinct())
            if (!g.IsGraphOutput(t)) g.Outputs.Add(new ValueInfo(t, DataType.Undefined, null));
        g.Invalidate();
        using var session = new GraphSession(g, runtime);
        // ORT refuses a run without outputs; efficientnet_b0 (SiLU, no pooling decisions) has none to fetch.
        var values = fetch.Count > 0 ? session.Run([input], fetch.Distinct().ToList()) : [];

        var routingDir = Path.Combine(dir, "routing");
        if (Directory.Exists(routingDir)) Directory.Delete(routingDir, recursive: true);
        Directory.CreateDirectory(routingDir);
        var entries = new List<Entry>();
        for (int k = 0; k < decisionNodes.Count; k++)
        {
            var n = decisionNodes[k];
            var v = values[fetch[k]];
            string file = $"{k:000}_{n.OpType.ToLowerInvariant()}.npy";
            if (n.OpType == "MaxPool")
            {
                if (v.Type != DataType.Int64) throw new InvalidOperationException($"{n.Describe()}: Indices came back as {v.Type}");
                // Conversion to float is monotonic and exact below 2^24, so a max below 2^24 proves every index exact.
                if (v.Data.Length > 0 && v.Data.Max() >= 1 << 24) throw new InvalidOperationException($"{n.Describe()}: indices reach {v.Data.Max()}, not exact as float32");
            }
            Npy.Write(Path.Combine(routingDir, file), v.Data, v.Shape.Select(d => (int)d).ToArray());
            float? lo = null, hi = null;
            if (n.OpType == "Clip")
            {
                lo = g.Constant(n.Input(1))?.ToFloats()[0];
                hi = g.Constant(n.Input(2))?.ToFloats()[0];
            }
            entries.Add(new Entry(k, NodeName(n), n.OpType, Path.Combine("routing", file), v.Shape, lo, hi));
        }

        var cross = CrossCheck(model, input, decisionNodes, values, fetch);
        var json = new Dictionary<string, object?>
        {
            ["name"] = name,
            ["nodes"] = entries.Select(e => new Dictionary<string, object?>
            {
                ["index"] = e.Index, ["name"] = e.Name, ["op"] = e.Op, ["file"] = e.File, ["shape"] = e.Shape, ["lo"] = e.Lo, ["hi"] = e.Hi,
            }).ToList(),
            ["salient_forward_crosscheck"] = cross,
        };
        File.WriteAllText(Path.Combine(routingDir, "routing.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"{name}: {entries.Count(e => e.Op == "MaxPool")} MaxPool, {entries.Count(e => e.Op == "Relu")} Relu, " +
                          $"{entries.Count(e => e.Op == "Clip")} Clip nodes -> {routingDir}; Salient's own forward program decides differently at " +
                          $"{cross["maxpool_index_mismatches"]} MaxPool windows and {cross["relu_mask_mismatches"]} ReLU elements");
    }

    static bool IsDecision(Node n) => n.IsDefaultDomain && n.OpType is "MaxPool" or "Relu" or "Clip";

    static string NodeName(Node n) => n.Name != "" ? n.Name : n.Outputs[0];

    /// <summary>
    /// The dump session above exposes every pre-activation, which keeps ORT from fusing Conv+Relu
    /// (and Conv+Add+Relu); the gradient engine's forward program exposes the Relu outputs instead.
    /// Fusion could change float rounding, so check that the dumped decisions are the ones Salient's
    /// own forward program takes (the program ArchCheck runs: logits, wrt input and 'target').
    /// </summary>
    static Dictionary<string, object> CrossCheck(SalientModel model, InputValue input, List<Node> nodes,
        Dictionary<string, TensorValue> dumped, List<string> fetch)
    {
        var request = new GradientRequest { ScoreTensor = "logits", Wrt = [model.Input.Name, "target"], Relu = ReluMode.Standard };
        var fg = model.Gradients.Build(request, input.Shape).ForwardGraph;
        var byFirstOutput = fg.Nodes.ToDictionary(n => n.Outputs[0]);
        var wanted = new List<string>();
        var sources = new List<string?>();   // per decision node: the forward-program tensor holding its decision
        foreach (var n in nodes)
        {
            var f = byFirstOutput[n.Outputs[0]];
            string? t = n.OpType == "MaxPool" ? (f.Outputs.Count > 1 && f.Outputs[1] != "" ? f.Outputs[1] : null) : f.Outputs[0];
            if (t is not null && !fg.IsGraphOutput(t)) t = null;   // not read by the backward program
            sources.Add(t);
            if (t is not null) wanted.Add(t);
        }
        using var session = new GraphSession(fg, model.Runtime);
        var values = wanted.Count > 0 ? session.Run([input], wanted.Distinct().ToList()) : [];
        long poolMismatch = 0, reluMismatch = 0;
        int unchecked_ = 0;
        for (int k = 0; k < nodes.Count; k++)
        {
            if (sources[k] is not { } t) { unchecked_++; continue; }
            var mine = dumped[fetch[k]].Data;
            var theirs = values[t].Data;
            if (nodes[k].OpType == "MaxPool")
            {
                for (int i = 0; i < mine.Length; i++) if (mine[i] != theirs[i]) poolMismatch++;
            }
            else
            {
                // The engine's mask is lo < y < hi on the output y; the same test on the dumped input.
                float lo = nodes[k].OpType == "Clip" ? model.Graph.Constant(nodes[k].Input(1))?.ToFloats()[0] ?? float.NegativeInfinity : 0f;
                float hi = nodes[k].OpType == "Clip" ? model.Graph.Constant(nodes[k].Input(2))?.ToFloats()[0] ?? float.PositiveInfinity : float.PositiveInfinity;
                for (int i = 0; i < mine.Length; i++)
                    if ((mine[i] > lo && mine[i] < hi) != (theirs[i] > lo && theirs[i] < hi)) reluMismatch++;
            }
        }
        return new() { ["maxpool_index_mismatches"] = poolMismatch, ["relu_mask_mismatches"] = reluMismatch, ["nodes_not_in_forward_program"] = unchecked_ };
    }
}
