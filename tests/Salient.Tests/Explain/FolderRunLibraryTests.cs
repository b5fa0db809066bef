using Salient.Explain;
using Salient.Methods;
using Salient.Tests.Cli;
using Xunit;

namespace Salient.Tests.Explain;

/// <summary><see cref="FolderRun"/>: many image files, outcomes in order, per-image errors, progress, cancellation.</summary>
public class FolderRunLibraryTests(MobileNetFixture f) : IClassFixture<MobileNetFixture>
{
    private static readonly ExplainRequest CamAndGradCam = new() { Methods = ["cam", "gradcam"] };

    /// <summary>both.png, a corrupt PNG, dogs.png, puppies.jpg (in that order).</summary>
    private static List<string> ImagesWithOneCorrupt()
    {
        var dir = CliRunner.TempDir();
        string broken = Path.Combine(dir, "broken.png");
        File.WriteAllText(broken, "this is not a PNG\n");
        return [TestPaths.SharedImage("both.png"), broken, TestPaths.SharedImage("dogs.png"), TestPaths.SharedImage("puppies.jpg")];
    }

    private sealed class Recorder<T> : IProgress<T>
    {
        public List<T> Reports { get; } = new();
        public void Report(T value) => Reports.Add(value);
    }

    [Fact]
    public void Outcomes_come_in_input_order_and_a_corrupt_file_fails_alone()
    {
        var paths = ImagesWithOneCorrupt();
        var outcomes = FolderRun.Explain(f.Fp32, paths, CamAndGradCam).ToList();

        Assert.Equal(paths, outcomes.Select(o => o.Path));
        Assert.Equal([0, 1, 2, 3], outcomes.Select(o => o.Index));
        var bad = outcomes[1];
        Assert.False(bad.Succeeded);
        Assert.Contains("not a readable image", bad.ErrorMessage);
        Assert.DoesNotContain('\n', bad.ErrorMessage!);
        Assert.Empty(bad.Explanations);
        foreach (var o in outcomes.Where(o => o.Path != paths[1]))
        {
            Assert.True(o.Succeeded, o.ErrorMessage);
            Assert.NotNull(o.Image);
            Assert.NotNull(o.Prepared);
            Assert.Equal(new[] { "cam", "gradcam" }, o.Explanations.Select(e => e.Method));
        }
        Assert.Equal(243, outcomes[0].Explanations[0].ClassIndex); // both.png: top-1 is the bull mastiff
    }

    [Fact]
    public void Maps_are_those_of_explaining_each_image_alone()
    {
        var paths = ImagesWithOneCorrupt();
        foreach (var o in FolderRun.Explain(f.Fp32, paths, CamAndGradCam).Where(o => o.Succeeded))
        {
            var alone = Explainer.Explain(f.Fp32, [f.Fp32.Prepare(f.Fp32.LoadImage(o.Path))], CamAndGradCam);
            Assert.Equal(alone.Explanations.Count, o.Explanations.Count);
            for (int k = 0; k < alone.Explanations.Count; k++)
            {
                var (a, b) = (alone.Explanations[k], o.Explanations[k]);
                Assert.Equal((a.Method, a.ClassIndex, a.Height, a.Width), (b.Method, b.ClassIndex, b.Height, b.Width));
                Assert.Equal(a.RawMap.Length, b.RawMap.Length);
                float scale = a.RawMap.Max(Math.Abs);
                for (int i = 0; i < a.RawMap.Length; i++)
                    Assert.True(Math.Abs(a.RawMap[i] - b.RawMap[i]) <= 1e-4f * scale, $"{o.Path} {a.Method} [{i}]: {a.RawMap[i]} vs {b.RawMap[i]}");
            }
        }
    }

    [Fact]
    public void A_batch_that_fails_is_explained_image_by_image_so_only_the_bad_image_fails()
    {
        string[] paths = [TestPaths.SharedImage("both.png"), TestPaths.SharedImage("dogs.png"), TestPaths.SharedImage("puppies.jpg")];
        // The middle image asks for a class the model does not have: the batch of three fails as a whole.
        var request = CamAndGradCam with { ClassesPerItem = [["auto"], ["no such label"], ["282"]] };
        var outcomes = FolderRun.Explain(f.Fp32, paths, request, new FolderRunOptions { ImagesPerBatch = 3 }).ToList();
        Assert.Equal([true, false, true], outcomes.Select(o => o.Succeeded));
        Assert.Contains("no such label", outcomes[1].ErrorMessage);
        Assert.Equal(243, outcomes[0].Explanations[0].ClassIndex);
        Assert.All(outcomes[2].Explanations, e => Assert.Equal(282, e.ClassIndex));
    }

