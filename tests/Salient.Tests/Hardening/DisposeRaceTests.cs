using System.Collections.Concurrent;
using System.Diagnostics;
using Salient.Explain;
using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Hardening;

/// <summary>
/// Issue 15, item 3: Dispose while other threads predict and explain. Every call either succeeds or
/// throws ObjectDisposedException; nothing else, and the process never crashes (a use-after-free of an
/// ORT session would take the test host down). Many trials with Dispose at random moments, bounded in time.
/// </summary>
public class DisposeRaceTests
{
    [Fact]
    public void Dispose_during_concurrent_calls_is_safe()
    {
        var (path, _, _) = TinyModels.ConvHead(4, 3, relu: true, skip: false, seed: 17);
        var item = TinyModels.RandomItem(18);
        var rng = new Random(15);
        var unexpected = new ConcurrentQueue<string>();
        var budget = Stopwatch.StartNew();
        int trials = 0, succeeded = 0, disposedErrors = 0;
        string[][] methods = [["gradcam"], ["saliency"], ["scorecam"], ["cam", "gradcam++"]];
        while (trials < 200 && budget.Elapsed < TimeSpan.FromSeconds(15))
        {
            trials++;
            var model = TinyModels.Load(path);
            int delayMs = rng.Next(0, 25);
            using var start = new Barrier(5);
            var callers = Enumerable.Range(0, 4).Select(k => new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < 1000; i++)
                {
                    try
                    {
                        switch ((k + i) % 4)
                        {
                            case 0: model.Predict([item], 2); break;
                            case 1: Explainer.Explain(model, [item], new ExplainRequest { Methods = methods[(k + i) % methods.Length], Layers = ["layer"], Classes = ["auto", "1"] }); break;
                            case 2: model.Structure(); break;
                            default: Explainer.Explain(model, [item], new ExplainRequest { Methods = ["scorecam"], Layers = ["layer"] }); break;
                        }
                        Interlocked.Increment(ref succeeded);
                    }
                    catch (ObjectDisposedException) { Interlocked.Increment(ref disposedErrors); return; }
                    catch (Exception e) { unexpected.Enqueue($"{e.GetType().Name}: {e.Message}"); return; }
                }
            }) { IsBackground = true }).ToArray();
            foreach (var t in callers) t.Start();
            start.SignalAndWait();
            Thread.Sleep(delayMs);
            model.Dispose();
            Assert.All(callers, t => Assert.True(t.Join(TimeSpan.FromSeconds(30)), "a caller hung after Dispose"));
            Assert.Throws<ObjectDisposedException>(() => model.Predict([item]));
            Assert.Throws<ObjectDisposedException>(() => Explainer.Explain(model, [item], new ExplainRequest { Methods = ["gradcam"], Layers = ["layer"] }));
        }
        Assert.True(unexpected.IsEmpty, $"{unexpected.Count} unexpected exceptions in {trials} trials, e.g. {unexpected.FirstOrDefault()}");
        Assert.True(trials >= 10, $"only {trials} trials");
        Assert.True(succeeded > 0 && disposedErrors > 0, $"trials {trials}, succeeded {succeeded}, disposed {disposedErrors}");
    }
}
