using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Tests.Cli;
using Xunit;

namespace Salient.Tests.Tokens;

/// <summary>The `tokens` override, the all-zero-map warning and the CLI on the tiny ViT.</summary>
public class TokenOptionsTests
{
    private static ExplainResult GradCam(SalientModel m, string layer = "auto") =>
        Explainer.Explain(m, TokenReferenceTests.Inputs("tinyvit"), new ExplainRequest { Methods = ["gradcam"], Layers = [layer], Classes = ["3"] });

    [Fact]
    public void An_explicit_grid_reads_the_same_patch_tokens_row_by_row_into_that_grid()
    {
        using var auto = TokenReferenceTests.Load("tinyvit");
        using var forced = TestPaths.Load(TestPaths.Fixture("tokens", "tinyvit.onnx"), new ModelOptions { Preprocessing = Preprocessing.Raw, Tokens = "grid=2x8,skip=1" });
        var layer = forced.Structure().ResolveLayer("auto");
        Assert.Equal(auto.Structure().DefaultLayer, layer.Name);
        Assert.Equal((2, 8), layer.Spatial);
        Assert.Equal(1, layer.SkippedTokens);
        // Grad-CAM's channel weights are means over all patch positions, so each token's value is the
        // same whatever grid the 16 patch tokens are laid out in: the 2×8 map is the 4×4 map's 16 values.
        var a = GradCam(auto).Explanations;
        var b = GradCam(forced).Explanations;
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal((4, 4), (a[i].Height, a[i].Width));
            Assert.Equal((2, 8), (b[i].Height, b[i].Width));
            Assert.True(a[i].RawMap.Max() > 0);
            for (int p = 0; p < 16; p++) Assert.Equal(a[i].RawMap[p], b[i].RawMap[p], 1e-6f * a[i].RawMap.Max());
        }
        // A skip that fits no token count: no token layers, and a one-line error naming the option.
        using var none = TestPaths.Load(TestPaths.Fixture("tokens", "tinyvit.onnx"), new ModelOptions { Tokens = "skip=3" });
        Assert.DoesNotContain(none.Structure().Layers, l => l.IsTokenLayer);
        var e = Assert.Throws<SalientException>(() => GradCam(none, auto.Structure().DefaultLayer!));
        Assert.Contains("`tokens` option", e.Message);
    }

    [Fact]
    public void A_module_path_names_the_modules_output()
    {
        using var m = TokenReferenceTests.Load("tinyvit");
        var s = m.Structure();
        Assert.Equal("/encoder/layers/encoder_layer_0/Add_1_output_0", s.ResolveLayer("encoder_layer_0").Name);
        Assert.Equal("/encoder/layers/encoder_layer_1/ln_1/LayerNormalization_output_0", s.ResolveLayer("encoder_layer_1/ln_1").Name);
        Assert.Equal("/encoder/layers/encoder_layer_1/ln_1/LayerNormalization_output_0", s.ResolveLayer("/encoder/layers/encoder_layer_1/ln_1/").Name);
        // Not a whole path segment: an ordinary substring, ambiguous here.
        Assert.Contains("ambiguous", Assert.Throws<SalientException>(() => s.ResolveLayer("encoder_lay")).Message);
    }

    [Theory]
    [InlineData("grid=14", "grid '14'")]
    [InlineData("grid=0x4", "grid '0x4'")]
    [InlineData("skip=-1", "skip '-1'")]
    [InlineData("grd=4x4", "did you mean 'grid'")]
    public void Bad_token_options_are_one_line_errors(string text, string expected)
    {
        var e = Assert.Throws<SalientException>(() => TestPaths.Load(TestPaths.Fixture("tokens", "tinyvit.onnx"), new ModelOptions { Tokens = text }));
        Assert.Contains(expected, e.Message);
        Assert.Contains("`tokens` option", e.Message);
    }

    [Fact]
    public void A_token_layer_after_the_last_attention_gives_an_all_zero_map_with_a_warning_that_says_why()
    {
        using var m = TokenReferenceTests.Load("tinyvit");
        var s = m.Structure();
        var after = s.Layers.Last(l => l.IsTokenLayer && l.ClassTokenOnly && l.OpType == "Add" && l.Channels == 32).Name;
        foreach (var e in GradCam(m, after).Explanations)
        {
            Assert.All(e.RawMap, v => Assert.Equal(0f, v));
            Assert.Contains("after the model's last attention", e.Warning);
            Assert.Contains(s.DefaultLayer!, e.Warning);
        }
        Assert.All(GradCam(m).Explanations, e => Assert.Null(e.Warning));
    }

    [Fact]
    public void Cli_explains_a_vit_given_as_the_first_argument_with_no_layer_option_and_warns_about_a_dead_layer()
    {
        string model = TestPaths.Fixture("tokens", "tinyvit.onnx"), image = TestPaths.SharedImage("both.png");
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("explain", model, image, "--method", "gradcam,scorecam,eigencam,rollout", "--threads", "1", "--out", dir, "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.DoesNotContain("warning: the gradcam", r.Err); // (the random ViT's Score-CAM may be all zero here: a legitimate warning)
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.All(lines.Take(3), l => Assert.Contains("\"map_shape\":[4,4]", l));
        Assert.All(lines.Take(3), l => Assert.Contains("encoder_layer_1/ln_1/", l));

        var dead = CliRunner.Run("explain", model, image, "--method", "gradcam", "--layer", "encoder_layer_1/Add_1", "--threads", "1", "--out", CliRunner.TempDir());
        Assert.True(dead.ExitCode == 0, dead.Err);
        var warning = Assert.Single(dead.ErrLines, l => l.StartsWith("warning:"));
        Assert.Contains("only the class token", warning);

        var bad = CliRunner.Run("layers", "--model", model, "--tokens", "grid=4x4,skp=1");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--tokens", bad.Err);
        Assert.Contains("did you mean 'skip'", bad.Err);
    }

    [Fact]
    public void Export_of_a_token_layer_says_what_export_supports_in_one_line()
    {
        var r = Salient.Tests.Cli.CliRunner.Run("export", TestPaths.Fixture("tokens", "tinyvit.onnx"), "--method", "gradcam", "--preprocess", "raw",
            "--out", Path.Combine(Salient.Tests.Cli.CliRunner.TempDir(), "vit.onnx"));
        Assert.Equal(1, r.ExitCode);
        var error = Assert.Single(r.ErrLines, l => l.StartsWith("error:"));
        Assert.Contains("is a transformer token layer", error);
        Assert.Contains("4-D feature maps only", error);
    }
}
