using Salient.Imaging;
using Salient.Tests.Cli;
using Xunit;

namespace Salient.Tests.Targets;

/// <summary>
/// <c>explain --target</c> on the command line: a target a model's outputs do not allow is one line
/// naming the targets they do allow; typos get the closest kind; a non-classifier model explains with
/// the right target and its files and records name the target and its score.
/// </summary>
public class TargetCliTests
{
    private static void AssertOneLineError(CliRunner.Result r, params string[] contains)
    {
        Assert.NotEqual(0, r.ExitCode);
        Assert.DoesNotContain("   at ", r.Err);
        // (a model without a sidecar also gets its "note:" line about the assumed preprocessing)
        var error = Assert.Single(r.ErrLines, l => !l.StartsWith("note: "));
        Assert.StartsWith("error: ", error);
        foreach (var c in contains) Assert.Contains(c, error);
    }

    private static string Image()
    {
        var path = Path.Combine(CliRunner.TempDir(), "tiny.png");
        var px = new float[8 * 8 * 3];
        for (int i = 0; i < px.Length; i++) px[i] = (float)(0.5 + 0.4 * Math.Sin(0.7 * i));
        Salient.Rendering.ImageWriter.SavePng(new RgbImage(8, 8, px), path);
        return path;
    }

    [Fact]
    public void A_target_the_classifier_does_not_allow_lists_the_allowed_ones()
    {
        var r = CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--target", "segmentation:281", "--out", CliRunner.TempDir(), "--threads", "1");
        AssertOneLineError(r, "target 'segmentation:281' needs a segmentation output [N, K, H, W]", "this model allows: logit:C, prob:C, sigmoid:C", "output:logits[INDEX] ([1,1000])");
    }

    [Fact]
    public void The_default_target_on_a_segmentation_model_lists_segmentation()
    {
        var model = TargetModels.Segmentation(4, 3, seed: 41);
        var r = CliRunner.Run("explain", Image(), "--model", model, "--preprocess", "raw", "--method", "gradcam", "--out", CliRunner.TempDir(), "--threads", "1");
        AssertOneLineError(r, "target 'logit' needs class scores", "segmentation:C[,MASK.png]", "output:seg[INDEX]");
    }

    [Theory]
    [InlineData("prb:3", "did you mean 'prob'?")]
    [InlineData("banana", "unknown target 'banana'")]
    [InlineData("box:0", "needs a detection output")]
    [InlineData("output:nope[0]", "names no output 'nope'")]
    [InlineData("output:logits[9]", "index '9' is out of range")]
    [InlineData("similarity:", "needs an image or a .npy file")]
    public void Bad_targets_are_one_line(string spec, string message)
    {
        var model = TargetModels.Classifier(4, 5, sigmoid: false, seed: 42);
        var r = CliRunner.Run("explain", Image(), "--model", model, "--preprocess", "raw", "--method", "gradcam", "--target", spec, "--out", CliRunner.TempDir(), "--threads", "1");
        AssertOneLineError(r, message);
    }

    [Fact]
    public void Classes_in_the_target_and_in_class_exclude_each_other()
    {
        var r = CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--target", "prob:243", "--class", "282", "--out", CliRunner.TempDir());
        AssertOneLineError(r, "give them in one place");
    }

    [Fact]
    public void Layers_stars_the_layer_explain_uses_on_a_fully_convolutional_head()
    {
        var r = CliRunner.Run("layers", "--model", TargetModels.Segmentation(4, 3, seed: 47), "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Out);
        Assert.Equal("layer", doc.RootElement.GetProperty("default_layer").GetString());   // the features, not the 1×1 classifier's score map "low"
    }

    [Fact]
    public void A_segmentation_model_explains_its_target_and_records_the_score()
    {
        var model = TargetModels.Segmentation(4, 3, seed: 43);
        var outDir = CliRunner.TempDir();
        // No --layer: the automatic layer is the features the 1×1 classifier and the upsampling start from, not the score map.
        var r = CliRunner.Run("explain", Image(), "--model", model, "--preprocess", "raw", "--method", "gradcam,occlusion",
            "--target", "segmentation:auto", "--patch", "2", "--json", "--html", "--out", outDir, "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Err);
        // The HTML page names the target and its score, not a class probability it does not have.
        var html = File.ReadAllText(Path.Combine(outDir, "report.html"));
        Assert.DoesNotContain("NaN", html);
        Assert.Contains(", segmentation ", html);
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        foreach (var line in lines)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            Assert.Equal("segmentation:auto", doc.RootElement.GetProperty("target").GetString());
            var method = doc.RootElement.GetProperty("method").GetString();
            Assert.Equal(method == "gradcam" ? "layer" : "input", doc.RootElement.GetProperty("layer").GetString());
            Assert.True(doc.RootElement.GetProperty("score").GetDouble() != 0);
            Assert.True(File.Exists(doc.RootElement.GetProperty("files").GetProperty("panel").GetString()));
        }
    }

    [Fact]
    public void Eigencam_explains_a_detection_model_without_a_target()
    {
        var model = TargetModels.Yolo(4, 3, seed: 44);
        var outDir = CliRunner.TempDir();
        var r = CliRunner.Run("explain", Image(), "--model", model, "--preprocess", "raw", "--method", "eigencam", "--json", "--out", outDir, "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Err);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single());
        Assert.Equal("layer", doc.RootElement.GetProperty("layer").GetString());
        Assert.True(doc.RootElement.GetProperty("class_agnostic").GetBoolean());
        // gradcam needs a target on this model: the error names box:I.
        var e = CliRunner.Run("explain", Image(), "--model", model, "--preprocess", "raw", "--method", "gradcam", "--out", CliRunner.TempDir(), "--threads", "1");
        AssertOneLineError(e, "box:I");
        var ok = CliRunner.Run("explain", Image(), "--model", model, "--preprocess", "raw", "--method", "gradcam", "--target", "box:auto", "--out", CliRunner.TempDir(), "--threads", "1");
        Assert.True(ok.ExitCode == 0, ok.Err);
    }

    [Fact]
    public void Predict_on_a_multilabel_model_gives_sigmoid_probabilities_and_on_a_segmentation_model_one_line()
    {
        var model = TargetModels.Classifier(4, 5, sigmoid: true, seed: 45);
        var r = CliRunner.Run("predict", Image(), "--model", model, "--preprocess", "raw", "--json", "--top", "5", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Err);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Out.Trim());
        using var m = Salient.Tests.Perturbation.TinyModels.Load(model);
        var pixels = m.LoadImage(Image());
        var outs = m.Run([m.Prepare(pixels)], "logits", "probs");
        foreach (var p in doc.RootElement.GetProperty("predictions").EnumerateArray())
        {
            int c = p.GetProperty("class").GetInt32();
            // logit: the Sigmoid's input; probability: the model's own Sigmoid output (not a softmax over the outputs)
            Assert.Equal(outs["logits"].Data[c], p.GetProperty("logit").GetDouble(), 3);
            Assert.Equal(outs["probs"].Data[c], p.GetProperty("probability").GetDouble(), 3);
        }
        var seg = CliRunner.Run("predict", Image(), "--model", TargetModels.Segmentation(4, 3, seed: 46), "--preprocess", "raw", "--threads", "1");
        AssertOneLineError(seg, "has shape [1,3,8,8], not one score per class", "--target");
    }
}
