using Salient.Evaluation;
using Salient.Methods;
using Xunit;

namespace Salient.Tests.Compare;

/// <summary>Which methods a model without gradients can still run (what compare's one-line error suggests).</summary>
public class ComparisonTests
{
    [Theory]
    [InlineData("gradcam", true)]
    [InlineData("gradcam++", true)]
    [InlineData("layercam", true)]
    [InlineData("saliency", true)]
    [InlineData("smoothgrad", true)]
    [InlineData("integrated-gradients", true)]
    [InlineData("guided-gradcam", true)]   // composes Grad-CAM
    [InlineData("scorecam", false)]
    [InlineData("eigencam", false)]
    [InlineData("rise", false)]
    [InlineData("occlusion", false)]
    [InlineData("ablationcam", false)]
    [InlineData("cam", false)]
    public void Gradient_methods_are_told_apart_from_forward_only_ones(string method, bool needsGradients)
    {
        Assert.Equal(needsGradients, Comparison.NeedsGradients(MethodRegistry.Get(method)));
    }

    [Fact]
    public void The_methods_suggested_for_integer_models_run_the_whole_model_forward_only()
    {
        var suggested = Comparison.ForwardOnlyMethods;
        Assert.Subset(suggested.ToHashSet(), new HashSet<string> { "eigencam", "occlusion", "rise", "scorecam" });
        Assert.DoesNotContain("cam", suggested);          // needs a float pooling → linear head
        Assert.DoesNotContain("ablationcam", suggested);  // runs the graph after the layer on its own
        Assert.DoesNotContain("gradcam", suggested);
    }
}
