using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Salient.Explain;
using Salient.Web;
using Xunit;

namespace Salient.Tests.Web;

/// <summary>One model shared by concurrent requests; loopback only; cancellation.</summary>
[Collection("web")]
public sealed class ConcurrencyTests(ServerFixture f)
{
    [Fact]
    public async Task Thirty_two_concurrent_explains_are_all_the_librarys_maps()
    {
        // Four photos × two methods × four classes: 32 requests at once (the server runs 4 at a time).
        string[] photos = ["both.png", "dogs.png", "horses.jpg", "puppies.jpg"];
        string[] methods = ["gradcam", "cam"];
        string[] classes = ["auto", "rank2", "282", "rank5"];
        var cases = (from p in photos from m in methods from c in classes select (Photo: p, Method: m, Class: c)).ToList();
        Assert.Equal(32, cases.Count);
        var tasks = cases.Select(async c =>
        {
            var r = await f.Http.PostAsync("api/explain", ServerFixture.Form(ServerFixture.Image(c.Photo), c.Photo, null, ("method", c.Method), ("class", c.Class), ("format", "numbers")));
            string body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.OK, body);
            return JsonDocument.Parse(body).RootElement;
        }).ToList();
        var answers = await Task.WhenAll(tasks);
        for (int i = 0; i < cases.Count; i++)
        {
            var (photo, method, cls) = cases[i];
            var image = f.Reference.LoadImage(TestPaths.SharedImage(photo));
            var e = Explainer.Explain(f.Reference, [f.Reference.Prepare(image)], new ExplainRequest { Methods = [method], Classes = [cls] }).Explanations[0];
            Assert.Equal(e.ClassIndex, answers[i].GetProperty("class").GetInt32());
            Assert.Equal(e.Normalized, answers[i].GetProperty("map").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        }
    }

    [Fact]
    public async Task The_server_listens_on_127_0_0_1_only()
    {
        var url = new Uri(f.Server.Url);
        Assert.Equal("127.0.0.1", url.Host);
        using (var ok = new TcpClient()) await ok.ConnectAsync(IPAddress.Loopback, url.Port);
        // Another address of this machine (127.0.0.2 is loopback too, but not the bound address): refused.
        using var other = new TcpClient();
        var e = await Assert.ThrowsAsync<SocketException>(async () => await other.ConnectAsync(IPAddress.Parse("127.0.0.2"), url.Port));
        Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
        // The machine's network addresses, if any: no connection (refused, or no answer within 3 s).
        IPAddress[] addresses;
        try { addresses = Dns.GetHostAddresses(Dns.GetHostName()); }
        catch (SocketException) { addresses = []; }
        foreach (var address in addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a)))
        {
            using var lan = new TcpClient();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await Assert.ThrowsAnyAsync<Exception>(async () => await lan.ConnectAsync(address, url.Port, wait.Token));
            Assert.False(lan.Connected);
        }
    }

    [Fact]
    public async Task Waiting_work_is_dropped_when_its_client_goes_away()
    {
        var options = ServerFixture.Options(f.Cache) with { MaxConcurrentRuns = 1 };
        using var catalog = new ModelCatalog([], options.ModelOptions);
        using var explorer = new Explorer(options, catalog, new ImageFolder(null, 0), TextWriter.Null, CancellationToken.None);
        using var release = new ManualResetEventSlim();
        var holder = explorer.Run(() => { release.Wait(); return 1; }, CancellationToken.None);
        using var client = new CancellationTokenSource();
        bool ran = false;
        var waiting = explorer.Run(() => ran = true, client.Token);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        client.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        release.Set();
        Assert.Equal(1, await holder);
        Assert.False(ran);
        Assert.Equal(2, await explorer.Run(() => 2, CancellationToken.None)); // the slot was given back
    }

    [Fact]
    public async Task A_request_aborted_mid_run_stops_and_frees_its_slot()
    {
        // Occlusion with a 1-pixel stride would take minutes; the client gives up after 300 ms.
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var form = ServerFixture.Form(ServerFixture.Image("both.png"), fields: [("method", "occlusion"), ("param.patch", "8"), ("param.stride", "1")]);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => f.Http.PostAsync("api/explain", form, cts.Token));
        // The four run slots are all free again soon: four slow-free requests complete.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var quick = Enumerable.Range(0, 4).Select(_ => f.Http.PostAsync("api/predict", ServerFixture.Form(ServerFixture.Image("both.png")))).ToList();
        foreach (var r in await Task.WhenAll(quick)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"predicts took {clock.Elapsed}");
    }
}
