using Salient.Explain;
using Salient.Imaging;
using Salient.Methods;
using Salient.Perturbation;
using Salient.Rendering;
using Xunit;

namespace Salient.Tests.Rendering;

/// <summary>
/// What the pictures of an explanation say: rejected classes, class-agnostic methods, the global
/// normalization across classes, the colorbar's raw and signed scales, gradient images, DeepVis
/// display stretch, batches within the memory budget. On MobileNetV2 and both.png (243 bull mastiff
/// top-1, 282 tiger cat second, 1 goldfish rejected).
/// </summary>
public class ExplanationPictureTests(MobileNetFixture fixture) : IClassFixture<MobileNetFixture>
{
    private ExplainResult Explain(string methods, bool global = false, params string[] classes)
    {
        var model = fixture.Fp32;
        var input = model.Prepare(model.LoadImage(TestPaths.SharedImage("both.png")));
        return Explainer.Explain(model, [input], new ExplainRequest
        {
            Methods = methods.Split(','),
            Classes = classes.Length == 0 ? ["243", "282", "1"] : classes,
            NormalizeAcrossClasses = global,
        });
    }

    [Fact]
    public void Global_normalization_puts_the_max_over_classes_at_1_and_a_rejected_class_low()
    {
        foreach (var method in new[] { "gradcam", "cam", "saliency" })
        {
            var perMap = Explain(method).Explanations;
            var global = Explain(method, global: true).Explanations;
            Assert.All(perMap, e => Assert.False(e.NormalizedAcrossClasses));
            Assert.All(global, e => Assert.True(e.NormalizedAcrossClasses));
            Assert.Equal(1f, global.Max(e => e.Normalized.Max()), 4);
            var rejected = global.Single(e => e.ClassIndex == 1);
            Assert.True(rejected.Probability < ExplanationRendering.RejectedProbability);
            // per map every class reaches 1; globally the rejected class stays below the chosen one
            Assert.Equal(1f, perMap.Single(e => e.ClassIndex == 1).Normalized.Max(), 4);
            // (pixel saliency is |∂logit/∂x| over the 99th percentile: a rejected class's logit can have
            // steep gradients too, so only the CAM family is expected to look weak for it)
            if (method != "saliency")
                Assert.True(rejected.Normalized.Max() < 0.9f * global.Single(e => e.ClassIndex == 243).Normalized.Max(), method);
            Assert.Equal(perMap.Select(e => e.RawMap), global.Select(e => e.RawMap)); // raw maps untouched
        }
    }

    [Fact]
    public void A_rejected_class_is_said_in_the_title()
    {
        var r = Explain("gradcam").Explanations;
        Assert.EndsWith("(model rejects this class)", ExplanationRendering.Title(r.Single(e => e.ClassIndex == 1)));
        Assert.DoesNotContain("rejects", ExplanationRendering.Title(r.Single(e => e.ClassIndex == 243)));
    }

    [Fact]
    public void A_probability_target_is_said_in_the_title()
    {
        var model = fixture.Fp32;
        var input = model.Prepare(model.LoadImage(TestPaths.SharedImage("both.png")));
        var e = Explainer.Explain(model, [input], new ExplainRequest { Methods = ["gradcam"], Target = Salient.Methods.Target.Parse("prob:282") }).Explanations.Single();
        Assert.Equal(282, e.ClassIndex);
        Assert.EndsWith("· map of prob", ExplanationRendering.Title(e));
        Assert.DoesNotContain("map of", ExplanationRendering.Title(Explain("gradcam", false, "282").Explanations.Single()));
    }

    [Fact]
    public void Eigen_cam_is_computed_once_per_image_and_names_no_class()
    {
        Assert.True(MethodRegistry.Get("eigencam").ClassAgnostic);
        Assert.False(MethodRegistry.Get("gradcam").ClassAgnostic);
        var r = Explain("eigencam").Explanations;
        Assert.Equal([243, 282, 1], r.Select(e => e.ClassIndex));
        Assert.All(r, e => Assert.True(e.ClassAgnostic));
        // one computation: the very same map object for every class
        Assert.Same(r[0].RawMap, r[1].RawMap);
        Assert.Same(r[0].RawMap, r[2].RawMap);
        Assert.Equal("tiger cat", r[1].Label);
        var title = ExplanationRendering.Title(r[1]);
        Assert.Contains("class-agnostic", title);
        Assert.DoesNotContain("tiger", title);
        Assert.DoesNotContain("rejects", ExplanationRendering.Title(r[2]));
    }

