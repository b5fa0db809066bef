using System.CommandLine;
using Salient.Export;

namespace Salient.Cli.Commands;

/// <summary><c>salient export</c>: the explanation compiled into one standalone ONNX model (docs/export.md).</summary>
internal static class ExportCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var model = new Argument<string?>("model") { Description = "ONNX model file (or --model; default: the built-in MobileNetV2)", Arity = ArgumentArity.ZeroOrOne };
        var method = new Option<string>("--method") { Description = $"{string.Join(" | ", ExplanationExport.Methods)} (default gradcam)", DefaultValueFactory = _ => "gradcam" };
        var layer = new Option<string>("--layer") { Description = "target layer (default: auto, the model's default layer)", DefaultValueFactory = _ => "auto" };
        var output = new Option<string?>("--out", "-o") { Description = "the ONNX file to write (default: <model>.<method>.onnx in the current folder)" };
        var batch = new Option<int>("--batch") { Description = "the exported model's batch size (default 1)", DefaultValueFactory = _ => 1 };
        var opset = new Option<int>("--opset") { Description = $"opset of the exported model, {ExplanationExport.MinOpset}..{ExplanationExport.MaxOpset} (default {ExplanationExport.MinOpset}); older models are lifted", DefaultValueFactory = _ => ExplanationExport.MinOpset };
        var dynamic = new Option<bool>("--dynamic-batch") { Description = "any batch size at run time (a Loop over the items of the batch-1 model; no batching gain)" };
        var force = new Option<bool>("--force") { Description = "replace an existing output file" };
        var cmd = new Command("export", "write ONE ONNX model that returns the logits and the explanation map (Grad-CAM family), to run without Salient");
        cmd.Arguments.Add(model);
        common.AddTo(cmd);
        foreach (var o in new Option[] { method, layer, output, batch, opset, dynamic, force }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            using var m = common.LoadModel(p, stderr, p.GetValue(model));
            string name = p.GetValue(method)!;
            string path = p.GetValue(output) ?? $"{Path.GetFileNameWithoutExtension(m.Path.Replace("builtin:", "", StringComparison.Ordinal))}.{name.Replace("+", "p", StringComparison.Ordinal)}.onnx";
            if (File.Exists(path) && !p.GetValue(force))
                throw new SalientException($"'{path}' exists; give --force to replace it or another --out");
            var bytes = ExplanationExport.ToOnnx(m, name, p.GetValue(layer)!, p.GetValue(batch), p.GetValue(opset), p.GetValue(dynamic));
            // Atomic: a temporary file beside the target, then a rename (a killed export leaves no half-written model).
            string full = Path.GetFullPath(path);
            string tmp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
            try
            {
                File.WriteAllBytes(tmp, bytes);
                File.Move(tmp, full, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                File.Delete(tmp);
                throw new SalientException($"cannot write '{path}': {e.Message}");
            }
            var (w, h) = m.InputSize;
            string n = p.GetValue(dynamic) ? "N" : p.GetValue(batch).ToString(System.Globalization.CultureInfo.InvariantCulture);
            string shape = string.Join("x", m.Input.ShapeFor(1, h, w).Skip(1).Prepend(0).Select((d, i) => i == 0 ? n : d.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            stderr.WriteLine($"wrote {path} ({bytes.Length / 1024.0 / 1024.0:0.0} MB): inputs '{m.Input.Name}' {shape} and '{ExplanationExport.ClassInput}' int64 [{n}] (−1 = top-1); outputs '{ExplanationExport.LogitsOutput}' and '{ExplanationExport.MapOutput}' [{n}, {h}, {w}]");
            stdout.Flush();
            return 0;
        });
        return cmd;
    }
}
