using System.Text.Json;
using Salient.Imaging;
using Salient.Rendering;
using Salient.Tests.Cli;
using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Targets;

/// <summary>
/// <c>evaluate --target</c> with a target that is not a class: the maps explain it and every
/// perturbed input is measured by it — checked against the score computed here from the model's
/// outputs on the image and on the image multiplied by the map (confidence change).
/// </summary>
public class TargetEvaluateTests
{
    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    [Fact]
    public void Confidence_change_of_a_similarity_target_is_the_similarity_change()
    {
        var modelPath = TargetModels.Embedding(4, 6, seed: 51);
        using var m = TinyModels.Load(modelPath);
        var dir = CliRunner.TempDir();
        var reference = m.Run([TinyModels.RandomItem(52, 0, 1)], "embedding")["embedding"].Data;
        var refPath = Path.Combine(dir, "ref.npy");
        Npy.Write(refPath, reference, reference.Length);
        var px = new float[8 * 8 * 3];
        for (int i = 0; i < px.Length; i++) px[i] = (float)(0.5 + 0.4 * Math.Sin(0.37 * i));
        var image = Path.Combine(dir, "img.png");
        ImageWriter.SavePng(new RgbImage(8, 8, px), image);
        var map = new float[64];
        for (int p = 0; p < 64; p++) map[p] = (p % 8) / 7f;          // a left-to-right ramp
        var mapPath = Path.Combine(dir, "map.npy");
        Npy.Write(mapPath, map, 8, 8);

        var outDir = Path.Combine(dir, "out");
        var r = CliRunner.Run("evaluate", image, "--model", modelPath, "--preprocess", "raw", "--method", "map,gradcam", "--map", mapPath,
            "--metric", "confidence-change", "--target", $"similarity:{refPath}", "--json", "--out", outDir, "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Err);
        var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "evaluation.json"))).RootElement;
        Assert.Equal($"similarity:{refPath}", doc.GetProperty("options").GetProperty("target").GetString());

        var x = m.Prepare(m.LoadImage(image)).Tensor;
        var masked = new float[x.Length];
        for (int c = 0; c < 3; c++) for (int p = 0; p < 64; p++) masked[c * 64 + p] = x[c * 64 + p] * map[p];
        double want = Cosine(m.Run([TinyModels.Item(masked)], "embedding")["embedding"].Data, reference)
                    - Cosine(m.Run([TinyModels.Item(x)], "embedding")["embedding"].Data, reference);
        var csv = File.ReadAllLines(Path.Combine(outDir, "evaluation.csv"));
        var line = csv.Single(l => l.Contains(",map,confidence-change,"));
        double got = double.Parse(line.Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(want, got, 5);
        Assert.Contains(csv, l => l.Contains(",gradcam,confidence-change,"));
    }
}
