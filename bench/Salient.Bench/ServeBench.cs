using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Salient.Explain;
using Salient.Models;
using Salient.Runtime;
using Salient.Web;

namespace Salient.Bench;

/// <summary>
/// <c>serve</c>: load on the explorer's <c>POST /api/explain</c> (Grad-CAM, the shipped model) over
/// loopback: requests per second and p50/p99 latency at several concurrencies, each step bounded in
/// count (<c>--requests</c>, default 200) and time (<c>--seconds</c>, default 30), against the library's
/// own Explain on the same image in the same process (the server's overhead = HTTP, multipart, decode,
/// the overlay PNGs). Options: <c>--image FILE</c> (default shared/images/both.png), <c>--concurrency
/// 1,2,4,8</c>, <c>--format png|numbers</c>, <c>--threads N</c> (ORT intra-op threads per run, default 1).
/// </summary>
internal static class ServeBench
{
    public static int Run(string[] args)
    {
        string image = Path.Combine(Cli.DefaultAssets.FindSharedFolder() ?? ".", "images", "both.png");
        int requests = 200, seconds = 30, threads = 1;
        int[] concurrency = [1, 2, 4, 8];
        string format = "png";
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new SalientException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--image": image = Next(); break;
                case "--requests": requests = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--format": format = Next(); break;
                case "--concurrency": concurrency = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                default: throw new SalientException($"unknown option {args[i]} (--image, --requests, --seconds, --concurrency, --format, --threads)");
            }
        }
        if (requests < 1 || requests > 10_000 || seconds < 1 || seconds > 600 || concurrency.Any(c => c < 1 || c > 64))
            throw new SalientException("--requests 1–10000, --seconds 1–600, --concurrency 1–64 each");
        byte[] bytes = File.ReadAllBytes(image);
        var modelOptions = new ModelOptions { Runtime = new RuntimeOptions { IntraOpThreads = threads } };
        var options = new ExplorerOptions { ModelOptions = modelOptions, Port = 0, CacheFolder = Directory.CreateTempSubdirectory("salient-serve-bench").FullName };
        var server = ExplorerServer.StartAsync(options).GetAwaiter().GetResult();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(120) };
            using var model = SalientModel.LoadBuiltIn(modelOptions);
            var rgb = model.LoadImage(image);
            var request = new ExplainRequest { Methods = ["gradcam"] };
            // The library alone, one call at a time: its median is the floor of a request's latency.
            for (int i = 0; i < 3; i++) Explainer.Explain(model, [model.Prepare(rgb)], request);
            var library = new List<double>();
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < Math.Min(requests, 50) && clock.Elapsed.TotalSeconds < seconds; i++)
            {
                var sw = Stopwatch.StartNew();
                Explainer.Explain(model, [model.Prepare(rgb)], request);
                library.Add(sw.Elapsed.TotalMilliseconds);
            }
            double libraryMedian = Percentile(library, 0.5);
            Console.WriteLine($"{Path.GetFileName(image)} {rgb.Width}x{rgb.Height}, built-in MobileNetV2, Grad-CAM, format={format}, ORT threads per run {threads}, " +
                              $"{Environment.ProcessorCount} cores, server run slots {options.MaxConcurrentRuns}, load average {LoadAverage()}");
            Console.WriteLine($"library Explain (decode+prepare excluded), one at a time: median {libraryMedian:0.0} ms ({library.Count} runs) = {1000 / libraryMedian:0.0} /s");
            Console.WriteLine();
            Console.WriteLine("| concurrency | requests | req/s | p50 ms | p99 ms | p50 / library |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
            foreach (int c in concurrency)
            {
                // Warm-up: every connection once.
                Task.WhenAll(Enumerable.Range(0, c).Select(_ => Post(http, bytes, format))).GetAwaiter().GetResult();
                var latencies = new List<double>();
                int issued = 0;
                var deadline = Stopwatch.StartNew();
                async Task Worker()
                {
                    while (Interlocked.Increment(ref issued) <= requests && deadline.Elapsed.TotalSeconds < seconds)
                    {
                        double ms = await Post(http, bytes, format);
                        lock (latencies) latencies.Add(ms);
                    }
                }
                Task.WhenAll(Enumerable.Range(0, c).Select(_ => Task.Run(Worker))).GetAwaiter().GetResult();
                double wall = deadline.Elapsed.TotalSeconds;
                Console.WriteLine($"| {c} | {latencies.Count} | {latencies.Count / wall:0.0} | {Percentile(latencies, 0.5):0.0} | {Percentile(latencies, 0.99):0.0} | {Percentile(latencies, 0.5) / libraryMedian:0.00} |");
            }
            return 0;
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            try { Directory.Delete(options.CacheFolder, true); } catch (IOException) { }
        }
    }

    private static async Task<double> Post(HttpClient http, byte[] bytes, string format)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "image", "photo.png");
        form.Add(new StringContent("gradcam"), "method");
        form.Add(new StringContent(format), "format");
        var sw = Stopwatch.StartNew();
        using var r = await http.PostAsync("api/explain", form);
        await r.Content.ReadAsByteArrayAsync();
        double ms = sw.Elapsed.TotalMilliseconds;
        if (!r.IsSuccessStatusCode) throw new SalientException($"the server answered {(int)r.StatusCode}");
        return ms;
    }

    private static double Percentile(List<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        // Nearest rank.
        int rank = Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1);
        return sorted[rank];
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
}
