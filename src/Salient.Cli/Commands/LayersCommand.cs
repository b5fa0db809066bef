using System.CommandLine;
using System.Text.Json;
using Salient.Models;
using Salient.Onnx;
using Spectre.Console;

namespace Salient.Cli.Commands;

/// <summary><c>salient layers</c>: a Keras-style summary of the model's tensors.</summary>
internal static class LayersCommand
{
    public static Command Create(TextWriter stdout)
    {
        var common = new CommonOptions();
        var candidatesOnly = new Option<bool>("--candidates") { Description = "list only candidate target layers (4-D, spatial size > 1)" };
        var json = new Option<bool>("--json") { Description = "print the table as JSON" };
        var cmd = new Command("layers", "list the model's layers (tensor, op, output shape, parameters), mark candidate and default target layers");
        common.AddTo(cmd);
        cmd.Options.Add(candidatesOnly);
        cmd.Options.Add(json);
        cmd.SetAction(p =>
        {
            using var model = common.LoadModel(p);
            var s = model.Structure();
            var rows = s.Layers.Where(l => !p.GetValue(candidatesOnly) || l.IsCandidate).ToList();
            long total = ModelStructure.TotalParameters(model.Graph);
            string defaultLayer = DefaultLayerOf(model, s);
            if (p.GetValue(json))
            {
                var doc = new
                {
                    schema = JsonSchema.Version,
                    model = model.Path,
                    input = new { name = model.Input.Name, layout = model.Input.Layout.ToString().ToUpperInvariant(), channels = model.Input.Channels, height = model.Input.Height, width = model.Input.Width, dynamic_batch = model.Input.DynamicBatch, type = model.Input.Type.ToString().ToLowerInvariant(), probed_size = new[] { model.InputSize.Width, model.InputSize.Height } },
                    output = s.OutputName, logits = s.LogitsName, ends_in_softmax = s.EndsInSoftmax, classes = s.ClassCount,
                    default_layer = defaultLayer, total_parameters = total,
                    layers = rows.Select(l => new { index = l.Index, name = l.Name, op = l.OpType, node = l.NodeName, shape = l.Shape, parameters = l.Parameters, candidate = l.IsCandidate, is_default = l.Name == defaultLayer,
                        tokens = l.Tokens is { } t ? new { grid = new[] { t.H, t.W }, skip = t.Skip } : null }),
                };
                stdout.WriteLine(JsonSerializer.Serialize(doc, FiniteJson.Indented));
                return 0;
            }
            var con = Term.For(stdout);
            con.MarkupLine($"[bold]Model[/] {Markup.Escape(model.Path)}  (opset {model.Graph.DefaultOpset}, producer '{Markup.Escape(model.Graph.ProducerName)}')");
            con.MarkupLine($"[bold]Input[/] {Markup.Escape(model.Input.Describe())}{(model.Input.DynamicSpatial ? $" — shapes below for {model.InputSize.Width}x{model.InputSize.Height}" : "")}");
            con.MarkupLine($"[bold]Output[/] {Markup.Escape(s.OutputName)} {Markup.Escape(Shapes.Format(s.Shapes[s.OutputName].Dims))}{(s.EndsInSoftmax ? $" (softmax of '{Markup.Escape(s.LogitsName)}')" : "")}, {s.ClassCount} classes");
            var table = new Table().Border(TableBorder.Simple);
            table.AddColumn("#", c => c.RightAligned());
            table.AddColumn("layer (tensor)");
            table.AddColumn("op");
            table.AddColumn("output shape");
            table.AddColumn("params", c => c.RightAligned());
            table.AddColumn("target");
            foreach (var l in rows)
            {
                string mark = l.Name == defaultLayer ? "[green]★ default[/]" : l.IsCandidate ? "•" : "";
                if (l.Tokens is { } t) mark += $" tokens {t.H}×{t.W}" + (t.Skip > 0 ? $"+{t.Skip}" : "");
                table.AddRow(l.Index.ToString(), Markup.Escape(l.Name), Markup.Escape(l.OpType), Markup.Escape(FormatShape(l.Shape, model.Input.DynamicBatch)), l.Parameters > 0 ? l.Parameters.ToString("N0") : "", mark);
            }
            con.Write(table);
            con.MarkupLine($"[bold]Total parameters[/] {total:N0} ({Term.Human(total)})    [bold]layers[/] {s.Layers.Count}, candidates (•) {s.Layers.Count(l => l.IsCandidate)}");
            con.MarkupLine($"[bold]Default target layer[/] {Markup.Escape(defaultLayer)}");
            if (s.Layers.Any(l => l.Tokens is not null))
                con.MarkupLine("Token layers (tokens H×W+S: S leading class/register tokens, then an H×W patch grid) are read as maps; --tokens grid=HxW,skip=S overrides the detection");
            return 0;
        });
        return cmd;
    }

    private static string FormatShape(long[] shape, bool dynamicBatch) =>
        dynamicBatch && shape.Length > 0 && shape[0] == 1 ? "[N" + (shape.Length > 1 ? "," + string.Join(",", shape[1..]) : "") + "]" : Shapes.Format(shape);

    /// <summary>The layer explain uses when none is named (a fully convolutional head's score map gives way to the features under it, as in explain).</summary>
    internal static string DefaultLayerOf(SalientModel model, ModelStructure s)
    {
        string name;
        try { name = s.ResolveLayer(model.DefaultLayerName).Name; }
        catch (SalientException) { return s.DefaultLayer ?? "(none)"; }
        return model.DefaultLayerName == "auto" && Methods.SegmentationTarget.FeaturesBelowHead(model, s, s.LogitsName, name) is { } features ? features : name;
    }
}
