using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Salient.Web;

/// <summary>
/// What the endpoints share: the models, the image folder, the run gate (at most
/// <see cref="ExplorerOptions.MaxConcurrentRuns"/> model runs at once), the caches, and the guard
/// middleware that turns every failure into a JSON error.
/// </summary>
internal sealed class Explorer : IDisposable
{
    private readonly SemaphoreSlim _gate;

    public Explorer(ExplorerOptions options, ModelCatalog catalog, ImageFolder folder, TextWriter log, CancellationToken stopping)
    {
        Options = options;
        Catalog = catalog;
        Folder = folder;
        Log = log;
        Stopping = stopping;
        _gate = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentRuns));
        Visualizations = new VisualizationJobs(this);
        FolderActivations = new FolderActivations(this);
    }

    public ExplorerOptions Options { get; }
    public ModelCatalog Catalog { get; }
    public ImageFolder Folder { get; }
    public TextWriter Log { get; }
    /// <summary>Cancelled when the server stops (background work: visualizations, folder activations).</summary>
    public CancellationToken Stopping { get; }
    public VisualizationJobs Visualizations { get; }
    public FolderActivations FolderActivations { get; }

    /// <summary>Runs model work when a run slot is free; a client that goes away while waiting or running cancels it.</summary>
    public async Task<T> Run<T>(Func<T> work, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            ct.ThrowIfCancellationRequested();
            return await Task.Run(work, ct);
        }
        finally { _gate.Release(); }
    }

    /// <summary>
    /// The middleware in front of everything: requests from other sites refused (a page elsewhere must not
    /// drive a local server), security headers, and every exception as <c>{"error": "..."}</c> with a 4xx
    /// status for the client's mistakes and a one-line 500 otherwise — never a stack trace.
    /// </summary>
    public async Task Guard(HttpContext ctx, RequestDelegate next)
    {
        var h = ctx.Response.Headers;
        h.XContentTypeOptions = "nosniff";
        h["Referrer-Policy"] = "no-referrer";
        // On loopback, a request naming another host is a DNS-rebinding attempt (a site whose name now points at 127.0.0.1).
        if (Options.IsLoopback && !LoopbackName(ctx.Request.Host.Host))
        {
            await Error(ctx, 403, $"host '{ctx.Request.Host.Host}' refused: this server answers 127.0.0.1, localhost and ::1 only");
            return;
        }
        if (ctx.Request.Headers.Origin is { Count: > 0 } origin && !SameOrigin(origin.ToString(), ctx.Request))
        {
            await Error(ctx, 403, "requests from other origins are refused");
            return;
        }
        try
        {
            await next(ctx);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody to answer.
        }
        catch (Exception e)
        {
            var (status, message) = Describe(e);
            if (status >= 500) Log.WriteLine($"error: {ctx.Request.Method} {ctx.Request.Path}: {e.GetType().Name}: {OneLine(e.Message)}");
            if (ctx.Response.HasStarted) { ctx.Abort(); return; }
            await Error(ctx, status, message);
        }
    }

    internal static (int Status, string Message) Describe(Exception e) => e switch
    {
        ApiException a => (a.Status, a.Message),
        Methods.ParameterException p => (400, p.Describe(n => n)),
        SalientException s => (400, OneLine(s.Message)),
        BadHttpRequestException b => (b.StatusCode, b.StatusCode == 413 ? "the request body is larger than the server's upload limit" : OneLine(b.Message)),
        InvalidDataException d when d.Message.Contains("limit", StringComparison.OrdinalIgnoreCase) => (413, $"the form exceeds the server's limits: {OneLine(d.Message)}"),
        InvalidDataException d => (400, $"the form could not be read: {OneLine(d.Message)}"),
        IOException io when io.InnerException is BadHttpRequestException b => Describe(b),
        OperationCanceledException => (503, "the server is stopping"),
        _ => (500, $"internal error ({e.GetType().Name}): {OneLine(e.Message)}"),
    };

    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var o) && string.Equals(o.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);

    private static bool LoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip);

    internal static string OneLine(string s) => s.Split('\n')[0].Trim();

    public static async Task Error(HttpContext ctx, int status, string message)
    {
        ctx.Response.Clear();
        await Write(ctx, new Dictionary<string, object> { ["error"] = message }, status);
    }

    public static async Task Write(HttpContext ctx, object value, int status = 200)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        ctx.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, value, value.GetType(), ExplorerServer.Json, ctx.RequestAborted);
    }

    public void Dispose() => _gate.Dispose();
}
