using System.Collections.Concurrent;
using Salient.Autodiff;
using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;

namespace Salient.Methods;

/// <summary>
/// Shapley-CAM (Cai 2025), as pytorch-grad-cam's ShapleyCAM: channel weights
/// w_k = spatial mean of (G − ½·H·A)^k, G = ∂y^c/∂A the gradient of the class logit at the layer and
/// H·A its Hessian–vector product along the activation itself (a second-order Taylor view of each
/// channel's Shapley value); map = ReLU(Σ_k w_k A^k).
/// <para>
/// The engine writes first-order backward graphs only, so H·A is a <b>central finite difference of exact
/// gradients</b> along A: H·A ≈ (G((1+ε)A) − G((1−ε)A)) / 2ε, ε = <c>step</c> (default 10⁻³). Each of
/// G((1±ε)A) is the engine's exact gradient on a copy of the model whose layer output is multiplied by
/// the constant 1±ε (one Mul node after the layer; the two engines are kept with the model). The
/// error is O(ε²) where the head after the layer is smooth (SiLU, GELU, sigmoid, softmax…). Where
/// it is piecewise linear (ReLU, max pooling) autograd takes the second derivative as 0 and so does
/// the difference — unless a ReLU or a max switches between (1−ε)A and (1+ε)A, which a small ε makes rare.
/// On a head that is linear in A (GAP → Gemm) H·A = 0 and the map equals Grad-CAM's.
/// </para>
/// </summary>
internal sealed class ShapleyCam : WeightedCam
{
    public static readonly NumberParameter Step = new("step", 1e-3, "relative step ε of the central difference that gives the Hessian–vector product", 0, 0.5, minExclusive: true);

    public override string Name => "shapleycam";
    public override string Summary => "Shapley-CAM: w_k = mean of (∂y/∂A − ½·H·A), H·A by a central difference of exact gradients (Cai 2025); step";
    public override IReadOnlyList<Parameter> Parameters => [.. base.Parameters, Step, CommonParameters.Relu, CommonParameters.BatchSize];

    protected override IReadOnlyList<CamTerms> ComputeTerms(MethodContext ctx)
    {
        var layer = ctx.RequireLayer(Name);
        double eps = ctx.Get(Step);
        var relu = GradientRuns.Relu(ctx.Get(CommonParameters.Relu));
        var pairs = GradientRuns.ItemClassPairs(ctx);
        var rows = pairs.Select(p => new GradientRow(ctx.Items[p.Item].Tensor, p.Class)).ToList();
        var g = GradientRuns.Run(ctx, rows, [layer.Name], relu);
        var engines = ctx.Model.Part(_ => new ScaledEngines());
        var up = Gradients(ctx, engines.For(ctx.Model, layer.Name, 1 + eps), rows, layer.Name, relu);
        var down = Gradients(ctx, engines.For(ctx.Model, layer.Name, 1 - eps), rows, layer.Name, relu);
        var layout = layer.Layout ?? TensorLayout.Nchw;
        var terms = new List<CamTerms>(pairs.Count);
        for (int r = 0; r < pairs.Count; r++)
        {
            var a = GradientRuns.AsChw(g[r].Forward[layer.Name], layer.Shape, layout);
            var gc = GradientRuns.AsChw(g[r].Gradients[layer.Name], layer.Shape, layout);
            var gu = GradientRuns.AsChw(up[r], layer.Shape, layout);
            var gd = GradientRuns.AsChw(down[r], layer.Shape, layout);
            var w = new float[a.C];
            for (int k = 0; k < a.C; k++)
            {
                double s = 0;
                for (int p = 0; p < a.Plane; p++)
                {
                    int i = k * a.Plane + p;
                    double hvp = ((double)gu.Data[i] - gd.Data[i]) / (2 * eps);
                    s += gc.Data[i] - 0.5 * hvp;
                }
                w[k] = (float)(s / a.Plane);
            }
            terms.Add(new CamTerms(pairs[r].Item, pairs[r].Class, a, w));
        }
        return terms;
    }

    /// <summary>∂y^c/∂(layer) of each row through <paramref name="engine"/>, in batches (index seeds).</summary>
    private static List<float[]> Gradients(MethodContext ctx, GradientEngine engine, List<GradientRow> rows, string layer, ReluMode relu)
    {
        var model = ctx.Model;
        int batch = model.Input.DynamicBatch ? Math.Max(1, GradientRuns.BatchSize(ctx)) : model.Input.FixedBatch;
        var request = new GradientRequest { ScoreTensor = ctx.Structure.LogitsName, Wrt = [layer], Relu = relu, SeedIndices = true };
        var result = new List<float[]>(rows.Count);
        int per = rows[0].Input.Length;
        for (int start = 0; start < rows.Count; start += batch)
        {
            int n = Math.Min(batch, rows.Count - start);
            if (!model.Input.DynamicBatch && n != batch)
                throw new SalientException($"the model takes batches of exactly {batch}; Shapley-CAM got {rows.Count} rows");
            var data = new float[per * n];
            var cls = new long[n];
            for (int i = 0; i < n; i++)
            {
                rows[start + i].Input.CopyTo(data, i * per);
                cls[i] = rows[start + i].ClassIndex;
            }
            var input = new InputValue(model.Input.Name, model.Input.ShapeFor(n, model.InputSize.Height, model.InputSize.Width), data);
            using var pass = engine.Build(request, input.Shape).Forward(input);
            var grad = pass.Backward(cls)[layer];
            int len = (int)(grad.Length / n);
            for (int i = 0; i < n; i++) result.Add(grad.Data.AsSpan(i * len, len).ToArray());
        }
        return result;
    }

    /// <summary>
    /// The model with its layer's output multiplied by a constant: the producer's output is renamed and
    /// one Mul(renamed, scale) gives the layer tensor back, so every consumer reads the scaled activation.
    /// </summary>
    internal static Graph ScaledAt(Graph graph, string layer, double scale)
    {
        var g = graph.Clone();
        int at = g.Nodes.FindIndex(n => n.Outputs.Contains(layer));
        if (at < 0) throw new SalientException($"layer '{layer}' is not computed by a node of the model; Shapley-CAM needs a layer inside the network");
        string raw = layer + "/shapley_unscaled", factor = layer + "/shapley_scale";
        var producer = g.Nodes[at];
        producer.Outputs[producer.Outputs.IndexOf(layer)] = raw;
        g.Initializers[factor] = Tensor.Scalar(factor, (float)scale);
        g.Nodes.Insert(at + 1, new Node("Mul", [raw, factor], [layer], layer + "/shapley_mul"));
        return g;
    }

    /// <summary>The gradient engines of scaled copies of a model, by (layer, scale): a part of the model, disposed with it.</summary>
    private sealed class ScaledEngines : IDisposable
    {
        private readonly ConcurrentDictionary<(string, double), Lazy<GradientEngine>> _engines = new();

        public GradientEngine For(SalientModel model, string layer, double scale) =>
            _engines.GetOrAdd((layer, scale), _ => new Lazy<GradientEngine>(() => new GradientEngine(ScaledAt(model.Graph, layer, scale), model.Input, model.Runtime))).Value;

        public void Dispose()
        {
            foreach (var e in _engines.Values) if (e.IsValueCreated) e.Value.Dispose();
            _engines.Clear();
        }
    }
}
