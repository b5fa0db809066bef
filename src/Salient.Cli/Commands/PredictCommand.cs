using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>salient predict</c>: top-k classes per image. Keeps going past bad files (listed at the end,
/// exit code 1); Ctrl-C stops after the current image (exit code 130). With <c>--json</c> stdout is
/// JSON Lines, one object per image (<c>docs/json.md</c>), and every human line goes to stderr.
/// </summary>
internal static class PredictCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var images = new Argument<string[]>("images") { Description = "image files or folders", Arity = ArgumentArity.ZeroOrMore };
        var top = new Option<int>("--top", "-k") { Description = "how many classes to show", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "JSON Lines on stdout (one object per image, schema in docs/json.md); human text on stderr" };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "also read images in subfolders of folder arguments" };
        var cmd = new Command("predict", "top-k predictions (class index, label, softmax probability, logit) for images");
        cmd.Arguments.Add(images);
        common.AddTo(cmd);
        cmd.Options.Add(top);
        cmd.Options.Add(json);
        cmd.Options.Add(recursive);
        cmd.SetAction(p =>
        {
            int k = p.GetValue(top);
            if (k < 1) throw new SalientException("--top must be at least 1");
            bool asJson = p.GetValue(json);
            var files = CommonOptions.ExpandImages(p.GetValue(images), "predict", p.GetValue(recursive));
            using var model = common.LoadModel(p, stderr);
            var con = Term.For(stdout);
            var failures = new List<(string File, string Error)>();
            using var ctrlC = new CtrlC();
            int done = 0;
            foreach (var file in files)
            {
                if (ctrlC.Token.IsCancellationRequested) break;
                IReadOnlyList<Models.Prediction> preds;
                try { preds = model.Predict([model.Prepare(model.LoadImage(file))], k)[0]; }
                catch (SalientException e) when (files.Count > 1)
                {
                    string message = Program.CliWording(e.Message);
                    failures.Add((file, message));
                    if (asJson) stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?> { ["schema"] = JsonSchema.Version, ["image"] = file, ["status"] = "error", ["error"] = message }, FiniteJson.Compact));
                    else stderr.WriteLine($"error: {file}: {message}");
                    continue;
                }
                done++;
                if (asJson)
                {
                    stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                    {
                        ["schema"] = JsonSchema.Version,
                        ["image"] = file,
                        ["status"] = "ok",
                        ["predictions"] = preds.Select(q => new { @class = q.ClassIndex, label = q.Label, probability = q.Probability, logit = q.Logit }),
                    }, FiniteJson.Compact));
                    continue;
                }
                con.MarkupLine($"[bold]{Markup.Escape(file)}[/]");
                var t = new Table().Border(TableBorder.Simple);
                t.AddColumn("rank", c => c.RightAligned()); t.AddColumn("class", c => c.RightAligned()); t.AddColumn("label"); t.AddColumn("probability", c => c.RightAligned()); t.AddColumn("logit", c => c.RightAligned());
                int rank = 1;
                foreach (var q in preds) t.AddRow((rank++).ToString(), q.ClassIndex.ToString(), Markup.Escape(q.Label), q.Probability.ToString("0.0000"), q.Logit.ToString("0.0000"));
                con.Write(t);
            }
            if (failures.Count > 0)
            {
                stderr.WriteLine($"{failures.Count} of {files.Count} images failed:");
                foreach (var (f, e) in failures) stderr.WriteLine($"  {f}: {e}");
            }
            if (ctrlC.Token.IsCancellationRequested)
            {
                stderr.WriteLine($"interrupted: {done} of {files.Count} images done");
                return CtrlC.ExitCode;
            }
            return failures.Count > 0 ? 1 : 0;
        });
        return cmd;
    }
}
