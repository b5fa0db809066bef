using Salient.Imaging;
using Salient.Models;

namespace Salient.Explain;

/// <summary>Convenience entry points: explain images straight from a loaded model.</summary>
public static class ModelExplainExtensions
{
    /// <summary>Explains one decoded image (resized and normalized with the model's settings).</summary>
    public static ExplainResult Explain(this SalientModel model, RgbImage image, ExplainRequest request) =>
        Explainer.Explain(model, [model.Prepare(image)], request);

    /// <summary>Explains several images in one batch (one forward run for all of them).</summary>
    public static ExplainResult Explain(this SalientModel model, IReadOnlyList<RgbImage> images, ExplainRequest request) =>
        Explainer.Explain(model, images.Select(model.Prepare).ToList(), request);

    /// <summary>Decodes and explains an image file.</summary>
    public static ExplainResult Explain(this SalientModel model, string imagePath, ExplainRequest request) =>
        model.Explain(model.LoadImage(imagePath), request);
}
