using Salient.Models;
using Salient.Runtime;
using Salient.Tests.Cli;
using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Hardening;

/// <summary>Issue 15, items 5 and 10: options are bounded with one-line errors before anything is allocated; a huge class index is out of range.</summary>
public class OptionLimitTests
{
    private static void OneLineError(CliRunner.Result r, string contains)
    {
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.ErrLines);
        Assert.Contains(contains, r.Err);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("100000")]
    public void Threads_out_of_range_is_a_one_line_error(string threads) =>
        OneLineError(CliRunner.Run("predict", TestPaths.SharedImage("both.png"), "--threads", threads), "--threads");

    [Fact]
    public void Library_threads_out_of_range_is_refused()
    {
        var (path, _, _) = TinyModels.Linear(2, 3);
        var e = Assert.Throws<SalientException>(() => SalientModel.Load(path, new ModelOptions { Runtime = new RuntimeOptions { IntraOpThreads = -1 } }));
        Assert.Contains("`threads`", e.Message);
        Assert.Throws<SalientException>(() => SalientModel.Load(path, new ModelOptions { Runtime = new RuntimeOptions { IntraOpThreads = RuntimeOptions.MaxThreads + 1 } }));
    }

    [Theory]
    [InlineData("30000x30000")]
    [InlineData("5000x5000", "--max-pixels", "1000000")]
    [InlineData("2147483647x2147483647")]
    public void Size_over_the_pixel_limit_is_a_one_line_error(string size, params string[] more)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        OneLineError(CliRunner.Run(["predict", TestPaths.SharedImage("both.png"), "--size", size, "--model", TestPaths.Fixture("models", "mnv2_gap.onnx"), .. more]), "--size");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("99999999999999")]
    public void Max_pixels_out_of_range_is_a_one_line_error(string value) =>
        OneLineError(CliRunner.Run("predict", TestPaths.SharedImage("both.png"), "--max-pixels", value), "--max-pixels");

    [Theory]
    [InlineData("99999999999")]
    [InlineData("-99999999999")]
    [InlineData("1000")]
    public void A_huge_class_index_is_out_of_range(string cls)
    {
        var (path, _, _) = TinyModels.Linear(2, 5);
        using var m = TinyModels.Load(path);
        var e = Assert.Throws<SalientException>(() => m.ResolveClass(cls, new float[] { 1, 2 }));
        Assert.Contains("out of range", e.Message);
    }
}

/// <summary>Found by the long fuzz run: a tensor name with a line break made a two-line message.</summary>
public class OneLineMessageTests
{
    [Fact]
    public void Salient_exception_messages_are_one_line_whatever_names_they_quote()
    {
        var e = new SalientException("Softmax node '/Softmax' reads '/Div\noutput_0', which no node provides");
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("/Div output_0", e.Message);
    }
}

/// <summary>Found by the long fuzz run: a constant-foldable node with a missing input was an ArgumentOutOfRangeException (exit 3).</summary>
public class MalformedNodeTests
{
    [Fact]
    public void A_foldable_node_without_its_inputs_is_a_salient_exception()
    {
        var g = new Salient.Onnx.Graph { Name = "bad", IrVersion = 8 };
        g.Opsets[""] = 13;
        g.Inputs.Add(new Salient.Onnx.ValueInfo("input", Salient.Onnx.DataType.Float, [Salient.Onnx.Dim.Fixed(1), Salient.Onnx.Dim.Fixed(3), Salient.Onnx.Dim.Fixed(8), Salient.Onnx.Dim.Fixed(8)]));
        g.Nodes.Add(new Salient.Onnx.Node("Transpose", [], ["t"], "transpose"));
        g.Nodes.Add(new Salient.Onnx.Node("Identity", ["input"], ["out"], "id"));
        g.Outputs.Add(new Salient.Onnx.ValueInfo("out", Salient.Onnx.DataType.Float, null));
        var e = Assert.Throws<SalientException>(() => Salient.Onnx.ConstantFolder.Fold(g));
        Assert.Contains("missing", e.Message);
    }
}
