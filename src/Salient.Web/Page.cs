using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Salient.Web;

/// <summary>The explorer page: plain HTML, JavaScript and CSS embedded in this assembly (wwwroot/), nothing from the network.</summary>
internal static class Page
{
    private static readonly (string Path, string Resource, string Type)[] Files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/index.html", "index.html", "text/html; charset=utf-8"),
        ("/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "app.css", "text/css; charset=utf-8"),
    ];

    /// <summary>Only this server's own files: no inline script, no other origin (the page's camera frames stay local).</summary>
    private const string Policy = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; " +
                                  "connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var (path, resource, type) in Files)
        {
            byte[] bytes = Read(resource);
            app.MapGet(path, async ctx =>
            {
                ctx.Response.ContentType = type;
                ctx.Response.Headers.CacheControl = "no-cache";
                ctx.Response.Headers.ContentSecurityPolicy = Policy;
                await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
            });
        }
    }

    internal static byte[] Read(string name)
    {
        using var s = typeof(Page).Assembly.GetManifestResourceStream("Salient.Web.wwwroot." + name)
            ?? throw new InvalidOperationException($"embedded page file {name} is missing");
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }
}
