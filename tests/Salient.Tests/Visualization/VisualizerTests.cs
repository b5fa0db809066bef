using Salient.Imaging;
using Salient.Models;
using Salient.Rendering;
using Salient.Visualization;
using Xunit;

namespace Salient.Tests.Visualization;

/// <summary>The optimizer on the small fixture models: objectives, determinism, batching, starts, sizes, layouts, diversity, errors.</summary>
public sealed class VisualizerTests : IClassFixture<VisualizerTests.Models>
{
    public sealed class Models : IDisposable
    {
        public SalientModel Gap { get; } = TestPaths.Load(TestPaths.Fixture("models", "mnv2_gap.onnx"));
        public SalientModel Nhwc { get; } = TestPaths.Load(TestPaths.Fixture("models", "mnv3s_nhwc.onnx"), new ModelOptions { Size = (64, 64) });

        public void Dispose()
        {
            Gap.Dispose();
            Nhwc.Dispose();
        }
    }

    private const string Layer = "/features/features.3/Add_output_0"; // [N,8,24,24] at 96×96
    private readonly Models _m;

    public VisualizerTests(Models m) => _m = m;

    private static VisualizationOptions Quick(int steps = 12) => new() { Steps = steps, Seed = 1 };

    [Fact]
    public void Channel_objective_rises_and_the_reported_value_is_the_channel_mean_of_the_image()
    {
        var r = new FeatureVisualizer(_m.Gap).Run([Objective.Channel(Layer, 2)], Quick())[0];
        Assert.Equal((96, 96), (r.Image.Width, r.Image.Height));
        Assert.Equal(12, r.Trace.Count);
        Assert.True(r.Value > r.Trace[0] + 0.01f, $"objective {r.Trace[0]} → {r.Value}");
        var acts = Activations.Compute(_m.Gap, r.Image, Layer);
        Assert.Equal(acts.Means[2], r.Value, 3);
        Assert.All(r.Image.Data, v => Assert.InRange(v, 0f, 255f));
    }

