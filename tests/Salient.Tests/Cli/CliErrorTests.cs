using Xunit;

namespace Salient.Tests.Cli;

/// <summary>Bad input: one line on stderr, a non-zero exit code, never a stack trace.</summary>
public class CliErrorTests
{
    private static void AssertOneLineError(CliRunner.Result r, string contains)
    {
        Assert.NotEqual(0, r.ExitCode);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.DoesNotContain("Exception", r.Err);
        Assert.Single(r.ErrLines);
        Assert.StartsWith("error: ", r.ErrLines[0]);
        Assert.Contains(contains, r.Err, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Missing_image() =>
        AssertOneLineError(CliRunner.Run("predict", Path.Combine(CliRunner.TempDir(), "nope.png")), "not found");

    [Fact]
    public void Text_file_named_png()
    {
        var p = Path.Combine(CliRunner.TempDir(), "notes.png");
        File.WriteAllText(p, "this is not an image\n");
        AssertOneLineError(CliRunner.Run("explain", p, "--out", CliRunner.TempDir()), "not a readable image");
    }

    [Fact]
    public void Truncated_jpeg()
    {
        var bytes = File.ReadAllBytes(TestPaths.SharedImage("horses.jpg"));
        var p = Path.Combine(CliRunner.TempDir(), "cut.jpg");
        File.WriteAllBytes(p, bytes[..(bytes.Length / 2)]);
        AssertOneLineError(CliRunner.Run("predict", p), "truncated");
    }

    [Fact]
    public void Huge_png_header_is_refused_before_decoding()
    {
        var p = Path.Combine(CliRunner.TempDir(), "bomb.png");
        File.WriteAllBytes(p, CliRunner.PngHeaderOnly(30000, 30000));
        var before = GC.GetTotalAllocatedBytes();
        var r = CliRunner.Run("predict", p);
        AssertOneLineError(r, "megapixel");
        Assert.True(GC.GetTotalAllocatedBytes() - before < 500_000_000, "the guard must refuse before allocating the pixels");
    }

    [Fact]
    public void Truncated_onnx()
    {
        var bytes = File.ReadAllBytes(TestPaths.SharedModel("mnist-8.onnx"));
        var p = Path.Combine(CliRunner.TempDir(), "half.onnx");
        File.WriteAllBytes(p, bytes[..(bytes.Length / 2)]);
        AssertOneLineError(CliRunner.Run("layers", "--model", p), "half.onnx");
    }

    [Fact]
    public void Random_bytes_onnx()
    {
        var p = Path.Combine(CliRunner.TempDir(), "random.onnx");
        var b = new byte[4096];
        new Random(7).NextBytes(b);
        File.WriteAllBytes(p, b);
        AssertOneLineError(CliRunner.Run("predict", TestPaths.SharedImage("both.png"), "--model", p), "not a valid ONNX model");
    }

    [Fact]
    public void Unknown_layer_suggests_close_names() =>
        AssertOneLineError(CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--layer", "featres.18", "--out", CliRunner.TempDir()), "features.18");

    [Fact]
    public void Class_index_out_of_range() =>
        AssertOneLineError(CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--class", "1000", "--out", CliRunner.TempDir()), "out of range");

    [Fact]
    public void Unknown_method() =>
        AssertOneLineError(CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--method", "gradcma", "--out", CliRunner.TempDir()), "unknown method");

    [Fact]
    public void Bad_option_values()
    {
        AssertOneLineError(CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--colormap", "rainbowz", "--out", CliRunner.TempDir()), "colormap");
        AssertOneLineError(CliRunner.Run("predict", TestPaths.SharedImage("both.png"), "--preprocess", "imagenett"), "imagenet");
        AssertOneLineError(CliRunner.Run("predict", TestPaths.SharedImage("both.png"), "--size", "12by4"), "--size");
    }

    [Fact]
    public void Unknown_option_is_a_usage_error()
    {
        AssertOneLineError(CliRunner.Run("predict", TestPaths.SharedImage("both.png"), "--frobnicate"), "unknown option");
        var r = CliRunner.Run("predict", TestPaths.SharedImage("both.png"), "--top", "abc");
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain("   at ", r.Err);
    }
}
