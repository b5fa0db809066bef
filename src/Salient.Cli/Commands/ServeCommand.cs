using System.CommandLine;
using System.Runtime.InteropServices;
using Salient.Models;
using Salient.Runtime;
using Salient.Web;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>salient serve</c>: the explorer (Salient.Web) on http://127.0.0.1:PORT/ until Ctrl-C. The page and
/// its JSON API are described in docs/server.md; this command only reads options and prints the address.
/// </summary>
internal static class ServeCommand
{
    /// <summary>Tests: called with the address once the server listens, and a source that stops it.</summary>
    internal static Action<string, CancellationTokenSource>? Listening;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var models = new Option<string[]>("--model", "-m") { Description = "ONNX model file or folder of models; repeat for several (default: the built-in ImageNet MobileNetV2)", AllowMultipleArgumentsPerToken = false };
        var images = new Option<string?>("--images") { Description = "folder of images to pick from and to rank for a channel's top images" };
        var port = new Option<int>("--port", "-p") { Description = "port to listen on (0: any free port)", DefaultValueFactory = _ => 8080 };
        var host = new Option<string>("--host") { Description = "address to listen on; any other than 127.0.0.1, ::1 or localhost prints a warning (no authentication, no TLS)", DefaultValueFactory = _ => "127.0.0.1" };
        var cache = new Option<string?>("--cache") { Description = "folder for cached feature visualizations and folder activations (default: $XDG_CACHE_HOME/salient, else ~/.cache/salient)" };
        var steps = new Option<int?>("--steps") { Description = "optimization steps of a feature visualization (default: the deepvis preset's)" };
        var maxUpload = new Option<int>("--max-upload") { Description = "largest accepted upload in MB", DefaultValueFactory = _ => 16 };
        var maxPixels = new Option<long>("--max-pixels") { Description = "decoded-pixel limit of an uploaded image", DefaultValueFactory = _ => 40_000_000 };
        var threads = new Option<int?>("--threads") { Description = "ONNX Runtime intra-op threads per run (default: one per core)" };
        var labels = new Option<string?>("--labels") { Description = "class labels file for the models (default: sidecar or a labels file next to each model)" };
        var cmd = new Command("serve", "the explorer in a browser: predictions, heatmaps, a layer's activations and a channel's feature visualization for uploads, a folder or the webcam (docs/server.md)");
        foreach (var o in new Option[] { models, images, port, host, cache, steps, maxUpload, maxPixels, threads, labels }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            if (p.GetValue(threads) is int t && (t < 1 || t > RuntimeOptions.MaxThreads))
                throw new SalientException($"--threads {t} must be between 1 and {RuntimeOptions.MaxThreads} (4 per core)");
            if (p.GetValue(steps) is int n && (n < 1 || n > 10_000)) throw new SalientException($"--steps {n} must be between 1 and 10000");
            int mb = p.GetValue(maxUpload);
            if (mb < 1 || mb > 1024) throw new SalientException($"--max-upload {mb} must be between 1 and 1024 (MB)");
            long px = p.GetValue(maxPixels);
            if (px < 1 || px > SalientModel.MaxPixelLimit) throw new SalientException($"--max-pixels {px} must be between 1 and {SalientModel.MaxPixelLimit}");
            string hostName = p.GetValue(host)!;
            ExplorerServer.ParseHost(hostName); // a bad address is an error before any warning
            var options = new ExplorerOptions
            {
                Models = p.GetValue(models) ?? [],
                ModelOptions = new ModelOptions
                {
                    LabelsPath = p.GetValue(labels),
                    MaxPixels = px,
                    Runtime = new RuntimeOptions { IntraOpThreads = p.GetValue(threads) ?? 0, Verbose = p.GetValue(Program.Verbose) },
                },
                ImagesFolder = p.GetValue(images),
                CacheFolder = p.GetValue(cache) ?? DefaultCache(),
                Host = hostName,
                Port = p.GetValue(port),
                MaxUploadBytes = mb * 1024L * 1024,
                MaxPixels = px,
                VisualizationSteps = p.GetValue(steps),
            };
            if (!options.IsLoopback)
                stderr.WriteLine($"warning: --host {hostName}: the explorer listens there instead of 127.0.0.1; whoever can reach that address can run the models and see the --images folder (no authentication, no TLS)");
            using var stop = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
            Console.CancelKeyPress += onCancel;
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            try
            {
                var server = StartServer(options, stderr);
                try
                {
                    stdout.WriteLine($"salient explorer: {server.Url}  ({string.Join(", ", server.Explorer.Catalog.Entries.Select(e => e.Name))}; Ctrl-C to stop)");
                    stdout.Flush();
                    Listening?.Invoke(server.Url, stop);
                    try { Task.Delay(Timeout.Infinite, stop.Token).Wait(); }
                    catch (AggregateException e) when (e.InnerException is TaskCanceledException) { }
                }
                finally { server.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
            }
            finally { Console.CancelKeyPress -= onCancel; }
            stderr.WriteLine("stopped");
            return 0;
        });
        return cmd;
    }

    private static ExplorerServer StartServer(ExplorerOptions options, TextWriter stderr)
    {
        try { return ExplorerServer.StartAsync(options, stderr).GetAwaiter().GetResult(); }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException or null && e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            throw new SalientException($"cannot listen on {options.Host}:{options.Port}: {e.Message.Split('\n')[0]} (choose another --port, or 0 for any free port)");
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new SalientException($"cannot listen on {options.Host}:{options.Port}: {e.Message} (choose another --port, or 0 for any free port)");
        }
    }

    private static string DefaultCache()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? Path.Combine(home, ".cache")
            : Path.GetTempPath();
        return Path.Combine(root, "salient");
    }
}
