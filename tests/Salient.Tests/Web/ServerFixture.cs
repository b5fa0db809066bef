using System.Net.Http.Headers;
using Salient.Models;
using Salient.Web;
using Xunit;

namespace Salient.Tests.Web;

/// <summary>
/// One explorer on 127.0.0.1 (a free port) for the web and browser tests: the built-in model at one ORT
/// thread, ../shared/images as the folder, a fresh cache, small limits (2 MB uploads, 4 megapixels, 4
/// runs at once) and 3-step feature visualizations.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    internal ExplorerServer Server { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string Cache { get; } = Directory.CreateTempSubdirectory("salient-serve-test").FullName;
    /// <summary>The model the server runs, loaded separately: the reference for the server's numbers.</summary>
    public SalientModel Reference { get; } = SalientModel.LoadBuiltIn(new ModelOptions { Runtime = TestPaths.Runtime });

    public const long UploadLimit = 2 * 1024 * 1024;
    public const long PixelLimit = 4_000_000;

    internal static ExplorerOptions Options(string cache) => new()
    {
        ModelOptions = new ModelOptions { Runtime = TestPaths.Runtime },
        ImagesFolder = Path.Combine(TestPaths.Shared, "images"),
        CacheFolder = cache,
        Port = 0,
        MaxUploadBytes = UploadLimit,
        MaxPixels = PixelLimit,
        MaxConcurrentRuns = 4,
        VisualizationSteps = 3,
    };

    public async Task InitializeAsync()
    {
        Server = await ExplorerServer.StartAsync(Options(Cache));
        Http = new HttpClient { BaseAddress = new Uri(Server.Url), Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Reference.Dispose();
        try { Directory.Delete(Cache, recursive: true); } catch (IOException) { }
    }

    /// <summary>A multipart form with <paramref name="bytes"/> as the `image` file and the given fields.</summary>
    public static MultipartFormDataContent Form(byte[]? bytes, string fileName = "photo.png", string? contentType = "image/png", params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        if (bytes is not null)
        {
            var file = new ByteArrayContent(bytes);
            if (contentType is not null) file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            form.Add(file, "image", fileName);
        }
        foreach (var (n, v) in fields) form.Add(new StringContent(v), n);
        return form;
    }

    /// <summary>A PNG of a response (a data URL's payload) decoded by the library.</summary>
    internal static global::Salient.Imaging.RgbImage Decode(byte[] png) => global::Salient.Imaging.ImageLoader.Decode(png, "response");

    public static byte[] Image(string name) => File.ReadAllBytes(TestPaths.SharedImage(name));
}

[CollectionDefinition("web")]
public sealed class WebCollection : ICollectionFixture<ServerFixture>;
