using System.Text.Json;
using Salient.Rendering;
using Salient.Tests.Imaging;
using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Cli;

/// <summary><c>salient evaluate</c> on a tiny linear model and 8×8 images: the JSON document, the files, bad input per image.</summary>
public class EvaluateCliTests
{
    private static (string Model, string Dir, string A, string B) Setup()
    {
        var (model, _, _) = TinyModels.Linear(3, seed: 2);
        var dir = CliRunner.TempDir();
        string a = Path.Combine(dir, "a.bmp"), b = Path.Combine(dir, "b.bmp");
        var rgb = new int[8, 8, 3];
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) { rgb[y, x, 0] = x * 30; rgb[y, x, 1] = y * 30; rgb[y, x, 2] = 100; }
        File.WriteAllBytes(a, TestImageFiles.Bmp(8, 8, rgb));
        rgb[3, 3, 0] = 255;
        File.WriteAllBytes(b, TestImageFiles.Bmp(8, 8, rgb));
        return (model, dir, a, b);
    }

    [Fact]
    public void Json_document_has_the_schema_every_method_and_metric_and_the_files()
    {
        var (model, dir, a, b) = Setup();
        var outDir = Path.Combine(dir, "out");
        var boxes = Path.Combine(dir, "boxes.json");
        File.WriteAllText(boxes, """[{"image": "a.bmp", "class": 1, "box": [0, 0, 4, 4]}, {"image": "b.bmp", "class": 1, "box": [2, 2, 8, 8]}]""");
        var r = CliRunner.Run("evaluate", a, b, "--model", model, "--preprocess", "raw", "--class", "1", "--method", "random,sobel",
            "--metric", "deletion,insertion,road-morf,road-lerf,road,average-drop,increase-in-confidence,confidence-change,pointing,energy-pointing,sparsity",
            "--steps", "8", "--param", "noise=0", "--boxes", boxes, "--threads", "1", "--json", "--out", outDir);
        Assert.True(r.ExitCode == 0, r.Err);
        var doc = JsonDocument.Parse(r.Out).RootElement;
        Assert.Equal(1, doc.GetProperty("schema").GetInt32());
        Assert.Equal(model, doc.GetProperty("model").GetString());
        var results = doc.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(2 * 11, results.Count);
        foreach (var res in results)
        {
            Assert.Equal(2, res.GetProperty("n").GetInt32());
            var ci = res.GetProperty("ci95").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            double mean = res.GetProperty("mean").GetDouble();
            Assert.True(ci[0] <= mean + 1e-12 && mean <= ci[1] + 1e-12);
            Assert.All(res.GetProperty("per_image").EnumerateArray(), p => Assert.Equal(1, p.GetProperty("class").GetInt32()));
        }
        Assert.Contains(results, x => x.GetProperty("method").GetString() == "sobel" && x.GetProperty("metric").GetString() == "energy-pointing");
        Assert.True(File.Exists(Path.Combine(outDir, "evaluation.json")));
        Assert.Equal(1 + 2 * 2 * 11, File.ReadAllLines(Path.Combine(outDir, "evaluation.csv")).Length);
        Assert.Equal(1 + 2 * 2 * 2 * 9, File.ReadAllLines(Path.Combine(outDir, "curves.csv")).Length);
        Assert.Contains("method", r.Err); // the table goes to stderr with --json

        // The same folder again is refused without --force.
        var again = CliRunner.Run("evaluate", a, "--model", model, "--preprocess", "raw", "--method", "random", "--threads", "1", "--out", outDir);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.Err);
    }

    [Fact]
    public void A_bad_map_or_class_is_one_line_and_the_other_images_are_still_evaluated()
    {
        var (model, dir, a, b) = Setup();
        var maps = Path.Combine(dir, "maps");
        Directory.CreateDirectory(maps);
        Npy.Write(Path.Combine(maps, "a.npy"), Enumerable.Range(0, 64).Select(i => i / 64f).ToArray(), 8, 8);
        Npy.Write(Path.Combine(maps, "b.npy"), new float[25], 5, 5);
        var boxes = Path.Combine(dir, "boxes.json");
        File.WriteAllText(boxes, """[{"image": "zzz.png", "class": 0, "box": [0, 0, 4, 4]}]""");
        var r = CliRunner.Run("evaluate", a, b, "--model", model, "--preprocess", "raw", "--method", "map,random", "--map", maps,
            "--metric", "deletion,pointing", "--boxes", boxes, "--steps", "4", "--threads", "1", "--json", "--out", Path.Combine(dir, "o1"));
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.ErrLines, l => l.StartsWith("error:"));
        Assert.Contains("b.bmp", line);
        Assert.Contains("5×5", line);
        Assert.Single(r.ErrLines, l => l.Contains("zzz.png"));
        var doc = JsonDocument.Parse(r.Out).RootElement;
        var del = doc.GetProperty("results").EnumerateArray().Single(x => x.GetProperty("method").GetString() == "map" && x.GetProperty("metric").GetString() == "deletion");
        Assert.Equal(1, del.GetProperty("n").GetInt32());
        Assert.EndsWith("a.bmp", del.GetProperty("per_image")[0].GetProperty("image").GetString());
        Assert.Single(doc.GetProperty("errors").EnumerateArray());

        r = CliRunner.Run("evaluate", a, b, "--model", model, "--preprocess", "raw", "--method", "random", "--class", "7", "--threads", "1", "--out", Path.Combine(dir, "o2"));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(2, r.ErrLines.Count(l => l.StartsWith("error:") && l.Contains("7")));

        r = CliRunner.Run("evaluate", a, "--model", model, "--preprocess", "raw", "--method", "random", "--metric", "delition", "--out", Path.Combine(dir, "o3"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("did you mean 'deletion'", r.Err);
    }
    [Fact]
    public void Curves_and_leaderboards_are_drawn_as_png_plots()
    {
        var (model, dir, a, b) = Setup();
        var outDir = Path.Combine(dir, "plots");
        var r = CliRunner.Run("evaluate", a, b, "--model", model, "--preprocess", "raw", "--method", "random,sobel",
            "--metric", "deletion,insertion,sparsity", "--steps", "8", "--threads", "1", "--out", outDir);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("7 plots (PNG)", r.Out); // 2 images × 2 methods curve plots + 3 leaderboards
        foreach (var f in new[] { "curves_a_random.png", "curves_b_sobel.png", "leaderboard_deletion.png", "leaderboard_sparsity.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(outDir, f));
            Assert.Equal(0x89, bytes[0]); // PNG signature
            Assert.Equal((byte)'P', bytes[1]);
        }
    }

    [Fact]
    public void Chart_ticks_are_round_and_cover_the_range()
    {
        Assert.Equal(new[] { 0, 0.2, 0.4, 0.6, 0.8, 1 }, Charts.Ticks(0, 1).Select(t => Math.Round(t, 9)));
        Assert.Equal(new[] { -0.05, 0, 0.05, 0.1, 0.15, 0.2 }, Charts.Ticks(-0.06, 0.2).Select(t => Math.Round(t, 9)));
        var img = Charts.Bars("t", "y", [new ChartBar("a", 0.3, 0.2, 0.4, true), new ChartBar("b", -0.1, -0.2, 0)]);
        Assert.True(img.Width >= 440 && img.Height == 340);
    }
}
