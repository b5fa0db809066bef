using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Salient.Core;
using Salient.Explain;
using Salient.Imaging;
using Salient.Methods;
using Salient.Models;
using Salient.Rendering;
using Salient.Visualization;

namespace Salient.Web;

/// <summary>The JSON API under the page (docs/server.md): every number comes from the library.</summary>
internal static class Api
{
    public static void Map(IEndpointRouteBuilder app, Explorer x)
    {
        app.MapGet("/api/models", ctx => Explorer.Write(ctx, Models(x)));
        app.MapGet("/api/methods", ctx => Explorer.Write(ctx, Methods()));
        app.MapGet("/api/layers", ctx => Explorer.Write(ctx, Layers(x, ctx.Request)));
        app.MapGet("/api/images", ctx => Explorer.Write(ctx, new { available = x.Folder.Available, images = x.Folder.Names }));
        app.MapGet("/api/images/file", ImageFile(x));
        app.MapPost("/api/predict", ctx => Predict(x, ctx));
        app.MapPost("/api/explain", ctx => Explain(x, ctx));
        app.MapPost("/api/activations", ctx => Activations(x, ctx));
        app.MapGet("/api/visualize", ctx => Visualize(x, ctx));
        app.MapPost("/api/visualize", ctx => Visualize(x, ctx));
        app.MapGet("/api/topimages", ctx => TopImages(x, ctx));
        app.Map("/api/{**rest}", ctx => Explorer.Error(ctx, 404, $"no endpoint {ctx.Request.Method} {ctx.Request.Path} (see docs/server.md)"));
    }

    private static object Models(Explorer x) => new
    {
        models = x.Catalog.Entries.Select(e =>
        {
            var s = e.Model.Structure();
            return new
            {
                name = e.Name,
                file = e.Model.Path == SalientModel.BuiltInModelPath ? e.Model.Path : Path.GetFileName(e.Model.Path),
                input = new { width = e.Model.InputSize.Width, height = e.Model.InputSize.Height, channels = e.Model.Input.Channels, layout = e.Model.Input.Layout.ToString().ToUpperInvariant() },
                classes = s.ClassCount,
                defaultLayer = DefaultLayer(e.Model, s),
            };
        }),
    };

    private static object Methods() => new
    {
        methods = MethodRegistry.All.Select(m => new { name = m.Name, summary = m.Summary, usesLayer = m.UsesLayer, classAgnostic = m.ClassAgnostic, imageValued = m.ImageValued }),
    };

    private static string? DefaultLayer(SalientModel model, ModelStructure s)
    {
        try { return s.ResolveLayer(model.DefaultLayerName).Name; }
        catch (SalientException) { return s.DefaultLayer; }
    }

    private static object Layers(Explorer x, HttpRequest request)
    {
        var entry = x.Catalog.Get(Uploads.Value(request, null, "model"));
        var s = entry.Model.Structure();
        return new
        {
            model = entry.Name,
            defaultLayer = DefaultLayer(entry.Model, s),
            layers = s.Layers.Select(l => new
            {
                name = l.Name, op = l.OpType, shape = l.Shape, channels = l.Channels, height = l.Spatial.H, width = l.Spatial.W,
                candidate = l.IsCandidate, parameters = l.Parameters,
            }),
        };
    }

