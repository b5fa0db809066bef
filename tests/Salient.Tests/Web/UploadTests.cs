using System.Net;
using System.Text.Json;
using Xunit;

namespace Salient.Tests.Web;

/// <summary>Bad uploads get a 4xx and one line of JSON, never a 500 or a stack trace; nothing is written to disk.</summary>
[Collection("web")]
public sealed class UploadTests(ServerFixture f)
{
    private async Task<string> Refused(HttpContent content, HttpStatusCode expected, string endpoint = "api/predict")
    {
        var r = await f.Http.PostAsync(endpoint, content);
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"{(int)r.StatusCode} {body}");
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
        Assert.DoesNotContain("\n", error);
        Assert.DoesNotContain(" at Salient", error);
        return error;
    }

    [Fact]
    public async Task Not_an_image()
    {
        var e = await Refused(ServerFixture.Form("just some text"u8.ToArray(), "notes.png"), HttpStatusCode.BadRequest);
        Assert.Contains("'notes.png' is not a readable image", e);
    }

    [Fact]
    public async Task A_truncated_image()
    {
        var bytes = ServerFixture.Image("horses.jpg");
        var e = await Refused(ServerFixture.Form(bytes[..(bytes.Length / 2)], "horses.jpg", "image/jpeg"), HttpStatusCode.BadRequest, "api/explain");
        Assert.Contains("truncated or corrupt", e);
    }

    [Fact]
    public async Task Huge_dimensions_are_refused_from_the_header_before_decoding()
    {
        // 60000 × 60000 claimed by a 60-byte PNG: a decompression bomb's header.
        var e = await Refused(ServerFixture.Form(Cli.CliRunner.PngHeaderOnly(60000, 60000), "bomb.png"), HttpStatusCode.BadRequest, "api/activations");
        Assert.Contains("pixel", e);
        // Just over the server's 4-megapixel limit.
        e = await Refused(ServerFixture.Form(Cli.CliRunner.PngHeaderOnly(2001, 2000), "big.png"), HttpStatusCode.BadRequest);
        Assert.Contains("pixel", e);
    }

    [Fact]
    public async Task Wrong_content_type()
    {
        var raw = new ByteArrayContent(ServerFixture.Image("both.png"));
        raw.Headers.ContentType = new("image/png");
        var e = await Refused(raw, HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("multipart/form-data", e);
        var json = new StringContent("{\"image\": \"both.png\"}", System.Text.Encoding.UTF8, "application/json");
        await Refused(json, HttpStatusCode.UnsupportedMediaType, "api/explain");
    }

    [Fact]
    public async Task Missing_or_empty_field()
    {
        var e = await Refused(ServerFixture.Form(null, fields: [("method", "gradcam")]), HttpStatusCode.BadRequest, "api/explain");
        Assert.Contains("no `image` file", e);
        e = await Refused(ServerFixture.Form(null, fields: [("image", "both.png")]), HttpStatusCode.BadRequest);
        Assert.Contains("file part", e);
        e = await Refused(ServerFixture.Form([], "empty.png"), HttpStatusCode.BadRequest);
        Assert.Contains("empty", e);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        var big = new byte[ServerFixture.UploadLimit + 200 * 1024];
        new Random(1).NextBytes(big);
        // With "Expect: 100-continue" (curl sends it for bodies over 1 MB) the 413 comes before the body is sent;
        // without it the server answers 413 and closes while the client may still be writing.
        var request = new HttpRequestMessage(HttpMethod.Post, "api/predict") { Content = ServerFixture.Form(big, "big.png") };
        request.Headers.ExpectContinue = true;
        var r = await f.Http.SendAsync(request);
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)r.StatusCode} {body}");
        Assert.Contains("larger than the server's upload limit", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
        // The server is fine afterwards.
        var ok = await f.Http.PostAsync("api/predict", ServerFixture.Form(ServerFixture.Image("both.png")));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Other_origins_are_refused()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/predict") { Content = ServerFixture.Form(ServerFixture.Image("both.png")) };
        request.Headers.Add("Origin", "http://evil.example");
        var r = await f.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        var same = new HttpRequestMessage(HttpMethod.Post, "api/predict") { Content = ServerFixture.Form(ServerFixture.Image("both.png")) };
        same.Headers.Add("Origin", f.Server.Url.TrimEnd('/'));
        Assert.Equal(HttpStatusCode.OK, (await f.Http.SendAsync(same)).StatusCode);
    }

    [Fact]
    public async Task Another_host_name_is_refused_on_loopback()
    {
        // DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1.
        var request = new HttpRequestMessage(HttpMethod.Get, "api/models");
        request.Headers.Host = "evil.example:" + new Uri(f.Server.Url).Port;
        var r = await f.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Contains("host 'evil.example' refused", await r.Content.ReadAsStringAsync());
        var local = new HttpRequestMessage(HttpMethod.Get, "api/models");
        local.Headers.Host = "localhost:" + new Uri(f.Server.Url).Port;
        Assert.Equal(HttpStatusCode.OK, (await f.Http.SendAsync(local)).StatusCode);
    }

    [Fact]
    public async Task Uploads_are_not_written_to_disk()
    {
        // ASP.NET Core buffers large form files in ASPNETCORE_TEMP or the temp folder as ASPNETCORE_*.tmp; the server keeps them in memory.
        string temp = Environment.GetEnvironmentVariable("ASPNETCORE_TEMP") is { Length: > 0 } t ? t : Path.GetTempPath();
        var before = Directory.GetFiles(temp, "ASPNETCORE_*").ToHashSet();
        var bytes = ServerFixture.Image("dogs.png");
        var padded = ServerFixture.Form(bytes, "dogs.png");
        Assert.True(bytes.Length > 64 * 1024, "the upload must exceed ASP.NET Core's default 64 KB memory buffer");
        var pending = f.Http.PostAsync("api/predict", padded);
        var seen = new HashSet<string>();
        while (!pending.IsCompleted)
        {
            foreach (var file in Directory.GetFiles(temp, "ASPNETCORE_*")) if (!before.Contains(file)) seen.Add(file);
            await Task.Delay(1);
        }
        Assert.Equal(HttpStatusCode.OK, (await pending).StatusCode);
        Assert.Empty(seen);
    }
}
