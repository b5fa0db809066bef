using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Salient.Cli.Commands;

/// <summary><c>salient predict</c>: top-k classes per image.</summary>
internal static class PredictCommand
{
    public static Command Create(TextWriter stdout)
    {
        var common = new CommonOptions();
        var images = new Argument<string[]>("images") { Description = "image files or folders (default: shared/images/both.png)", Arity = ArgumentArity.ZeroOrMore };
        var top = new Option<int>("--top", "-k") { Description = "how many classes to show", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var cmd = new Command("predict", "top-k predictions (class index, label, softmax probability, logit) for images");
        cmd.Arguments.Add(images);
        common.AddTo(cmd);
        cmd.Options.Add(top);
        cmd.Options.Add(json);
        cmd.SetAction(p =>
        {
            int k = p.GetValue(top);
            if (k < 1) throw new SalientException("--top must be at least 1");
            using var model = common.LoadModel(p);
            var files = CommonOptions.ExpandImages(p.GetValue(images));
            var all = new List<object>();
            var con = Term.For(stdout);
            foreach (var file in files)
            {
                var prepared = model.Prepare(model.LoadImage(file));
                var preds = model.Predict([prepared], k)[0];
                if (p.GetValue(json))
                {
                    all.Add(new { image = file, predictions = preds.Select(q => new { @class = q.ClassIndex, label = q.Label, probability = q.Probability, logit = q.Logit }) });
                    continue;
                }
                con.MarkupLine($"[bold]{Markup.Escape(file)}[/]");
                var t = new Table().Border(TableBorder.Simple);
                t.AddColumn("rank", c => c.RightAligned()); t.AddColumn("class", c => c.RightAligned()); t.AddColumn("label"); t.AddColumn("probability", c => c.RightAligned()); t.AddColumn("logit", c => c.RightAligned());
                int rank = 1;
                foreach (var q in preds) t.AddRow((rank++).ToString(), q.ClassIndex.ToString(), Markup.Escape(q.Label), q.Probability.ToString("0.0000"), q.Logit.ToString("0.0000"));
                con.Write(t);
            }
            if (p.GetValue(json)) stdout.WriteLine(JsonSerializer.Serialize(all, FiniteJson.Indented));
            return 0;
        });
        return cmd;
    }
}
