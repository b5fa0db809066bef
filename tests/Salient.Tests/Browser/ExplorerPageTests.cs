using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Salient.Tests.Web;
using Xunit;

namespace Salient.Tests.Browser;

/// <summary>
/// The explorer in a real browser: load it, pick an image, a layer and a channel, switch method and
/// class, and check what the page shows (DOM state, and screenshots that are not blank); the webcam
/// path with Chromium's fake camera. Screenshots go to $SALIENT_SCREENSHOTS when set (to look at them).
/// </summary>
[Collection("web")]
public sealed class ExplorerPageTests(ServerFixture f) : IAsyncLifetime
{
    private BrowserHost _host = null!;

    public async Task InitializeAsync() => _host = await BrowserHost.LaunchAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static readonly LocatorAssertionsToHaveAttributeOptions Slow = new() { Timeout = 60_000 };

    [Fact]
    public async Task Pick_an_image_a_layer_a_channel_then_switch_method_and_class()
    {
        var page = await _host.NewPageAsync(f.Server.Url);
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(f.Server.Url);
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "ready", Slow);
        Assert.Contains("features.18", await page.Locator("#layers tbody").InnerTextAsync());

        // An image from the server's folder: top-5 and the Grad-CAM overlay for the top class.
        await page.SelectOptionAsync("#folder-image", "both.png");
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-class", "243", Slow);
        await Assertions.Expect(page.Locator("#predictions li")).ToHaveCountAsync(5);
        await Assertions.Expect(page.Locator("#predictions li").First).ToContainTextAsync("bull mastiff");
        Assert.Equal("gradcam", await page.Locator("#overlay").GetAttributeAsync("data-method"));
        await Assertions.Expect(page.Locator("#overlay-caption")).ToContainTextAsync("gradcam on features.18 for 243 bull mastiff");

        // A layer: its activation grid, the eight most active channels listed.
        await page.Locator("#layers tr[data-layer='features.18']").ClickAsync();
        await Assertions.Expect(page.Locator("#grid")).ToHaveAttributeAsync("data-channels", "1280", Slow);
        await Assertions.Expect(page.Locator("#top-channels button")).ToHaveCountAsync(8);
        var acts = global::Salient.Visualization.Activations.Compute(f.Reference, f.Reference.LoadImage(TestPaths.SharedImage("both.png")), "features.18");
        Assert.Equal(acts.TopChannels(1)[0].ToString(), await page.Locator("#top-channels button").First.GetAttributeAsync("data-channel"));

        // A channel, clicked on the grid: tile 5 of 36 per row.
        var box = (await page.Locator("#grid").BoundingBoxAsync())!;
        var size = await page.EvaluateAsync<int[]>("() => [document.getElementById('grid').width, document.getElementById('grid').height]");
        double tile = size[0] / 36.0 * box.Width / size[0];
        await page.Mouse.ClickAsync((float)(box.X + 5.5 * tile), (float)(box.Y + 0.5 * tile));
        await Assertions.Expect(page.Locator("#channel-panel")).ToHaveAttributeAsync("data-channel", "5", Slow);
        await Assertions.Expect(page.Locator("#channel-overlay")).ToHaveAttributeAsync("data-channel", "5", Slow);
        await Assertions.Expect(page.Locator("#vis-status")).ToHaveAttributeAsync("data-status", "done", Slow);
        await Assertions.Expect(page.Locator("#channel-vis")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#top-images figure")).ToHaveCountAsync(4, new() { Timeout = 60_000 });

        // Method and class.
        await page.SelectOptionAsync("#method", "cam");
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-method", "cam", Slow);
        await page.Locator("#predictions li[data-class='282']").ClickAsync();
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-class", "282", Slow);
        Assert.Equal("282", await page.Locator("#class").InputValueAsync());
        await Assertions.Expect(page.Locator("#overlay-caption")).ToContainTextAsync("cam on features.18 for 282 tiger cat");
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "ready", Slow);