    [Fact]
    public void Progress_is_reported_once_per_image_up_to_the_total()
    {
        var paths = ImagesWithOneCorrupt();
        var progress = new Recorder<FolderProgress>();
        var outcomes = FolderRun.Explain(f.Fp32, paths, CamAndGradCam, new FolderRunOptions { ImagesPerBatch = 2 }, progress).ToList();
        Assert.Equal([1, 2, 3, 4], progress.Reports.Select(p => p.Done));
        Assert.All(progress.Reports, p => Assert.Equal(paths.Count, p.Total));
        Assert.Equal(outcomes, progress.Reports.Select(p => p.Last));
        Assert.Equal([0, 1, 1, 1], progress.Reports.Select(p => p.Failed));
        var last = progress.Reports[^1];
        Assert.True(last.Elapsed > TimeSpan.Zero && last.ImagesPerSecond > 0);
        Assert.Equal(TimeSpan.Zero, last.Remaining);
        Assert.True(progress.Reports.Zip(progress.Reports.Skip(1)).All(p => p.First.Elapsed <= p.Second.Elapsed));
    }

    [Fact]
    public void Cancelling_after_the_first_image_keeps_it_and_stops_with_OperationCanceledException()
    {
        var paths = ImagesWithOneCorrupt();
        using var cts = new CancellationTokenSource();
        var progress = new Recorder<FolderProgress>();
        var delivered = new List<ImageOutcome>();
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var o in FolderRun.Explain(f.Fp32, paths, CamAndGradCam, new FolderRunOptions { ImagesPerBatch = 1 }, progress, cts.Token))
            {
                delivered.Add(o);
                cts.Cancel();
            }
        });
        var only = Assert.Single(delivered);
        Assert.Equal(paths[0], only.Path);
        Assert.True(only.Succeeded);
        Assert.Equal(2, only.Explanations.Count);
        Assert.Equal([1], progress.Reports.Select(p => p.Done));
    }

    [Fact]
    public void Cancelling_inside_a_batch_delivers_the_rest_of_that_finished_batch_then_stops()
    {
        var paths = ImagesWithOneCorrupt();
        using var cts = new CancellationTokenSource();
        var delivered = new List<ImageOutcome>();
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var o in FolderRun.Explain(f.Fp32, paths, CamAndGradCam, new FolderRunOptions { ImagesPerBatch = 2 }, cancellationToken: cts.Token))
            {
                delivered.Add(o);
                cts.Cancel();
            }
        });
        Assert.Equal(paths.Take(2), delivered.Select(o => o.Path));
    }

    [Fact]
    public void A_cancelled_token_stops_before_any_image_and_bad_requests_fail_before_enumeration()
    {
        var paths = ImagesWithOneCorrupt();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var lazy = FolderRun.Explain(f.Fp32, paths, CamAndGradCam, cancellationToken: cts.Token);
        Assert.ThrowsAny<OperationCanceledException>(() => lazy.ToList());

        var e = Assert.ThrowsAny<SalientException>(() => FolderRun.Explain(f.Fp32, paths, new ExplainRequest { Methods = ["gradcma"] }));
        Assert.Contains("unknown method", e.Message);
        Assert.Throws<ParameterException>(() => FolderRun.Explain(f.Fp32, paths, new ExplainRequest { Methods = ["occlusion"], Parameters = new Dictionary<string, string> { ["patch"] = "0" } }));
        Assert.Throws<SalientException>(() => FolderRun.Explain(f.Fp32, paths, CamAndGradCam with { ClassesPerItem = [["auto"]] }));
    }

    [Fact]
    public void The_default_batch_is_one_image_for_perturbation_methods_else_eight()
    {
        Assert.Equal(1, FolderRun.DefaultImagesPerBatch([MethodRegistry.Get("cam"), MethodRegistry.Get("occlusion")]));
        Assert.Equal(8, FolderRun.DefaultImagesPerBatch([MethodRegistry.Get("cam"), MethodRegistry.Get("gradcam")]));
    }
}
