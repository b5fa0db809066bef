using Microsoft.Playwright;

namespace Salient.Tests.Browser;

/// <summary>
/// Headless Chromium for the real-browser tests: Debian's <c>/usr/bin/chromium</c> (installed by
/// <c>.ci/run</c> when missing) driven by Playwright for .NET through the driver inside its NuGet
/// package — nothing is downloaded (no <c>playwright install</c>). One session per test; dispose it.
/// </summary>
public sealed class ChromiumSession : IAsyncDisposable
{
    /// <summary>The browser binary (override with SALIENT_CHROMIUM).</summary>
    public static string Executable => Environment.GetEnvironmentVariable("SALIENT_CHROMIUM") is { Length: > 0 } p ? p : "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    public IBrowser Browser { get; }

    private ChromiumSession(IPlaywright playwright, IBrowser browser) { _playwright = playwright; Browser = browser; }

    public static async Task<ChromiumSession> StartAsync(params string[] extraArgs)
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: install Debian's chromium (`apt-get install -y chromium`; .ci/run does it)");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Executable,
                Headless = true,
                // Containers run tests as root, where Chromium's sandbox cannot start.
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", .. extraArgs],
                Timeout = 60_000,
            });
            return new ChromiumSession(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh page (own context) of the given viewport size.</summary>
    public async Task<IPage> NewPageAsync(int width = 1200, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
