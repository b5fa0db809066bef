using Salient.Autodiff;
using Salient.Explain;
using Salient.Models;
using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Foundation;

/// <summary>A disposed model refuses every call; null arguments are ArgumentNullException, not NullReferenceException.</summary>
public class ModelLifetimeTests
{
    [Fact]
    public void Every_call_after_dispose_throws_object_disposed()
    {
        var (path, _, _) = TinyModels.Linear(2, 41);
        var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(42);
        Assert.NotEmpty(Explainer.Explain(m, [item], new ExplainRequest { Methods = ["saliency"] }).Explanations);
        m.Dispose();
        var request = new ExplainRequest { Methods = ["saliency"] };
        Assert.Throws<ObjectDisposedException>(() => Explainer.Explain(m, [item], request));
        Assert.Throws<ObjectDisposedException>(() => m.Predict([item]));
        Assert.Throws<ObjectDisposedException>(() => m.Run([item], "logits"));
        Assert.Throws<ObjectDisposedException>(() => m.Structure());
        Assert.Throws<ObjectDisposedException>(() => m.Prepare(item.ModelView));
        Assert.Throws<ObjectDisposedException>(() => m.Gradients);
        m.Dispose(); // twice is fine
    }

    [Fact]
    public void Null_arguments_throw_argument_null()
    {
        var (path, _, _) = TinyModels.Linear(2, 43);
        using var m = TinyModels.Load(path);
        var item = TinyModels.RandomItem(44);
        Assert.Throws<ArgumentNullException>(() => Explainer.Explain(m, [item], null!));
        Assert.Throws<ArgumentNullException>(() => Explainer.Explain(m, null!, new ExplainRequest()));
        Assert.Throws<ArgumentNullException>(() => Explainer.Explain(null!, [item], new ExplainRequest()));
        Assert.Throws<ArgumentNullException>(() => m.Predict((IReadOnlyList<Salient.Imaging.PreparedInput>)null!));
        Assert.Throws<ArgumentNullException>(() => m.Prepare(null!));
        Assert.Throws<ArgumentNullException>(() => m.LoadImage(null!));
        Assert.Throws<ArgumentNullException>(() => SalientModel.Load(null!));
    }
}
