using Salient.Explain;
using Xunit;

namespace Salient.Tests.Foundation;

public class ConcurrencyTests : IClassFixture<MobileNetFixture>
{
    private readonly MobileNetFixture _f;
    public ConcurrencyTests(MobileNetFixture f) => _f = f;

    [Fact]
    public void Concurrent_explain_calls_on_one_model_give_the_sequential_results()
    {
        var images = new[] { "both.png", "dogs.png", "horses.jpg", "both.png" }.Select(n => _f.Fp32.LoadImage(TestPaths.SharedImage(n))).ToArray();
        var request = new ExplainRequest { Methods = ["cam", "eigencam"], Classes = ["auto", "282"] };
        var sequential = images.Select(i => _f.Fp32.Explain(i, request)).ToArray();
        var parallel = new ExplainResult[images.Length];
        Parallel.For(0, images.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = _f.Fp32.Explain(images[i], request));
        for (int i = 0; i < images.Length; i++)
        {
            Assert.Equal(sequential[i].Explanations.Count, parallel[i].Explanations.Count);
            for (int j = 0; j < sequential[i].Explanations.Count; j++)
                Assert.Equal(sequential[i].Explanations[j].RawMap, parallel[i].Explanations[j].RawMap);
        }
        // A batch of several images equals the images one by one.
        var batch = _f.Fp32.Explain(images, request);
        Assert.Equal(sequential.Sum(s => s.Explanations.Count), batch.Explanations.Count);
        foreach (var b in batch.Explanations)
        {
            var single = sequential[b.Item].Explanations.Single(e => e.Method == b.Method && e.ClassIndex == b.ClassIndex);
            for (int p = 0; p < b.RawMap.Length; p++) Assert.Equal(single.RawMap[p], b.RawMap[p], 3);
        }
    }
}
