using Xunit;

namespace Salient.Tests.Cli;

/// <summary>Method parameters on the command line (--param NAME=VALUE): the CLI side of the typed parameters.</summary>
public class ParameterCliTests
{
    [Fact]
    public void Unknown_parameter_exits_non_zero_with_one_line_on_the_cli()
    {
        var r = CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--method", "smoothgrad", "--param", "sampels=2", "--out", CliRunner.TempDir());
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(["error: unknown parameter 'sampels' for smoothgrad; did you mean 'samples'?"], r.ErrLines);
    }

    [Fact]
    public void Eigen_smooth_via_param_on_the_cli_changes_the_raw_map()
    {
        string a = CliRunner.TempDir(), b = CliRunner.TempDir();
        Assert.Equal(0, CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--method", "gradcam", "--raw", "--threads", "1", "--out", a).ExitCode);
        var r = CliRunner.Run("explain", TestPaths.SharedImage("both.png"), "--method", "gradcam", "--param", "eigen-smooth=on", "--raw", "--threads", "1", "--out", b);
        Assert.True(r.ExitCode == 0, r.Err);
        var (plain, _) = Salient.Rendering.Npy.Read(Directory.GetFiles(a, "*_raw.npy").Single());
        var (eigen, _) = Salient.Rendering.Npy.Read(Directory.GetFiles(b, "*_raw.npy").Single());
        Assert.NotEqual(plain, eigen);
    }
}
