using System.Text.Json;
using Salient.Cli;
using Salient.Models;
using Xunit;

namespace Salient.Tests.Cli;

/// <summary>The conventions of the command line: help, version, did-you-mean, class lists, --json, output folders and names.</summary>
public class ConventionTests
{
    private static readonly string Both = TestPaths.SharedImage("both.png");

    [Theory]
    [InlineData]
    [InlineData("help")]
    [InlineData("--help")]
    public void Salient_alone_and_help_print_the_help_named_salient(params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage:", r.Out);
        Assert.Contains("  salient [command] [options]", r.Out);
        Assert.DoesNotContain("Salient.Cli", r.Out);
        Assert.Contains("explain", r.Out);
    }

    [Fact]
    public void Help_of_a_command()
    {
        var r = CliRunner.Run("help", "explain");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("salient explain", r.Out);
        Assert.Contains("--skip-existing", r.Out);
    }

    [Fact]
    public void Version_is_one_for_the_tool_and_the_library()
    {
        var r = CliRunner.Run("--version");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith(Program.Version, r.Out.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", Program.Version);
        Assert.Equal(typeof(Program).Assembly.GetName().Version, typeof(SalientModel).Assembly.GetName().Version);
        Assert.Equal("Salient.Cli", typeof(Program).Assembly.GetName().Name);
        Assert.Equal("salient", Program.CommandName);
    }

    [Theory]
    [InlineData("'explian'; did you mean 'explain'?", "explian")]
    [InlineData("'--clas' for explain; did you mean '--class'?", "explain", "BOTH", "--clas", "3")]
    [InlineData("'gradcma'; did you mean 'gradcam'?", "explain", "BOTH", "--method", "gradcma", "--out", "TMP")]
    [InlineData("'tabbby'; did you mean 'tabby' (281)?", "explain", "BOTH", "--class", "tabbby", "--out", "TMP")]
    [InlineData("'--tpo' for predict; did you mean '--top'?", "predict", "BOTH", "--tpo", "3")]
    public void Did_you_mean_is_one_line_on_stderr(string expected, params string[] args)
    {
        var r = CliRunner.Run(args.Select(a => a == "BOTH" ? Both : a == "TMP" ? CliRunner.TempDir() : a).ToArray());
        Assert.NotEqual(0, r.ExitCode);
        var line = Assert.Single(r.ErrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.Equal("", r.Out);
    }

    [Fact]
    public void TopK_gives_the_K_best_classes_and_rankK_the_Kth()
    {
        var top = CliRunner.TempDir();
        var r = CliRunner.Run("explain", Both, "--class", "top3", "--threads", "1", "--out", top);
        Assert.True(r.ExitCode == 0, r.Err);
        var classes = Manifest(top).Select(l => l.GetProperty("class").GetInt32()).ToList();
        Assert.Equal(new[] { 243, 282, 242 }, classes); // both.png: bull mastiff, tiger cat, boxer
        var rank = CliRunner.TempDir();
        r = CliRunner.Run("explain", Both, "--class", "rank2", "--threads", "1", "--out", rank);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Equal(282, Assert.Single(Manifest(rank)).GetProperty("class").GetInt32());
    }

    [Fact]
    public void Json_means_json_lines_on_stdout_with_a_schema_and_human_text_on_stderr()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("explain", Both, "--class", "auto,282", "--threads", "1", "--json", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Err);
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(1, l.GetProperty("schema").GetInt32()));
        Assert.Contains("wrote", r.Err);
        Assert.Equal(File.ReadAllLines(Path.Combine(dir, "results.jsonl")), r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json"))).RootElement;
        Assert.Equal(1, summary.GetProperty("schema").GetInt32());

        var p = CliRunner.Run("predict", Both, "--threads", "1", "--json", "--top", "2");
        Assert.True(p.ExitCode == 0, p.Err);
        var doc = JsonDocument.Parse(p.Out.Trim()).RootElement;
        Assert.Equal(1, doc.GetProperty("schema").GetInt32());
        Assert.Equal(243, doc.GetProperty("predictions")[0].GetProperty("class").GetInt32());
    }

    [Fact]
    public void Predict_on_a_folder_keeps_going_past_bad_files()
    {
        var input = CliRunner.TempDir();
        File.Copy(Both, Path.Combine(input, "a.png"));
        File.WriteAllText(Path.Combine(input, "b.png"), "not a png");
        File.Copy(TestPaths.SharedImage("dogs.png"), Path.Combine(input, "c.png"));
        var r = CliRunner.Run("predict", input, "--threads", "1", "--json");
        Assert.Equal(1, r.ExitCode);
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(new[] { "ok", "error", "ok" }, lines.Select(l => l.GetProperty("status").GetString()));
        Assert.Contains("1 of 3 images failed", r.Err);
        Assert.Contains("b.png", r.Err);

        var text = CliRunner.Run("predict", input, "--threads", "1");
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("c.png", text.Out);
    }

    [Fact]
    public void Two_inputs_with_one_name_get_two_outputs_and_names_keep_the_input_name()
    {
        var input = CliRunner.TempDir();
        Directory.CreateDirectory(Path.Combine(input, "a"));
        Directory.CreateDirectory(Path.Combine(input, "b"));
        File.Copy(Both, Path.Combine(input, "a", "1_both.png"));
        File.Copy(TestPaths.SharedImage("dogs.png"), Path.Combine(input, "b", "1_both.png"));
        var dir = CliRunner.TempDir();
        // Without --recursive the subfolders are not read.
        Assert.Contains("--recursive", CliRunner.Run("explain", input, "--out", dir).Err);
        var r = CliRunner.Run("explain", input, "--recursive", "--threads", "1", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Err);
        var panels = Manifest(dir).Select(l => l.GetProperty("files").GetProperty("panel").GetString()!).ToList();
        Assert.Equal(2, panels.Distinct().Count());
        Assert.All(panels, p => Assert.True(File.Exists(p)));
        Assert.StartsWith("1_both_cam_", Path.GetFileName(panels[0]));
        Assert.StartsWith("1_both~2_cam_", Path.GetFileName(panels[1]));
    }

    [Fact]
    public void A_rerun_into_a_used_folder_refuses_unless_force_or_skip_existing()
    {
        var input = CliRunner.TempDir();
        File.Copy(Both, Path.Combine(input, "a.png"));
        var dir = CliRunner.TempDir();
        Assert.Equal(0, CliRunner.Run("explain", input, "--threads", "1", "--out", dir).ExitCode);
        var first = Manifest(dir);

        var refused = CliRunner.Run("explain", input, "--threads", "1", "--out", dir);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--skip-existing", Assert.Single(refused.ErrLines));

        // An interrupted run resumed: the new image is done, the finished one kept, the manifest lists both.
        File.Copy(TestPaths.SharedImage("dogs.png"), Path.Combine(input, "b.png"));
        var resumed = CliRunner.Run("explain", input, "--threads", "1", "--skip-existing", "--out", dir);
        Assert.True(resumed.ExitCode == 0, resumed.Err);
        Assert.Contains("skipping 1 image", resumed.Out);
        var after = Manifest(dir);
        Assert.Equal(2, after.Count);
        Assert.Equal(first[0].GetRawText(), after[0].GetRawText());

        // --force: the earlier files are replaced; the folder holds exactly what the manifest lists.
        var forced = CliRunner.Run("explain", Path.Combine(input, "b.png"), "--threads", "1", "--force", "--out", dir);
        Assert.True(forced.ExitCode == 0, forced.Err);
        var listed = Manifest(dir).Select(l => Path.GetFileName(l.GetProperty("files").GetProperty("panel").GetString()!)).ToHashSet();
        var present = Directory.EnumerateFiles(dir).Select(Path.GetFileName).Where(f => f!.EndsWith(".png")).ToHashSet();
        Assert.Equal(listed, present!);
    }

    [Fact]
    public void Out_that_is_a_file_is_a_one_line_error_naming_it()
    {
        var file = Path.Combine(CliRunner.TempDir(), "taken");
        File.WriteAllText(file, "x");
        foreach (var args in new[] { new[] { "explain", Both, "--out", file }, ["activations", Both, "--out", file], ["visualize", "--class", "1", "--steps", "1", "--out", file] })
        {
            var r = CliRunner.Run(args);
            Assert.Equal(1, r.ExitCode);
            var line = Assert.Single(r.ErrLines);
            Assert.Contains(file, line);
            Assert.Contains("is a file", line);
        }
        var below = CliRunner.Run("explain", Both, "--out", Path.Combine(file, "sub"));
        Assert.Contains("is a file", Assert.Single(below.ErrLines));
    }

    [Fact]
    public void Without_a_model_the_built_in_one_is_used_and_without_an_image_the_message_says_how()
    {
        var r = CliRunner.Run("predict", Both, "--threads", "1", "--top", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Equal(243, JsonDocument.Parse(r.Out).RootElement.GetProperty("predictions")[0].GetProperty("class").GetInt32());
        Assert.Equal("", r.Err); // the built-in model needs no note about assumed defaults

        var none = CliRunner.Run("explain");
        Assert.Contains("no image given: salient explain IMAGE", Assert.Single(none.ErrLines));
        var missing = CliRunner.Run("predict", Both, "--model", Path.Combine(CliRunner.TempDir(), "mine.onnx"));
        Assert.Contains("give an ONNX model with --model", Assert.Single(missing.ErrLines));
    }

    [Fact]
    public void A_model_without_labels_or_preprocessing_says_once_which_defaults_were_assumed()
    {
        var model = TestPaths.Fixture("models", "mnv3s_nchw.onnx"); // no sidecar, no labels file beside it
        var r = CliRunner.Run("predict", Both, "--model", model, "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Err);
        var note = Assert.Single(r.ErrLines);
        Assert.StartsWith("note: mnv3s_nchw.onnx has no sidecar", note);
        Assert.Contains("imagenet preprocessing", note);
        Assert.Contains("no labels", note);
        Assert.Equal("", CliRunner.Run("predict", Both, "--model", model, "--threads", "1",
            "--preprocess", "raw", "--resize", "crop", "--labels", LabelsFor(10)).Err);
    }

    [Fact]
    public void Quantized_models_count_their_weights_and_gradient_errors_name_the_op()
    {
        var int8 = TestPaths.SharedModel("mobilenetv2-12-int8.onnx");
        var layers = CliRunner.Run("layers", "--model", int8, "--json", "--threads", "1");
        Assert.True(layers.ExitCode == 0, layers.Err);
        long total = JsonDocument.Parse(layers.Out).RootElement.GetProperty("total_parameters").GetInt64();
        Assert.InRange(total, 3_400_000, 3_600_000); // MobileNetV2: 3.5 M parameters (int8 weights, int32 biases)
        var r = CliRunner.Run("explain", Both, "--model", int8, "--method", "gradcam", "--threads", "1", "--out", CliRunner.TempDir());
        Assert.Equal(1, r.ExitCode);
        var line = r.ErrLines.Last();
        Assert.Contains("QLinearConv", line);
        Assert.DoesNotContain("does not depend", line);
    }

    [Fact]
    public void Output_stems_keep_the_name_and_never_collide()
    {
        var stems = Salient.Cli.Commands.OutputNames.Stems(["a/x.png", "b/x.png", "x~2.png", "c/X.jpg", "1_both.png", "we:ird?.png"]);
        Assert.Equal("x", stems["a/x.png"]);
        Assert.Equal("x~2", stems["x~2.png"]);                 // an input's own name is never taken by another
        Assert.Equal("x~3", stems["b/x.png"]);
        Assert.Equal("X~4", stems["c/X.jpg"]);                 // case-insensitive file systems
        Assert.Equal("1_both", stems["1_both.png"]);
        Assert.Equal(stems.Count, stems.Values.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void Write_errors_name_the_reason()
    {
        Assert.Equal("disk full (no space left on the device)", Salient.Cli.Commands.OutputFolder.Reason(new IOException("No space left on device", 28)));
        var e = Assert.Throws<SalientException>(() => Salient.Cli.Commands.OutputFolder.Guard("/x/y.png", () => throw new UnauthorizedAccessException("Access to the path '/x/y.png' is denied.")));
        Assert.Equal("cannot write '/x/y.png': permission denied", e.Message);
    }

    private static string LabelsFor(int n)
    {
        var p = Path.Combine(CliRunner.TempDir(), "labels.txt");
        File.WriteAllLines(p, Enumerable.Range(0, n).Select(i => $"thing {i}"));
        return p;
    }

    private static List<JsonElement> Manifest(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "results.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
}
