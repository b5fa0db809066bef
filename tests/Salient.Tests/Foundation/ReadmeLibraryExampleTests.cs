using Salient.Explain;
using Salient.Models;
using Xunit;

namespace Salient.Tests.Foundation;

/// <summary>The README's library example, verbatim apart from paths, must compile and run.</summary>
public class ReadmeLibraryExampleTests
{
    [Fact]
    public void Readme_library_example_runs()
    {
        string dir = Directory.CreateTempSubdirectory("salient-readme").FullName;
        using var model = SalientModel.Load(TestPaths.SharedModel("mobilenetv2-fp32.onnx"), new ModelOptions
        {
            LabelsPath = TestPaths.SharedModel("imagenet_classes.txt"),
            Preprocessing = Salient.Imaging.Preprocessing.Imagenet,
            Runtime = TestPaths.Runtime,
        });
        var image = model.LoadImage(TestPaths.SharedImage("both.png"));
        var top = model.Predict(image, top: 5);
        var input = model.Prepare(image);
        var result = Explainer.Explain(model, [input], new ExplainRequest
        {
            Methods = ["cam", "eigencam"],
            Layers = ["auto"],
            Classes = ["auto", "282"],
        });
        foreach (var e in result.Explanations)
        {
            float[] raw = e.RawMap;
            float[] map01 = e.Normalized;
            float[] onImage = e.NormalizedAtOriginal();
            var panel = Salient.Rendering.HeatmapRenderer.Panel(image, onImage, Salient.Rendering.Colormap.Jet, 0.5f,
                $"{e.Method} {e.Label} {e.Logit:0.00}", e.Geometry);
            Salient.Rendering.ImageWriter.SavePng(panel, Path.Combine(dir, $"{e.Method}_{e.ClassIndex}.png"));
            Assert.Equal(e.Height * e.Width, raw.Length);
            Assert.Equal(raw.Length, map01.Length);
            Assert.Equal(image.Width * image.Height, onImage.Length);
        }
        Assert.Equal("bull mastiff", top[0].Label);
        Assert.Equal(4, Directory.GetFiles(dir, "*.png").Length);
    }
}
