using Salient.Tests.Browser;
using Salient.Tests.Cli;
using SkiaSharp;
using Xunit;

namespace Salient.Tests.Report;

/// <summary>The report in a real browser: loaded from file://, an opacity slider reached with Tab and moved with the keyboard.</summary>
public class ReportBrowserTests
{
    [Fact]
    public async Task The_opacity_slider_works_from_the_keyboard_and_the_page_is_not_blank()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run("report", TestPaths.SharedImage("both.png"), "--method", "gradcam,eigencam", "--threads", "1", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Err);
        string path = Path.Combine(dir, "report.html");

        await using var chromium = await ChromiumSession.StartAsync();
        var page = await chromium.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, req) => requests.Add(req.Url);
        await page.GotoAsync(new Uri(path).AbsoluteUri);
        Assert.Equal("en", await page.EvaluateAsync<string>("document.documentElement.lang"));
        Assert.Equal(2, await page.Locator("input[type=range]").CountAsync());
        Assert.Equal("0.5", await page.EvaluateAsync<string>("document.getElementById('heat-1').style.opacity"));

        // Tab through the page until the first slider has the focus (it must be reachable from the keyboard).
        string? focused = null;
        for (int i = 0; i < 40 && focused != "opacity-1"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            focused = await page.EvaluateAsync<string>("document.activeElement ? document.activeElement.id : ''");
        }
        Assert.Equal("opacity-1", focused);
        for (int i = 0; i < 4; i++) await page.Keyboard.PressAsync("ArrowRight");   // 50 % → 70 % in steps of 5
        Assert.Equal("0.7", await page.EvaluateAsync<string>("document.getElementById('heat-1').style.opacity"));
        Assert.Equal("70 %", await page.EvaluateAsync<string>("document.getElementById('opacity-1-value').textContent"));
        Assert.Equal("70 %", await page.GetAttributeAsync("#opacity-1", "aria-valuetext"));
        await page.Keyboard.PressAsync("Home");
        Assert.Equal("0", await page.EvaluateAsync<string>("document.getElementById('heat-1').style.opacity"));
        Assert.Equal("0.5", await page.EvaluateAsync<string>("document.getElementById('heat-2').style.opacity"));   // the other panel is untouched

        // Every image decoded (naturalWidth > 0) and nothing but the file itself and data: URIs was requested.
        Assert.True(await page.EvaluateAsync<bool>("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"));
        Assert.All(requests, u => Assert.True(u.StartsWith("file:") || u.StartsWith("data:"), u));

        // The screenshot shows the page: many distinct colors, not a blank or single-color surface.
        var png = await page.ScreenshotAsync(new() { FullPage = true });
        using var bitmap = SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        var colors = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 3)
            for (int x = 0; x < bitmap.Width; x += 3)
                colors.Add((uint)bitmap.GetPixel(x, y));
        Assert.True(colors.Count > 500, $"the screenshot has only {colors.Count} colors");

        // Printed: the controls and the navigation are hidden, the maps stay.
        await page.EmulateMediaAsync(new() { Media = Microsoft.Playwright.Media.Print });
        Assert.False(await page.Locator("#opacity-1").IsVisibleAsync());
        Assert.False(await page.Locator("nav").IsVisibleAsync());
        Assert.True(await page.Locator("#heat-1").IsVisibleAsync());
        // SALIENT_SCREENSHOTS=DIR keeps the screen and print renderings to look at.
        if (Environment.GetEnvironmentVariable("SALIENT_SCREENSHOTS") is { Length: > 0 } keep)
        {
            File.WriteAllBytes(Path.Combine(keep, "report-screen.png"), png);
            await page.ScreenshotAsync(new() { FullPage = true, Path = Path.Combine(keep, "report-print.png") });
        }
    }
}