        var shot = await Screenshot(page, "explorer.png");
        AssertNotBlank(shot, "the whole page");
        AssertNotBlank(await page.Locator("#overlay").ScreenshotAsync(), "the overlay");
        AssertNotBlank(await page.Locator("#grid").ScreenshotAsync(), "the activation grid");
        AssertNotBlank(await page.Locator("#channel-vis").ScreenshotAsync(), "the feature visualization");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Webcam_frames_are_explained_one_request_at_a_time()
    {
        var page = await _host.NewPageAsync(f.Server.Url);
        int inFlight = 0, most = 0, explains = 0;
        page.Request += (_, r) => { if (r.Url.Contains("/api/explain")) { most = Math.Max(most, Interlocked.Increment(ref inFlight)); Interlocked.Increment(ref explains); } };
        page.RequestFinished += (_, r) => { if (r.Url.Contains("/api/explain")) Interlocked.Decrement(ref inFlight); };
        page.RequestFailed += (_, r) => { if (r.Url.Contains("/api/explain")) Interlocked.Decrement(ref inFlight); };
        await page.GotoAsync(f.Server.Url);
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "ready", Slow);
        await page.Locator("#layers tr[data-layer='features.18']").ClickAsync();
        await page.Locator("#webcam").ClickAsync();
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-webcam", "on", Slow);
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-frames", new Regex("^([4-9]|[1-9][0-9]+)$"), Slow);
        await Assertions.Expect(page.Locator("#video")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#predictions li")).ToHaveCountAsync(5);
        await Assertions.Expect(page.Locator("#grid")).ToHaveAttributeAsync("data-channels", "1280", Slow);
        AssertNotBlank(await Screenshot(page, "explorer-webcam.png"), "the page with the camera");
        await page.Locator("#webcam").ClickAsync();
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-webcam", "off", Slow);
        Assert.True(explains >= 4, $"{explains} frames explained");
        Assert.Equal(1, most);
    }

    [Fact]
    public async Task An_upload_and_a_link_that_opens_a_view()
    {
        var page = await _host.NewPageAsync(f.Server.Url);
        await page.GotoAsync(f.Server.Url);
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "ready", Slow);
        await page.SetInputFilesAsync("#file", TestPaths.SharedImage("puppies.jpg"));
        var expected = f.Reference.Predict(f.Reference.LoadImage(TestPaths.SharedImage("puppies.jpg")), 1)[0];
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-class", expected.ClassIndex.ToString(), Slow);
        await Assertions.Expect(page.Locator("#crop")).ToBeVisibleAsync(); // 1600×1200 cropped to its centre: outlined
        AssertNotBlank(await page.Locator("#overlay").ScreenshotAsync(), "the upload's overlay");

        await page.GotoAsync(f.Server.Url + "?image=dogs.png&layer=features.16&channel=3&method=cam");
        await Assertions.Expect(page.Locator("#channel-panel")).ToHaveAttributeAsync("data-channel", "3", Slow);
        await Assertions.Expect(page.Locator("#grid")).ToHaveAttributeAsync("data-layer", "features.16", Slow);
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-method", "cam", Slow);
        await Assertions.Expect(page.Locator("#layers tr.selected")).ToHaveAttributeAsync("data-layer", "features.16");
    }

    private static async Task<byte[]> Screenshot(IPage page, string name)
    {
        var png = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        if (Environment.GetEnvironmentVariable("SALIENT_SCREENSHOTS") is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            await File.WriteAllBytesAsync(Path.Combine(dir, name), png);
        }
        return png;
    }

    /// <summary>Not blank: many distinct colors and a real spread of brightness.</summary>
    private static void AssertNotBlank(byte[] png, string what)
    {
        var image = ServerFixture.Decode(png);
        var colors = new HashSet<int>();
        double sum = 0, sum2 = 0;
        long n = image.PixelCount;
        for (long i = 0; i < n; i++)
        {
            float r = image.Data[3 * i], g = image.Data[3 * i + 1], b = image.Data[3 * i + 2];
            colors.Add(((int)r << 16) | ((int)g << 8) | (int)b);
            double y = 0.299 * r + 0.587 * g + 0.114 * b;
            sum += y; sum2 += y * y;
        }
        double sd = Math.Sqrt(Math.Max(0, sum2 / n - sum / n * (sum / n)));
        Assert.True(colors.Count > 50 && sd > 10, $"{what} looks blank: {colors.Count} colors, brightness sd {sd:0.0}");
    }
}
