using Microsoft.Playwright;

namespace Salient.Tests.Browser;

/// <summary>
/// Headless Chromium for the page tests: Debian's /usr/bin/chromium (apt package `chromium`, installed
/// by .ci/run when missing) driven by Playwright for .NET, never a downloaded browser. The camera is
/// Chromium's fake device (a generated test pattern), permission granted without a prompt.
/// </summary>
public sealed class BrowserHost : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private BrowserHost(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<BrowserHost> LaunchAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium package (`apt-get install -y chromium`; .ci/run does)");
        // Playwright's driver must not look for (or fetch) its own browsers.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args =
                [
                    "--use-fake-device-for-media-stream",
                    "--use-fake-ui-for-media-stream",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                ],
            });
            return new BrowserHost(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh page (its own context) with the camera allowed for <paramref name="origin"/>.</summary>
    public async Task<IPage> NewPageAsync(string origin)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        await context.GrantPermissionsAsync(["camera"], new BrowserContextGrantPermissionsOptions { Origin = origin.TrimEnd('/') });
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        _playwright.Dispose();
    }
}