    [Fact]
    public void Same_seed_gives_the_same_images_and_another_seed_other_images()
    {
        var vis = new FeatureVisualizer(_m.Gap);
        var a = vis.Run([Objective.Class(3)], Quick(4))[0].Image.Data;
        var b = vis.Run([Objective.Class(3)], Quick(4))[0].Image.Data;
        var c = vis.Run([Objective.Class(3)], Quick(4) with { Seed = 2 })[0].Image.Data;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Batching_DoesNotChangeTheImages()
    {
        var vis = new FeatureVisualizer(_m.Gap);
        var units = new[] { Objective.Class(1), Objective.Class(7), Objective.Channel(Layer, 5) };
        var together = vis.Run(units, Quick(5));
        var alone = vis.Run([units[0]], Quick(5))[0]; // the start noise depends on the seed and the unit's position in the list
        var pairs = vis.Run(units, Quick(5) with { BatchSize = 2 });
        Assert.Equal(3, together.Count);
        // Equal up to ONNX Runtime's batch-size-dependent rounding, amplified a little by 5 steps.
        double diff = alone.Image.Data.Zip(together[0].Image.Data).Average(p => Math.Abs(p.First - p.Second));
        Assert.True(diff < 0.5, $"mean pixel difference {diff}");
        for (int i = 0; i < 3; i++) Assert.True(Math.Abs(together[i].Value - pairs[i].Value) <= 0.02 * Math.Max(1, Math.Abs(together[i].Value)), $"{together[i].Value} vs {pairs[i].Value}");
        Assert.Equal(units, together.Select(r => r.Objective));
    }

    [Fact]
    public void Neuron_and_weighted_objectives()
    {
        var vis = new FeatureVisualizer(_m.Gap);
        var neuron = vis.Run([Objective.Neuron(Layer, 1, 12, 5)], Quick())[0];
        Assert.True(neuron.Value > neuron.Trace[0] + 0.01f, $"neuron {neuron.Trace[0]} → {neuron.Value}");
        var acts = Activations.Compute(_m.Gap, neuron.Image, Layer);
        Assert.Equal(acts.ChannelPlane(1)[12 * 24 + 5], neuron.Value, 3);
        Assert.Equal("class-004+_features_features.3_Add_output_0-ch000", Objective.Sum((Objective.Class(4), 1f), (Objective.Channel(Layer, 0), 0.5f)).FileStem);

        // Σ over two score tensors (logits and a layer): two engine calls per step; the value is the weighted sum.
        var sum = Objective.Sum((Objective.Class(4), 1f), (Objective.Channel(Layer, 0), 0.5f));
        var r = vis.Run([sum], Quick(6))[0];
        var logit = _m.Gap.Predict(r.Image, 10).First(p => p.ClassIndex == 4).Logit;
        var mean = Activations.Compute(_m.Gap, r.Image, Layer).Means[0];
        Assert.Equal(logit + 0.5f * mean, r.Value, 3);
        Assert.True(r.Value > r.Trace[0]);
    }

    [Fact]
    public void Class_objective_is_the_pre_softmax_logit()
    {
        var structure = _m.Gap.Structure();
        var terms = ResolvedTerm.Resolve(Objective.Class(2), structure);
        Assert.Single(terms);
        Assert.Equal(structure.LogitsName, terms[0].Tensor);
        var r = new FeatureVisualizer(_m.Gap).Run([Objective.Class(2)], Quick(3))[0];
        Assert.Equal(_m.Gap.Predict(r.Image, 10).First(p => p.ClassIndex == 2).Logit, r.Value, 3);
    }

    [Fact]
    public void Start_image_is_where_the_optimization_begins()
    {
        var start = _m.Gap.LoadImage(TestPaths.SharedImage("dogs.png"));
        var r = new FeatureVisualizer(_m.Gap).Run([Objective.Class(0)], new VisualizationOptions { Steps = 1, Start = start })[0];
        var fitted = Preprocessor.Fit(start, 96, 96, _m.Gap.Resize, out _);
        double diff = r.Image.Data.Zip(fitted.Data).Average(p => Math.Abs(p.First - p.Second));
        float step = VisualizationPresets.Default.DeepVis!.LearningRate; // one normalized step: RMS change = η pixel values
        Assert.InRange(diff, 0.01, step + 0.5);
    }

    [Fact]
    public void Size_RunsADynamicModelAtThatSize()
    {
        var r = new FeatureVisualizer(_m.Gap).Run([Objective.Class(5)], Quick(3) with { Size = (64, 48) })[0];
        Assert.Equal((64, 48), (r.Image.Width, r.Image.Height));
        Assert.True(r.Value > r.Trace[0]);
    }

    [Fact]
    public void Lucid_RaisesTheObjective_OnAnNhwcModel()
    {
        // This fixture's logits are ~1e-3 (untrained head); its early channels respond clearly.
        const string conv = "/inner/features/features.2/block/block.0/block.0.0/Conv_output_0";
        var units = new[] { Objective.Channel(conv, 5), Objective.Channel(conv, 11) };
        var res = new FeatureVisualizer(_m.Nhwc).Run(units, new VisualizationOptions { Preset = VisualizationPresets.Lucid, Steps = 16, Seed = 3 });
        Assert.All(res, r =>
        {
            Assert.Equal((64, 64), (r.Image.Width, r.Image.Height));
            Assert.True(r.Value > r.Trace[0] + 0.005f, $"{r.Objective.Label}: {r.Trace[0]} → {r.Value}");
            Assert.Equal(Activations.Compute(_m.Nhwc, r.Image, conv).Means[((ChannelObjective)r.Objective).ChannelIndex], r.Value, 3);
        });
        // The DeepVis recipe on the NHWC layout too.
        var dv = new FeatureVisualizer(_m.Nhwc).Run([units[0]], Quick(6))[0];
        Assert.True(dv.Value > dv.Trace[0]);
    }

    [Fact]
    public void Diversity_MakesTheImagesOfABatchLessAlike()
    {
        var units = new[] { Objective.Channel(Layer, 4), Objective.Channel(Layer, 4), Objective.Channel(Layer, 4) };
        var vis = new FeatureVisualizer(_m.Gap);
        var reports = new List<VisualizationProgress>();
        var plain = vis.Run(units, Quick(10));
        // This fixture's deeper layers give nearly the same Gram matrix for every image; its first conv does not.
        const string early = "/features/features.0/features.0.0/Conv_output_0";
        var diverse = vis.Run(units, Quick(10) with { Diversity = 20f, DiversityLayer = early }, new Progress(reports.Add));
        Assert.Equal(10, reports.Count);
        Assert.All(reports, r => Assert.InRange(r.Diversity, -1.0, 0.0));
        Assert.True(Similarity(diverse) > Similarity(plain) + 0.01, $"diversity {Similarity(plain)} without the term, {Similarity(diverse)} with it");
        // By default the term is computed on the units' own layer.
        var other = vis.Run(units.Take(2).ToList(), Quick(2) with { Diversity = 1f });
        Assert.Equal(2, other.Count);

        double Similarity(IReadOnlyList<VisualizationResult> res)
        {
            var acts = Activations.Compute(_m.Gap, res.Select(r => r.Image).ToList(), early);
            var all = acts.SelectMany(a => a.Data).ToArray();
            return Diversity.Compute(all, acts.Count, acts[0].Channels, acts[0].Height, acts[0].Width, TensorLayout.Nchw, 0f, new float[all.Length]);
        }
    }

    [Fact]
    public void Errors_AreOneLineSalientExceptions()
    {
        var vis = new FeatureVisualizer(_m.Gap);
        Assert.Contains("out of range", Assert.Throws<SalientException>(() => vis.Run([Objective.Class(10)], Quick(1))).Message);
        Assert.Contains("8 channels", Assert.Throws<SalientException>(() => vis.Run([Objective.Channel(Layer, 8)], Quick(1))).Message);
        Assert.Contains("outside layer", Assert.Throws<SalientException>(() => vis.Run([Objective.Neuron(Layer, 0, 24, 0)], Quick(1))).Message);
        Assert.Contains("unknown layer", Assert.Throws<SalientException>(() => vis.Run([Objective.Channel("no.such.layer", 0)], Quick(1))).Message);
        Assert.Contains("the `steps` option", Assert.Throws<SalientException>(() => vis.Run([Objective.Class(0)], Quick(0))).Message);
        Assert.Throws<SalientException>(() => vis.Run([], Quick(1)));
    }

    [Fact]
    public void Activation_grid_marks_the_most_active_channels()
    {
        var image = _m.Gap.LoadImage(TestPaths.SharedImage("both.png"));
        var acts = Activations.Compute(_m.Gap, image, Layer);
        Assert.Equal((8, 24, 24), (acts.Channels, acts.Height, acts.Width));
        var top = acts.TopChannels(3);
        Assert.Equal(3, top.Length);
        Assert.True(acts.Means[top[0]] >= acts.Means[top[1]] && acts.Means[top[1]] >= acts.Means[top[2]]);
        Assert.Equal(acts.Means.Max(), acts.Means[top[0]]);
        foreach (var norm in new[] { GridNormalization.Channel, GridNormalization.Shared })
        {
            var grid = ActivationPictures.RenderGrid(acts, norm, 3, minTile: 48);
            Assert.True(grid.Width >= 3 * 48 && grid.Height >= 3 * 48);
        }
        var ranked = Activations.RankImages(_m.Gap, Directory.EnumerateFiles(Path.Combine(TestPaths.Shared, "images")).Where(f => !f.EndsWith(".md")).Order().ToList(), Layer, top[0]);
        Assert.Equal(4, ranked.Count);
        Assert.True(ranked[0].Mean >= ranked[^1].Mean);
        Assert.Equal(acts.Means[top[0]], ranked.Single(r => r.Source.EndsWith("both.png")).Mean, 4);
        var strip = ActivationPictures.RenderTopImages(ranked, 2);
        Assert.True(strip.Width > 2 * 160);
    }

    private sealed class Progress(Action<VisualizationProgress> a) : IProgress<VisualizationProgress>
    {
        public void Report(VisualizationProgress value) => a(value);
    }
}
