using System.Net;
using System.Text.Json;
using Salient.Cli.Commands;
using Salient.Tests.Cli;
using Xunit;

namespace Salient.Tests.Web;

/// <summary><c>salient serve</c>: prints the address, answers, stops; bad options are one line.</summary>
[Collection("web")]
public sealed class ServeCommandTests
{
    [Fact]
    public async Task Serve_prints_the_url_answers_and_stops()
    {
        string cache = CliRunner.TempDir();
        string? url = null;
        ServeCommand.Listening = (u, stop) =>
        {
            url = u;
            using var http = new HttpClient();
            var models = JsonDocument.Parse(http.GetStringAsync(u + "api/models").GetAwaiter().GetResult()).RootElement;
            Assert.Equal("mobilenetv2-w8", models.GetProperty("models")[0].GetProperty("name").GetString());
            var page = http.GetAsync(u).GetAwaiter().GetResult();
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("Salient explorer", page.Content.ReadAsStringAsync().GetAwaiter().GetResult());
            stop.Cancel();
        };
        try
        {
            var r = await Task.Run(() => CliRunner.Run("serve", "--port", "0", "--threads", "1", "--cache", cache, "--model", TestPaths.SharedModel("mobilenetv2-w8.onnx")));
            Assert.True(r.ExitCode == 0, r.Err);
            Assert.NotNull(url);
            Assert.StartsWith("http://127.0.0.1:", url);
            Assert.Contains(url!, r.Out);
            Assert.DoesNotContain("warning", r.Err);
        }
        finally { ServeCommand.Listening = null; }
    }

    [Fact]
    public async Task Another_host_is_warned_about()
    {
        ServeCommand.Listening = (_, stop) => stop.Cancel();
        try
        {
            // 127.0.0.2 is still this machine, but not the default address: the warning is printed.
            var r = await Task.Run(() => CliRunner.Run("serve", "--port", "0", "--threads", "1", "--host", "127.0.0.2", "--cache", CliRunner.TempDir()));
            Assert.True(r.ExitCode == 0, r.Err);
            Assert.Contains("warning: --host 127.0.0.2", r.Err);
            Assert.Contains("http://127.0.0.2:", r.Out);
        }
        finally { ServeCommand.Listening = null; }
    }

    [Theory]
    [InlineData("--model", "/nonexistent/m.onnx", "does not exist")]
    [InlineData("--images", "/nonexistent/photos", "image folder '/nonexistent/photos' does not exist")]
    [InlineData("--host", "example.com", "must be an IP address")]
    [InlineData("--port", "70000", "port 70000 must be between 0 and 65535")]
    [InlineData("--max-upload", "0", "--max-upload 0 must be between 1 and 1024")]
    public void Bad_options_are_one_line(string option, string value, string message)
    {
        var r = option == "--port" ? CliRunner.Run("serve", option, value, "--threads", "1") : CliRunner.Run("serve", option, value, "--threads", "1", "--port", "0");
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.ErrLines);
        Assert.Contains(message, line);
    }
}
