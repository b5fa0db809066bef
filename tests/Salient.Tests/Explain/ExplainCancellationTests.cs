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
        CancelAfter(cts, 400);
        var e = Assert.ThrowsAny<OperationCanceledException>(() => run.GetAwaiter().GetResult());
        Assert.Equal(cts.Token, e.CancellationToken);
        long rows = global::Salient.Perturbation.BatchRunner.RowsRun - rowsBefore;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"stopped after {clock.Elapsed} ({rows} rows run)");
    }

    [Fact]
    public void Cancelling_stops_integrated_gradients_between_its_gradient_batches()
    {
        // A tiny conv model and 50 000 integrated-gradient steps one row per batch: 50 000 ORT runs, far over
        // the 50 ms before the token is cancelled (with 16-row batches a quiet machine finished first).
        // Without a check inside the method the call would finish normally.
        var (path, _, _) = Perturbation.TinyModels.ConvHead(4, 3, relu: true, skip: false, seed: 7);
        using var model = Perturbation.TinyModels.Load(path);
        var item = Perturbation.TinyModels.RandomItem(3);
        using var cts = new CancellationTokenSource();
        var request = new ExplainRequest { Methods = ["integrated-gradients"], Parameters = new Dictionary<string, string> { ["steps"] = "50000", ["batch-size"] = "1" } };
        var run = Task.Run(() => Explainer.Explain(model, [item], request, null, cts.Token));
        CancelAfter(cts, 50);
        var e = Assert.ThrowsAny<OperationCanceledException>(() => run.GetAwaiter().GetResult());
        Assert.Equal(cts.Token, e.CancellationToken);
    }

    /// <summary>
    /// Cancels from a thread of its own: <c>CancelAfter</c>'s timer needs a thread-pool thread, which a
    /// full parallel test run may not give it before a short method has finished.
    /// </summary>
    private static void CancelAfter(CancellationTokenSource cts, int milliseconds) =>
        new Thread(() => { Thread.Sleep(milliseconds); try { cts.Cancel(); } catch (ObjectDisposedException) { } }) { IsBackground = true }.Start();
}
