using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Salient.Web;

/// <summary>
/// The explorer behind `salient serve`: Kestrel on one address (127.0.0.1 by default), the page from
/// embedded resources and the JSON API of docs/server.md. Start with <see cref="StartAsync"/>; dispose
/// to stop (the models are disposed with it).
/// </summary>
internal sealed class ExplorerServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ModelCatalog _catalog;
    private readonly Explorer _explorer;

    private ExplorerServer(WebApplication app, ModelCatalog catalog, Explorer explorer, string url)
    {
        _app = app;
        _catalog = catalog;
        _explorer = explorer;
        Url = url;
    }

    /// <summary>The address to open, e.g. http://127.0.0.1:8080/.</summary>
    public string Url { get; }

    /// <summary>The models, the folder and the caches the endpoints use.</summary>
    internal Explorer Explorer => _explorer;

    /// <summary>Loads the models, binds, and starts listening; <paramref name="log"/> gets server-side errors (one line each).</summary>
    public static async Task<ExplorerServer> StartAsync(ExplorerOptions options, TextWriter? log = null, CancellationToken ct = default)
    {
        if (options.Port is < 0 or > 65535) throw new SalientException($"port {options.Port} must be between 0 and 65535");
        if (options.MaxUploadBytes < 1024) throw new SalientException("the upload limit must be at least 1 KB");
        var address = ParseHost(options.Host);
        var folder = new ImageFolder(options.ImagesFolder, options.MaxFolderImages);
        var catalog = new ModelCatalog(options.Models, options.ModelOptions);
        try
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.Listen(address, options.Port);
                k.AddServerHeader = false;
                // The form of a maximal upload plus its multipart framing and a few small fields.
                k.Limits.MaxRequestBodySize = options.MaxUploadBytes + 64 * 1024;
            });
            builder.Services.Configure<FormOptions>(f =>
            {
                f.MultipartBodyLengthLimit = options.MaxUploadBytes + 64 * 1024;
                // Kept in memory up to the body limit: an upload is never written to disk.
                f.MemoryBufferThreshold = (int)Math.Min(int.MaxValue, options.MaxUploadBytes + 64 * 1024);
                f.ValueCountLimit = 64;
                f.ValueLengthLimit = 64 * 1024;
            });
            var app = builder.Build();
            var explorer = new Explorer(options, catalog, folder, log ?? TextWriter.Null, app.Lifetime.ApplicationStopping);
            app.Use(explorer.Guard);
            Api.Map(app, explorer);
            Page.Map(app);
            await app.StartAsync(ct);
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var port = new Uri(bound).Port;
            string host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            return new ExplorerServer(app, catalog, explorer, $"http://{host}:{port}/");
        }
        catch
        {
            catalog.Dispose();
            throw;
        }
    }

    /// <summary>An IP address (localhost = 127.0.0.1; 0.0.0.0 or :: for every interface).</summary>
    internal static IPAddress ParseHost(string host)
    {
        if (string.IsNullOrWhiteSpace(host) || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return IPAddress.Loopback;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var ip)) return ip;
        throw new SalientException($"host '{host}' must be an IP address such as 127.0.0.1 (the default), ::1 or 0.0.0.0");
    }

    /// <summary>Blocks until the server stops (Ctrl-C in the CLI calls <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        try { await _app.StopAsync(); } catch (ObjectDisposedException) { }
        await _app.DisposeAsync();
        _explorer.Dispose();
        _catalog.Dispose();
    }

    /// <summary>JSON of every response: camelCase names as written in the handlers, NaN/∞ as strings rather than an error.</summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // application/json only (never embedded in HTML): quotes and backticks stay readable in error messages.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
