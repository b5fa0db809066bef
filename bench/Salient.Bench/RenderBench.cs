using System.Diagnostics;
using Salient.Explain;
using Salient.Imaging;
using Salient.Rendering;

namespace Salient.Bench;

/// <summary>
/// <c>render</c>: on a photo (default shared/images/puppies.jpg, 1600×1200), the median time of the
/// CAM itself (Grad-CAM, one image) against the steps of writing its panel: decoding, the panel
/// (resize, colorize, overlay, text), PNG encoding — each a median of <c>--runs</c> (default 9).
/// </summary>
internal static class RenderBench
{
    public static int Run(string[] args)
    {
        string image = args.Length > 0 ? args[0] : Path.Combine(Cli.DefaultAssets.FindSharedFolder()!, "images", "puppies.jpg");
        int runs = args.Length > 1 ? int.Parse(args[1]) : 9;
        using var model = Models.SalientModel.Load(Path.Combine(Cli.DefaultAssets.FindSharedFolder()!, "models", "mobilenetv2-fp32.onnx"),
            Cli.DefaultAssets.Apply(new Models.ModelOptions()));
        RgbImage original = model.LoadImage(image);
        var input = model.Prepare(original);
        var request = new ExplainRequest { Methods = ["gradcam"] };
        Explanation e = Explainer.Explain(model, [input], request).Explanations[0];
        RgbImage panel = ExplanationRendering.Panel(model, e, original, new PanelOptions());
        var steps = new (string Name, Action Run)[]
        {
            ("decode", () => original = model.LoadImage(image)),
            ("prepare (resize, crop, normalize)", () => input = model.Prepare(original)),
            ("Grad-CAM (forward + backward)", () => e = Explainer.Explain(model, [input], request).Explanations[0]),
            ("panel at 512 px tiles", () => panel = ExplanationRendering.Panel(model, e, original, new PanelOptions())),
            ("  of which: resize the photo to 512", () => Resampler.Resize(original, 512, 384)),
            ("PNG encode of the panel", () => ImageWriter.EncodePng(panel)),
            ("panel at full resolution", () => ExplanationRendering.Panel(model, e, original, new PanelOptions { FullResolution = true })),
        };
        Console.WriteLine($"{Path.GetFileName(image)} {original.Width}x{original.Height}, median of {runs} runs, {Environment.ProcessorCount} cores");
        foreach (var (name, run) in steps)
        {
            run();
            var times = new List<double>();
            for (int i = 0; i < runs; i++)
            {
                var sw = Stopwatch.StartNew();
                run();
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine($"  {name,-38} {times[times.Count / 2],8:0.0} ms");
        }
        return 0;
    }
}