    private static RequestDelegate ImageFile(Explorer x) => async ctx =>
    {
        string name = ctx.Request.Query["name"].ToString();
        string path = x.Folder.Resolve(name);
        ctx.Response.ContentType = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".png" => "image/png", ".jpg" or ".jpeg" => "image/jpeg", ".bmp" => "image/bmp", ".webp" => "image/webp", ".gif" => "image/gif",
            _ => "application/octet-stream",
        };
        await ctx.Response.SendFileAsync(path, ctx.RequestAborted);
    };

    /// <summary>The model named by the form or query (`model`), the decoded image and the form.</summary>
    private static async Task<(ModelEntry Entry, RgbImage Image, IFormCollection Form)> Input(Explorer x, HttpContext ctx)
    {
        var form = await Uploads.ReadForm(ctx.Request, ctx.RequestAborted);
        var entry = x.Catalog.Get(Uploads.Value(ctx.Request, form, "model"));
        var image = await Uploads.ReadImage(form, x.Folder, Math.Min(x.Options.MaxPixels, entry.Model.Options.MaxPixels), ctx.RequestAborted);
        return (entry, image, form);
    }

    private static int IntValue(HttpRequest r, IFormCollection? f, string name, int fallback, int min, int max)
    {
        var v = Uploads.Value(r, f, name);
        if (v is null) return fallback;
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new ApiException(400, $"`{name}` '{v}' must be an integer from {min} to {max}");
        return n;
    }

    private static object Top(IReadOnlyList<Prediction> predictions) =>
        predictions.Select(p => new { @class = p.ClassIndex, label = p.Label, probability = p.Probability, logit = p.Logit }).ToList();

    private static async Task Predict(Explorer x, HttpContext ctx)
    {
        var (entry, image, form) = await Input(x, ctx);
        int k = IntValue(ctx.Request, form, "top", 5, 1, 1000);
        var model = entry.Model;
        var top = await x.Run(() => model.Predict([model.Prepare(image)], k)[0], ctx.RequestAborted);
        await Explorer.Write(ctx, new { model = entry.Name, top = Top(top) });
    }

    private static async Task Explain(Explorer x, HttpContext ctx)
    {
        var (entry, image, form) = await Input(x, ctx);
        var r = ctx.Request;
        var model = entry.Model;
        string method = Uploads.Value(r, form, "method") ?? "gradcam";
        string cls = Uploads.Value(r, form, "class") ?? "auto";
        string layer = Uploads.Value(r, form, "layer") ?? "auto";
        string format = (Uploads.Value(r, form, "format") ?? "png").ToLowerInvariant();
        if (format is not ("png" or "numbers" or "both")) throw new ApiException(400, $"`format` '{format}' must be png, numbers or both");
        var cm = Colormaps.Parse(Uploads.Value(r, form, "colormap") ?? "jet");
        float alpha = 0.5f;
        if (Uploads.Value(r, form, "alpha") is { } a && (!float.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out alpha) || !(alpha >= 0 && alpha <= 1)))
            throw new ApiException(400, $"`alpha` '{a}' must be a number from 0 to 1");
        // Method parameters: param.NAME=VALUE fields (e.g. param.samples=8).
        var parameters = form.Keys.Concat(r.Query.Keys).Where(k => k.StartsWith("param.", StringComparison.Ordinal)).Distinct()
            .ToDictionary(k => k["param.".Length..], k => Uploads.Value(r, form, k) ?? "");
        var request = new ExplainRequest { Methods = [method], Classes = [cls], Layers = [layer], Parameters = parameters };
        var (explanation, top) = await x.Run(() =>
        {
            var item = model.Prepare(image);
            var result = Explainer.Explain(model, [item], request, null, ctx.RequestAborted);
            // The top-5 from the explanation's own forward pass (softmax of the logits), not a second run.
            return (result.Explanations[0], model.Top(result.Logits[0], null, 5));
        }, ctx.RequestAborted);
        var e = explanation;
        var doc = new Dictionary<string, object?>
        {
            ["model"] = entry.Name, ["method"] = e.Method, ["layer"] = e.Layer, ["class"] = e.ClassIndex, ["label"] = e.Label,
            ["probability"] = e.Probability, ["logit"] = e.Logit, ["classAgnostic"] = e.ClassAgnostic,
            ["height"] = e.Height, ["width"] = e.Width,
            ["image"] = new { width = image.Width, height = image.Height },
            ["crop"] = new { x = e.Geometry.X, y = e.Geometry.Y, width = e.Geometry.Width, height = e.Geometry.Height },
            ["top"] = Top(top), ["milliseconds"] = Math.Round(e.Elapsed.TotalMilliseconds, 2),
        };
        if (format is "numbers" or "both")
        {
            doc["map"] = e.Normalized;
            doc["raw"] = e.RawMap;
        }
        if (format is "png" or "both")
        {
            var (display, g) = Pictures.ForDisplay(image, e.Geometry);
            var (heat, overlay) = Pictures.Heatmap(display, g, e.Normalized, e.Height, e.Width, cm, alpha);
            doc["overlay"] = Pictures.DataUrl(overlay);
            doc["heatmap"] = Pictures.DataUrl(heat);
            doc["displayCrop"] = new { x = g.X, y = g.Y, width = g.Width, height = g.Height, imageWidth = display.Width, imageHeight = display.Height };
        }
        await Explorer.Write(ctx, doc);
    }

    private static async Task Activations(Explorer x, HttpContext ctx)
    {
        var (entry, image, form) = await Input(x, ctx);
        var r = ctx.Request;
        var model = entry.Model;
        var structure = model.Structure();
        string layerName = Uploads.Value(r, form, "layer") ?? "auto";
        var info = structure.ResolveLayer(layerName.Equals("auto", StringComparison.OrdinalIgnoreCase) ? DefaultLayer(model, structure) ?? "auto" : layerName);
        if (info.Shape.Length != 4 || info.Layout is null)
            throw new ApiException(400, $"layer '{info.Name}' has shape [{string.Join(",", info.Shape)}]; an activation grid needs a 4-D layer");
        int k = IntValue(r, form, "top", 8, 0, 4096);
        int? channel = Uploads.Value(r, form, "channel") is null ? null : IntValue(r, form, "channel", 0, 0, info.Channels - 1);
        var (acts, item) = await x.Run(() =>
        {
            var prepared = model.Prepare(image);
            return (Salient.Visualization.Activations.Compute(model, image, info.Name), prepared);
        }, ctx.RequestAborted);
        int columns = Pictures.SpriteColumns(acts.Channels);
        var doc = new Dictionary<string, object?>
        {
            ["model"] = entry.Name, ["layer"] = acts.Layer, ["channels"] = acts.Channels, ["height"] = acts.Height, ["width"] = acts.Width,
            ["means"] = acts.Means, ["maxima"] = acts.Maxima, ["top"] = acts.TopChannels(Math.Min(k, acts.Channels)),
            ["columns"] = columns, ["sprite"] = Pictures.DataUrl(Pictures.Sprite(acts, columns)),
        };
        if (channel is int c)
        {
            var map = MapMath.NormalizeByMax(acts.ChannelPlane(c).ToArray());
            var (display, g) = Pictures.ForDisplay(image, item.Geometry);
            var (_, overlay) = Pictures.Heatmap(display, g, map, acts.Height, acts.Width, Colormap.Jet, 0.5f);
            doc["channel"] = new { index = c, mean = acts.Means[c], max = acts.Maxima[c], map = acts.ChannelPlane(c).ToArray(), overlay = Pictures.DataUrl(overlay) };
        }
        await Explorer.Write(ctx, doc);
    }

    private static async Task Visualize(Explorer x, HttpContext ctx)
    {
        var r = ctx.Request;
        IFormCollection? form = r.HasFormContentType ? await r.ReadFormAsync(ctx.RequestAborted) : null;
        var entry = x.Catalog.Get(Uploads.Value(r, form, "model"));
        var (layer, channels) = ChannelLayer(entry.Model, Uploads.Value(r, form, "layer"));
        int channel = IntValue(r, form, "channel", -1, 0, channels - 1);
        if (channel < 0) throw new ApiException(400, "`channel` is required");
        var state = x.Visualizations.GetOrStart(entry, layer, channel);
        await Explorer.Write(ctx, state.Describe());
    }

    /// <summary>A layer whose channels can be visualized or ranked (4-D, or 2-D units), and its channel count.</summary>
    internal static (string Layer, int Channels) ChannelLayer(SalientModel model, string? name)
    {
        if (name is null) throw new ApiException(400, "`layer` is required");
        var s = model.Structure();
        var info = s.ResolveLayer(name);
        int channels = info.Shape.Length == 4 ? info.Channels : info.Shape.Length == 2 ? (int)info.Shape[1] : 0;
        if (channels <= 0) throw new ApiException(400, $"layer '{info.Name}' has shape [{string.Join(",", info.Shape)}]; channels need a 4-D or 2-D tensor");
        return (info.Name, channels);
    }

    private static async Task TopImages(Explorer x, HttpContext ctx)
    {
        var r = ctx.Request;
        if (!x.Folder.Available) throw new ApiException(404, "the server has no image folder (start it with --images FOLDER)");
        var entry = x.Catalog.Get(Uploads.Value(r, null, "model"));
        var (layer, channels) = ChannelLayer(entry.Model, Uploads.Value(r, null, "layer"));
        if (entry.Model.Structure().ResolveLayer(layer).Shape.Length != 4) throw new ApiException(400, $"layer '{layer}' is not a 4-D layer");
        int channel = IntValue(r, null, "channel", -1, 0, channels - 1);
        if (channel < 0) throw new ApiException(400, "`channel` is required");
        int count = IntValue(r, null, "count", 6, 1, 32);
        var table = await x.FolderActivations.Get(entry, layer, ctx.RequestAborted);
        var best = table.Top(channel, count);
        var responses = best.Count == 0 ? [] : await x.Run(
            () => Salient.Visualization.Activations.RankImages(entry.Model, best.Select(b => x.Folder.Resolve(b)).ToList(), layer, channel), ctx.RequestAborted);
        float peak = responses.Count == 0 ? 0 : Math.Max(1e-12f, responses.Max(v => v.Max));
        var images = responses.Select(v =>
        {
            var map = v.Map.Select(m => m / peak).ToArray();
            var view = v.ModelView;
            var (_, overlay) = Pictures.Heatmap(view, CropGeometry.Whole(view.Width, view.Height), map, v.MapHeight, v.MapWidth, Colormap.Jet, 0.5f);
            return new { image = Path.GetRelativePath(x.Folder.Root!, v.Source).Replace('\\', '/'), mean = v.Mean, max = v.Max, overlay = Pictures.DataUrl(overlay) };
        }).ToList();
        await Explorer.Write(ctx, new { model = entry.Name, layer, channel, ranked = table.Count, failed = table.Failed, images });
    }
}
