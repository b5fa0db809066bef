using System.Net;
using System.Text.Json;
using Salient.Explain;
using Salient.Visualization;
using Salient.Web;
using Xunit;

namespace Salient.Tests.Web;

/// <summary>Each endpoint of the explorer's JSON API against the library run on the same input.</summary>
[Collection("web")]
public sealed class ApiTests(ServerFixture f)
{
    private static async Task<JsonElement> Json(HttpResponseMessage r, HttpStatusCode expected = HttpStatusCode.OK)
    {
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"{(int)r.StatusCode} {body}");
        Assert.StartsWith("application/json", r.Content.Headers.ContentType!.ToString());
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task Predict_answers_the_top5_of_the_issue_for_both_png()
    {
        var doc = await Json(await f.Http.PostAsync("api/predict", ServerFixture.Form(ServerFixture.Image("both.png"))));
        var top = doc.GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(5, top.Count);
        // The issue's example: {"class": 243, "label": "bull mastiff", "probability": 0.69, "logit": 14.5}
        Assert.Equal(243, top[0].GetProperty("class").GetInt32());
        Assert.Equal("bull mastiff", top[0].GetProperty("label").GetString());
        Assert.Equal(0.69, top[0].GetProperty("probability").GetDouble(), 2);
        Assert.Equal(14.5, top[0].GetProperty("logit").GetDouble(), 1);
        var reference = f.Reference.Predict(f.Reference.LoadImage(TestPaths.SharedImage("both.png")), 5);
        Assert.Equal(reference.Select(p => p.ClassIndex), top.Select(t => t.GetProperty("class").GetInt32()));
        Assert.Equal(reference.Select(p => p.Probability), top.Select(t => t.GetProperty("probability").GetSingle()));
    }

