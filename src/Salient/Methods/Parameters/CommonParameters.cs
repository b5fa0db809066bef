namespace Salient.Methods;

/// <summary>Parameters that several methods (or the pipeline around them) share: declared once, here.</summary>
internal static class CommonParameters
{
    /// <summary>Rows per ONNX Runtime batch for perturbed or many-copy runs.</summary>
    public static readonly IntParameter BatchSize = new("batch-size", null,
        "inputs per ONNX Runtime batch", 1, 1 << 16, automatic: "from the model's memory footprint (at most 32; 16 for gradients)");

    /// <summary>CAM family, applied by the pipeline: flip × zoom test-time augmentation, de-augmented and averaged.</summary>
    public static readonly FlagParameter AugSmooth = new("aug-smooth",
        "average over horizontal flip × zoom 1.0/1.1/0.9, de-augmented (CAM methods)");

    /// <summary>CAM family: first principal component of the weighted activations instead of their sum.</summary>
    public static readonly FlagParameter EigenSmooth = new("eigen-smooth",
        "first principal component of the weighted activations instead of their sum (CAM methods)");

    /// <summary>The ReLU backward rule of a gradient method whose default is the standard gradient.</summary>
    public static readonly ChoiceParameter Relu = new("relu", "standard",
        "ReLU backward rule: standard gradient, guided backpropagation or deconvnet", () => GradientRuns.ReluNames);

    /// <summary>The ReLU backward rule of guided backpropagation (default guided).</summary>
    public static readonly ChoiceParameter GuidedRelu = new("relu", "guided",
        "ReLU backward rule: standard gradient, guided backpropagation or deconvnet", () => GradientRuns.ReluNames);

    /// <summary>Seed of a randomized method; the same seed gives the same map.</summary>
    public static readonly IntParameter Seed = new("seed", 0, "random seed; the same seed gives the same map");
}
