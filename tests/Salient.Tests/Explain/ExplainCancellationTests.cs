using Salient.Explain;
using Salient.Models;
using Xunit;

namespace Salient.Tests.Explain;

/// <summary>A cancelled Explain stops between the batches of a long method, not only between methods.</summary>
public sealed class ExplainCancellationTests
{
    [Fact]
    public void Cancelling_stops_a_long_method_between_its_batches()
    {
        // Occlusion with an 8-pixel patch at stride 1: 47 089 forward passes (minutes) if the batches did not check.
        const string method = "occlusion", parameter = "stride", value = "1";
        using var model = SalientModel.LoadBuiltIn(new ModelOptions { Runtime = TestPaths.Runtime });
        var item = model.Prepare(new global::Salient.Imaging.RgbImage(224, 224, new float[224 * 224 * 3]));
        var parameters = new Dictionary<string, string> { [parameter] = value };
        if (method == "occlusion") parameters["patch"] = "8";
        using var cts = new CancellationTokenSource();
        long rowsBefore = global::Salient.Perturbation.BatchRunner.RowsRun;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = Task.Run(() => Explainer.Explain(model, [item], new ExplainRequest { Methods = [method], Parameters = parameters }, null, cts.Token));
        cts.CancelAfter(TimeSpan.FromMilliseconds(400));
        var e = Assert.ThrowsAny<OperationCanceledException>(() => run.GetAwaiter().GetResult());
        Assert.Equal(cts.Token, e.CancellationToken);
        long rows = global::Salient.Perturbation.BatchRunner.RowsRun - rowsBefore;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"stopped after {clock.Elapsed} ({rows} rows run)");
    }
}
