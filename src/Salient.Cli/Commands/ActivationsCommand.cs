using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Salient.Rendering;
using Salient.Visualization;
using Spectre.Console;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>salient activations</c>: every channel of a layer for one image as a tiled grid with the most
/// active channels marked and listed; or, with <c>--channel K</c>, the images of a folder ranked by
/// how strongly they excite that channel.
/// </summary>
internal static class ActivationsCommand
{
    public static Command Create(TextWriter stdout)
    {
        var common = new CommonOptions();
        var images = new Argument<string[]>("images") { Description = "an image; with --channel, images and/or folders", Arity = ArgumentArity.ZeroOrMore };
        var layer = new Option<string>("--layer", "-l") { Description = "layer to show: auto | NAME (see `salient layers`)", DefaultValueFactory = _ => "auto" };
        var top = new Option<int>("--top", "-k") { Description = "how many of the most active channels (or, with --channel, images) to mark and list", DefaultValueFactory = _ => 8 };
        var outFile = new Option<string>("--out", "-o") { Description = "output folder (it gets activations-LAYER.png, or channel-LAYER-K.png with --channel)", DefaultValueFactory = _ => "salient-out" };
        var json = new Option<bool>("--json") { Description = "print the numbers as JSON (every channel's mean and max; with --channel every image's)" };
        var normalize = new Option<string>("--normalize") { Description = "tile gray levels: channel (each channel its own range) | shared (one range for the layer)", DefaultValueFactory = _ => "channel" };
        var channel = new Option<int?>("--channel") { Description = "rank the given images/folders by the mean activation of this channel" };
        var tile = new Option<int>("--tile") { Description = "minimum tile size in pixels (small maps are enlarged by pixel replication)", DefaultValueFactory = _ => 32 };
        var force = new Option<bool>("--force") { Description = "replace the picture if --out already has it" };
        var colormap = new Option<string>("--colormap") { Description = "gray | jet | turbo | viridis | inferno", DefaultValueFactory = _ => "gray" };
        var cmd = new Command("activations", "show every channel of a layer for an image as a grid, the most active marked; or which images excite one channel most");
        cmd.Arguments.Add(images);
        common.AddTo(cmd);
        foreach (var o in new Option[] { layer, top, outFile, json, normalize, channel, tile, colormap, force }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            int k = p.GetValue(top);
            if (k < 0) throw new SalientException("--top must be 0 or more");
            int minTile = p.GetValue(tile);
            if (minTile < 1 || minTile > 512) throw new SalientException("--tile must be between 1 and 512");
            var norm = p.GetValue(normalize)!.Trim().ToLowerInvariant() switch
            {
                "channel" => GridNormalization.Channel,
                "shared" => GridNormalization.Shared,
                var other => throw new SalientException($"--normalize '{other}' must be channel or shared"),
            };
            var cm = Colormaps.Parse(p.GetValue(colormap)!);
            bool asJson = p.GetValue(json);
            using var model = common.LoadModel(p);
            var structure = model.Structure();
            string layerName = p.GetValue(layer)!;
            var info = layerName.Equals("auto", StringComparison.OrdinalIgnoreCase) ? structure.ResolveLayer(LayersCommand.DefaultLayerOf(model, structure)) : structure.ResolveLayer(layerName);
            string safe = new(info.Name.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray());

            if (p.GetValue(channel) is { } ch)
            {
                var files = CommonOptions.ExpandImages(p.GetValue(images), "activations");
                var ranked = Activations.RankImages(model, files, info.Name, ch);
                string file = Path.Combine(OutputFolder.Create(p.GetValue(outFile)!), $"channel-{safe}-{ch}.png");
                RefuseOverwrite(file, p.GetValue(force));
                int shown = Math.Max(1, Math.Min(k == 0 ? ranked.Count : k, ranked.Count));
                var picture = ActivationPictures.RenderTopImages(ranked, shown, $"{info.Name} channel {ch}: top {shown} of {ranked.Count}");
                OutputFolder.Guard(file, () => ImageWriter.SavePng(picture, file));
                if (asJson)
                {
                    var doc = new
                    {
                        schema = JsonSchema.Version,
                        model = model.Path, layer = info.Name, channel = ch, output = file,
                        images = ranked.Select((r, i) => new { rank = i + 1, image = r.Source, mean = r.Mean, max = r.Max }),
                    };
                    stdout.WriteLine(JsonSerializer.Serialize(doc, FiniteJson.Indented));
                    return 0;
                }
                var con = Term.For(stdout);
                con.MarkupLine($"[bold]{Markup.Escape(info.Name)}[/] channel {ch}: {ranked.Count} image{(ranked.Count == 1 ? "" : "s")} by mean activation");
                var t = new Table().Border(TableBorder.Simple);
                t.AddColumn("rank", c => c.RightAligned()); t.AddColumn("mean", c => c.RightAligned()); t.AddColumn("max", c => c.RightAligned()); t.AddColumn("image");
                int rank = 1;
                foreach (var r in ranked.Take(shown)) t.AddRow((rank++).ToString(), F(r.Mean), F(r.Max), Markup.Escape(r.Source));
                con.Write(t);
                stdout.WriteLine($"wrote {file}");
                return 0;
            }

            var list = CommonOptions.ExpandImages(p.GetValue(images), "activations");
            if (list.Count != 1) throw new SalientException($"give one image ({list.Count} given); to rank several images for a channel add --channel K");
            var image = model.LoadImage(list[0]);
            var acts = Activations.Compute(model, image, info.Name);
            var topChannels = acts.TopChannels(Math.Min(k, acts.Channels));
            string output = Path.Combine(OutputFolder.Create(p.GetValue(outFile)!), $"activations-{Path.GetFileNameWithoutExtension(list[0])}-{safe}.png");
            RefuseOverwrite(output, p.GetValue(force));
            var grid = ActivationPictures.RenderGrid(acts, norm, topChannels.Length, minTile, cm,
                $"{info.Name} {acts.Channels}x{acts.Height}x{acts.Width} of {Path.GetFileName(list[0])} ({norm.ToString().ToLowerInvariant()} range, top {topChannels.Length} marked)");
            OutputFolder.Guard(output, () => ImageWriter.SavePng(grid, output));
            if (asJson)
            {
                var doc = new
                {
                    schema = JsonSchema.Version,
                    model = model.Path, image = list[0], layer = info.Name, channels = acts.Channels, height = acts.Height, width = acts.Width,
                    normalize = norm.ToString().ToLowerInvariant(), output,
                    top = topChannels.Select((c, i) => new { rank = i + 1, channel = c, mean = acts.Means[c], max = acts.Maxima[c] }),
                    all = Enumerable.Range(0, acts.Channels).Select(c => new { channel = c, mean = acts.Means[c], max = acts.Maxima[c] }),
                };
                stdout.WriteLine(JsonSerializer.Serialize(doc, FiniteJson.Indented));
                return 0;
            }
            var console = Term.For(stdout);
            console.MarkupLine($"[bold]{Markup.Escape(list[0])}[/] · layer [bold]{Markup.Escape(info.Name)}[/] ({acts.Channels} channels, {acts.Height}×{acts.Width})");
            if (topChannels.Length > 0)
            {
                var table = new Table().Border(TableBorder.Simple);
                table.AddColumn("rank", c => c.RightAligned()); table.AddColumn("channel", c => c.RightAligned()); table.AddColumn("mean", c => c.RightAligned()); table.AddColumn("max", c => c.RightAligned());
                for (int i = 0; i < topChannels.Length; i++)
                    table.AddRow((i + 1).ToString(), topChannels[i].ToString(), F(acts.Means[topChannels[i]]), F(acts.Maxima[topChannels[i]]));
                console.Write(table);
            }
            stdout.WriteLine($"wrote {output}");
            return 0;
        });
        return cmd;
    }

    private static void RefuseOverwrite(string file, bool force)
    {
        if (File.Exists(file) && !force)
            throw new SalientException($"'{file}' already exists; add --force to replace it, or choose another --out");
    }

    private static string F(float v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
}