    [Fact]
    public async Task Predict_takes_top_and_a_folder_image_by_name()
    {
        var form = new FormUrlEncodedContent([new("folderImage", "both.png"), new("top", "3")]);
        var doc = await Json(await f.Http.PostAsync("api/predict", form));
        Assert.Equal(3, doc.GetProperty("top").GetArrayLength());
        Assert.Equal(243, doc.GetProperty("top")[0].GetProperty("class").GetInt32());
        var missing = await f.Http.PostAsync("api/predict", new FormUrlEncodedContent([new("folderImage", "../README.md")]));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData("gradcam", "auto", "features.18")]
    [InlineData("cam", "282", "auto")]
    [InlineData("eigencam", "tabby", "features.16")]
    public async Task Explain_numbers_are_the_librarys(string method, string cls, string layer)
    {
        var bytes = ServerFixture.Image("both.png");
        var doc = await Json(await f.Http.PostAsync("api/explain", ServerFixture.Form(bytes, fields: [("method", method), ("class", cls), ("layer", layer), ("format", "both")])));
        var image = f.Reference.LoadImage(TestPaths.SharedImage("both.png"));
        var e = Explainer.Explain(f.Reference, [f.Reference.Prepare(image)], new ExplainRequest { Methods = [method], Classes = [cls], Layers = [layer] }).Explanations[0];
        Assert.Equal(e.ClassIndex, doc.GetProperty("class").GetInt32());
        Assert.Equal(e.Layer, doc.GetProperty("layer").GetString());
        Assert.Equal(e.Height, doc.GetProperty("height").GetInt32());
        Assert.Equal(e.Width, doc.GetProperty("width").GetInt32());
        Assert.Equal(e.Normalized, doc.GetProperty("map").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        Assert.Equal(e.RawMap, doc.GetProperty("raw").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        Assert.Equal(243, doc.GetProperty("top")[0].GetProperty("class").GetInt32());
        foreach (var picture in new[] { "overlay", "heatmap" })
        {
            string url = doc.GetProperty(picture).GetString()!;
            Assert.StartsWith("data:image/png;base64,", url);
            var png = Convert.FromBase64String(url["data:image/png;base64,".Length..]);
            var decoded = ServerFixture.Decode(png);
            Assert.Equal((224, 224), (decoded.Width, decoded.Height)); // both.png is 224×224: shown at its size
        }
    }

    [Fact]
    public async Task Explain_png_only_by_default_and_method_parameters_pass_through()
    {
        var doc = await Json(await f.Http.PostAsync("api/explain", ServerFixture.Form(ServerFixture.Image("both.png"), fields: [("method", "gradcam"), ("param.relu", "guided")])));
        Assert.False(doc.TryGetProperty("map", out _));
        Assert.True(doc.TryGetProperty("overlay", out _));
        var bad = await Json(await f.Http.PostAsync("api/explain", ServerFixture.Form(ServerFixture.Image("both.png"), fields: [("method", "gradcma")])), HttpStatusCode.BadRequest);
        Assert.Contains("did you mean 'gradcam'", bad.GetProperty("error").GetString());
        var badParam = await Json(await f.Http.PostAsync("api/explain", ServerFixture.Form(ServerFixture.Image("both.png"), fields: [("method", "gradcam"), ("param.sampels", "3")])), HttpStatusCode.BadRequest);
        Assert.Contains("sampels", badParam.GetProperty("error").GetString());
        var badClass = await Json(await f.Http.PostAsync("api/explain", ServerFixture.Form(ServerFixture.Image("both.png"), fields: [("class", "5000")])), HttpStatusCode.BadRequest);
        Assert.Contains("out of range", badClass.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Activations_are_the_librarys_with_the_top_channels_and_a_sprite()
    {
        var doc = await Json(await f.Http.PostAsync("api/activations", ServerFixture.Form(ServerFixture.Image("both.png"), fields: [("layer", "features.16"), ("top", "5"), ("channel", "7")])));
        var acts = Activations.Compute(f.Reference, f.Reference.LoadImage(TestPaths.SharedImage("both.png")), "features.16");
        Assert.Equal(acts.Channels, doc.GetProperty("channels").GetInt32());
        Assert.Equal(acts.Means, doc.GetProperty("means").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        Assert.Equal(acts.TopChannels(5), doc.GetProperty("top").EnumerateArray().Select(v => v.GetInt32()).ToArray());
        Assert.Equal(acts.ChannelPlane(7).ToArray(), doc.GetProperty("channel").GetProperty("map").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        int columns = doc.GetProperty("columns").GetInt32();
        Assert.Equal((int)Math.Ceiling(Math.Sqrt(acts.Channels)), columns);
        var sprite = ServerFixture.Decode(Convert.FromBase64String(doc.GetProperty("sprite").GetString()!["data:image/png;base64,".Length..]));
        Assert.Equal(columns * acts.Width, sprite.Width);
        Assert.Equal((acts.Channels + columns - 1) / columns * acts.Height, sprite.Height);
        // The brightest pixel of channel 7's tile is where its activation peaks (each tile is its own min…max).
        var plane = acts.ChannelPlane(7).ToArray();
        int peak = Array.IndexOf(plane, plane.Max());
        int x0 = 7 % columns * acts.Width, y0 = 7 / columns * acts.Height;
        Assert.Equal(255f, sprite.GetPixel(x0 + peak % acts.Width, y0 + peak / acts.Width).R, 0.5f);
    }

    [Fact]
    public async Task Activations_refuse_a_layer_without_a_grid_and_a_channel_out_of_range()
    {
        var a = await Json(await f.Http.PostAsync("api/activations", ServerFixture.Form(ServerFixture.Image("both.png"), fields: [("layer", "features.18"), ("channel", "1280")])), HttpStatusCode.BadRequest);
        Assert.Contains("0 to 1279", a.GetProperty("error").GetString());
        var b = await Json(await f.Http.PostAsync("api/activations", ServerFixture.Form(ServerFixture.Image("both.png"), fields: [("layer", "featurs.18")])), HttpStatusCode.BadRequest);
        Assert.Contains("unknown layer 'featurs.18'", b.GetProperty("error").GetString());
        Assert.Contains("features.18", b.GetProperty("error").GetString()!["unknown layer 'featurs.18'".Length..]);
    }

    [Fact]
    public async Task Models_methods_layers_and_images_are_listed()
    {
        var models = await Json(await f.Http.GetAsync("api/models"));
        var m = Assert.Single(models.GetProperty("models").EnumerateArray());
        Assert.Equal("features.18", m.GetProperty("defaultLayer").GetString());
        Assert.Equal(1000, m.GetProperty("classes").GetInt32());
        var methods = await Json(await f.Http.GetAsync("api/methods"));
        Assert.Contains(methods.GetProperty("methods").EnumerateArray(), x => x.GetProperty("name").GetString() == "gradcam");
        var layers = await Json(await f.Http.GetAsync("api/layers"));
        var l18 = layers.GetProperty("layers").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "features.18");
        Assert.Equal(1280, l18.GetProperty("channels").GetInt32());
        Assert.Equal(7, l18.GetProperty("height").GetInt32());
        Assert.True(l18.GetProperty("candidate").GetBoolean());
        var images = await Json(await f.Http.GetAsync("api/images"));
        Assert.Contains(images.GetProperty("images").EnumerateArray(), i => i.GetString() == "both.png");
        var file = await f.Http.GetAsync("api/images/file?name=both.png");
        Assert.Equal(ServerFixture.Image("both.png"), await file.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await f.Http.GetAsync("api/images/file?name=../models/mobilenetv2-w8.onnx")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await f.Http.GetAsync("api/layers?model=resnet")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await f.Http.GetAsync("api/nothing")).StatusCode);
    }

    [Fact]
    public async Task Visualize_runs_in_the_background_with_progress_and_then_comes_from_the_disk_cache()
    {
        JsonElement doc;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            doc = await Json(await f.Http.GetAsync("api/visualize?layer=features.16&channel=11"));
            Assert.Contains(doc.GetProperty("status").GetString(), new[] { "queued", "running", "done" });
            Assert.Equal(3, doc.GetProperty("steps").GetInt32());
            if (doc.GetProperty("status").GetString() != "done") await Task.Delay(100);
        } while (doc.GetProperty("status").GetString() != "done" && clock.Elapsed < TimeSpan.FromSeconds(60));
        Assert.Equal("done", doc.GetProperty("status").GetString());
        var png = Convert.FromBase64String(doc.GetProperty("image").GetString()!["data:image/png;base64,".Length..]);
        // The same unit through the library: 3 steps of the deepvis preset, contrast-stretched for display.
        var files = Directory.GetFiles(f.Cache, "ch0011-deepvis-3.png", SearchOption.AllDirectories);
        Assert.Equal(png, File.ReadAllBytes(Assert.Single(files)));
        var reference = new FeatureVisualizer(f.Reference).Run([Objective.Channel("features.16", 11)], new VisualizationOptions { Steps = 3, BatchSize = 1 })[0];
        var expected = global::Salient.Rendering.ImageWriter.EncodePng(global::Salient.Rendering.ContrastStretch.Apply(reference.Image));
        Assert.Equal(expected, png);
        var again = await Json(await f.Http.GetAsync("api/visualize?layer=features.16&channel=11"));
        Assert.Equal("done", again.GetProperty("status").GetString());
        var bad = await Json(await f.Http.GetAsync("api/visualize?layer=features.16&channel=5000"), HttpStatusCode.BadRequest);
        Assert.Contains("channel", bad.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_visualization_nobody_asks_about_stops_and_restarts_when_asked_again()
    {
        var before = VisualizationJobs.Abandoned;
        VisualizationJobs.Abandoned = TimeSpan.Zero;
        try
        {
            JsonElement doc = await Json(await f.Http.GetAsync("api/visualize?layer=features.15&channel=2"));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (doc.GetProperty("status").GetString() is "queued" or "running" && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(200);
                // Only status requests keep a job alive; with a zero grace period the next step notices nobody is watching.
                doc = await Json(await f.Http.GetAsync("api/visualize?layer=features.15&channel=2"));
            }
            Assert.Equal("failed", doc.GetProperty("status").GetString());
            Assert.Contains("abandoned", doc.GetProperty("error").GetString());
            Assert.Empty(Directory.GetFiles(f.Cache, "ch0002-*", SearchOption.AllDirectories));
        }
        finally { VisualizationJobs.Abandoned = before; }
        // Asked again with the normal grace period: it runs to the end.
        JsonElement again;
        var wait = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            again = await Json(await f.Http.GetAsync("api/visualize?layer=features.15&channel=2"));
            if (again.GetProperty("status").GetString() != "done") await Task.Delay(100);
        } while (again.GetProperty("status").GetString() is "queued" or "running" && wait.Elapsed < TimeSpan.FromSeconds(60));
        Assert.Equal("done", again.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Top_images_rank_the_folder_as_the_library_does()
    {
        var doc = await Json(await f.Http.GetAsync("api/topimages?layer=features.18&channel=3&count=3"));
        var folder = Path.Combine(TestPaths.Shared, "images");
        var files = Directory.GetFiles(folder).Where(global::Salient.Cli.Commands.CommonOptions.IsImageName).Order(StringComparer.Ordinal).ToList();
        var ranked = Activations.RankImages(f.Reference, files, "features.18", 3);
        var shown = doc.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(Math.Min(3, ranked.Count), shown.Count);
        Assert.Equal(ranked.Take(3).Select(r => Path.GetFileName(r.Source)), shown.Select(s => s.GetProperty("image").GetString()));
        Assert.Equal(ranked.Take(3).Select(r => r.Mean), shown.Select(s => s.GetProperty("mean").GetSingle()));
        Assert.Equal(files.Count, doc.GetProperty("ranked").GetInt32());
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(f.Cache, "activations"), "features.18-*.json", SearchOption.AllDirectories));
    }
}
