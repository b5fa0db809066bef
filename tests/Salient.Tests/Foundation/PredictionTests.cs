using Xunit;

namespace Salient.Tests.Foundation;

public class PredictionTests : IClassFixture<MobileNetFixture>
{
    private readonly MobileNetFixture _f;
    public PredictionTests(MobileNetFixture f) => _f = f;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Both_png_gives_bull_mastiff_then_tiger_cat_with_reference_logits(bool w8)
    {
        var model = w8 ? _f.W8 : _f.Fp32;
        var image = model.LoadImage(TestPaths.SharedImage("both.png"));
        var preds = model.Predict(image, 3);
        Assert.Equal(243, preds[0].ClassIndex);
        Assert.Equal("bull mastiff", preds[0].Label);
        Assert.Contains(preds, p => p.ClassIndex == 282 && p.Label == "tiger cat");
        // Every one of the 1000 logits within 1e-3 of PyTorch's.
        var reference = TestPaths.Floats(TestPaths.Reference.GetProperty("logits"));
        var all = model.Predict([model.Prepare(image)], 1000)[0].OrderBy(p => p.ClassIndex).ToList();
        Assert.Equal(1000, all.Count);
        double worst = 0;
        for (int i = 0; i < 1000; i++) worst = Math.Max(worst, Math.Abs(all[i].Logit - reference[i]));
        Assert.True(worst <= 1e-3, $"max |Δlogit| = {worst}");
        // Softmax probabilities sum to one and follow the logits.
        Assert.InRange(all.Sum(p => p.Probability), 0.999f, 1.001f);
        var softmax = Statistics.Softmax(reference);
        Assert.Equal(softmax[243], preds[0].Probability, 3);
    }

    [Fact]
    public void Class_resolution_by_index_label_and_errors()
    {
        var logits = new float[1000];
        logits[7] = 5;
        Assert.Equal(7, _f.Fp32.ResolveClass("auto", logits));
        Assert.Equal(282, _f.Fp32.ResolveClass("282", logits));
        Assert.Equal(282, _f.Fp32.ResolveClass("tiger cat", logits));
        Assert.Equal(243, _f.Fp32.ResolveClass("Bull Mastiff", logits));
        var e = Assert.Throws<SalientException>(() => _f.Fp32.ResolveClass("1000", logits));
        Assert.Contains("out of range", e.Message);
        Assert.Throws<SalientException>(() => _f.Fp32.ResolveClass("-1", logits));
        Assert.Throws<SalientException>(() => _f.Fp32.ResolveClass("not-a-class-xyz", logits));
    }

    [Fact]
    public void Model_ending_in_softmax_is_detected_and_not_softmaxed_twice()
    {
        // Append a Softmax to the mnist model in memory, save, reload.
        var g = Salient.Onnx.OnnxReader.ReadFile(TestPaths.SharedModel("mnist-8.onnx"));
        var last = g.Outputs[0];
        g.Nodes.Add(new Salient.Onnx.Node("Softmax", [last.Name], ["probs"], "final_softmax"));
        g.Outputs[0] = new Salient.Onnx.ValueInfo("probs", Salient.Onnx.DataType.Float, null);
        var path = Path.Combine(Directory.CreateTempSubdirectory("salient-test").FullName, "mnist_softmax.onnx");
        Salient.Onnx.OnnxWriter.WriteFile(g, path);
        using var m = TestPaths.Load(path);
        var s = m.Structure();
        Assert.True(s.EndsInSoftmax);
        Assert.Equal(last.Name, s.LogitsName);
        var img = new Salient.Imaging.RgbImage(28, 28, Enumerable.Range(0, 28 * 28 * 3).Select(i => (float)(i % 7 * 30)).ToArray());
        var preds = m.Predict(img, 10);
        Assert.InRange(preds.Sum(p => p.Probability), 0.999f, 1.001f);
        var logits = preds.OrderBy(p => p.ClassIndex).Select(p => p.Logit).ToArray();
        var soft = Statistics.Softmax(logits);
        foreach (var p in preds) Assert.Equal(soft[p.ClassIndex], p.Probability, 4);
    }
}