    [Fact]
    public void Raw_and_signed_scales_of_the_colorbar()
    {
        var e = Explain("cam", false, "243").Explanations[0];
        var (norm, ns) = ExplanationRendering.Display(e, new PanelOptions());
        Assert.Same(e.Normalized, norm);
        Assert.Equal((0.0, 1.0, "norm"), (ns.Low, ns.High, ns.Name));

        var (raw, rs) = ExplanationRendering.Display(e, new PanelOptions { RawScale = true });
        Assert.Equal(e.RawMap.Min(), rs.Low, 4);
        Assert.Equal(e.RawMap.Max(), rs.High, 4);
        Assert.Equal("raw", rs.Name);
        Assert.Equal(1f, raw.Max(), 5);
        Assert.Equal(0f, raw.Min(), 5);

        // CAM is signed: with coolwarm, 0 sits at the middle color and the scale is ±max|raw|
        Assert.True(e.RawMap.Min() < 0 && e.RawMap.Max() > 0);
        var (signed, ss) = ExplanationRendering.Display(e, new PanelOptions { Colormap = Colormap.Coolwarm, RawScale = true });
        float m = e.RawMap.Max(Math.Abs);
        Assert.Equal((-m, m), ((float)ss.Low, (float)ss.High));
        int zeroish = Array.FindIndex(e.RawMap, v => Math.Abs(v) < 0.02f * m);
        if (zeroish >= 0) Assert.Equal(0.5f, signed[zeroish], 1);
        Assert.Equal(0.5f + 0.5f * e.RawMap[0] / m, signed[0], 5);
        var (_, sn) = ExplanationRendering.Display(e, new PanelOptions { Colormap = Colormap.Coolwarm });
        Assert.Equal((-1.0, 1.0), (sn.Low, sn.High));
    }

    [Fact]
    public void Panels_of_real_explanations_render_at_a_bounded_size()
    {
        var model = fixture.Fp32;
        var image = model.LoadImage(TestPaths.SharedImage("puppies.jpg"));
        var input = model.Prepare(image);
        var e = Explainer.Explain(model, [input], new ExplainRequest { Methods = ["gradcam", "guidedbackprop"] }).Explanations;
        foreach (var x in e)
        {
            var p = ExplanationRendering.Panel(model, x, image, new PanelOptions());
            Assert.True(p.Width <= 3 * HeatmapRenderer.MaxTileSize + 120, $"{p.Width}");
            Assert.True(p.Height <= HeatmapRenderer.MaxTileSize + 80, $"{p.Height}");
        }
    }

    [Fact]
    public void Gradient_images_follow_the_recipe_and_are_shown_stretched()
    {
        // recipe: (x − mean) / (std + 1e-5) · 0.1 + 0.5, clipped
        float[] x = [1, 2, 3, 4, 100];
        double mean = x.Average(), std = Math.Sqrt(x.Select(v => (v - mean) * (v - mean)).Average());
        var d = GradientImage.Deprocess(x);
        for (int i = 0; i < x.Length; i++) Assert.Equal(Math.Clamp((x[i] - mean) / (std + 1e-5) * 0.1 + 0.5, 0, 1), d[i], 5);
        // display: sparse gradients (mostly ~0, a few large) use the full range, never less contrast than the recipe
        var rng = new Random(1);
        var g = Enumerable.Range(0, 10000).Select(i => (float)(i % 50 == 0 ? rng.NextDouble() * 10 - 5 : rng.NextDouble() * 0.2 - 0.1)).ToArray();
        var shown = GradientImage.ForDisplay(g);
        var recipe = GradientImage.Deprocess(g);
        static double Spread(float[] a) => Math.Sqrt(a.Select(v => (v - 0.5) * (v - 0.5)).Average());
        Assert.True(Spread(shown) > 1.5 * Spread(recipe), $"{Spread(shown)} vs {Spread(recipe)}");
        Assert.Equal(0f, shown.Min());
        Assert.Equal(1f, shown.Max());
    }

    [Fact]
    public void DeepVis_display_stretch_uses_the_full_range()
    {
        // a gray, low-contrast image: 120 … 136
        var data = Enumerable.Range(0, 300).Select(i => 120f + i % 17).ToArray();
        var s = ContrastStretch.Apply(new RgbImage(10, 10, data));
        Assert.Equal(0f, s.Data.Min());
        Assert.Equal(255f, s.Data.Max());
        Assert.Equal(255f * (128 - 120) / 16, s.Data[8], 3); // linear in between
    }

    [Fact]
    public void Gradient_batches_follow_the_memory_budget()
    {
        var model = fixture.Fp32;
        long perRow = BatchSizing.ModelBytesPerRow(model);
        Assert.True(perRow > 1 << 20, $"{perRow} bytes per row");
        int big = BatchSizing.ForGradients(model, 1L << 30, GradientRuns.DefaultBatch);
        int small = BatchSizing.ForGradients(model, 64L << 20, GradientRuns.DefaultBatch);
        Assert.InRange(big, 1, GradientRuns.DefaultBatch);
        Assert.True(small < big, $"{small} rows at 64 MB, {big} at 1 GB");
        Assert.True((long)big * BatchSizing.GradientFactor * perRow <= 1L << 30 || big == 1);
        // the request's budget reaches the methods
        var input = model.Prepare(model.LoadImage(TestPaths.SharedImage("both.png")));
        var ctx = new MethodContext(model, model.Structure(), null, [input], [[243]],
            new Dictionary<string, string> { [MethodContext.MemoryBudgetKey] = (64L << 20).ToString() }, new());
        Assert.Equal(small, GradientRuns.BatchSize(ctx));
        Assert.Throws<SalientException>(() => Explainer.Explain(model, [input], new ExplainRequest { Methods = ["saliency"], MemoryBudgetBytes = 1000 }));
    }
}
