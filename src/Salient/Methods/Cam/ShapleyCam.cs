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
/// the constant 1±ε (one Mul node after the layer; the two engines are kept with the model). Their
/// backward passes read the values that only decide a switch — ReLU/Clip masks, the chosen maxima of
/// max pooling, signs — from the unperturbed pass (<see cref="ForwardPass"/>'s mixed backward), so, as in
/// autograd, piecewise-linear ops contribute no second derivative even when a unit would flip between
/// (1−ε)A and (1+ε)A; the smooth ops (SiLU, GELU, sigmoid, softmax…) are differentiated with O(ε²) error.
/// On a head that is piecewise linear in A (most ReLU CNNs) H·A = 0 and the map is Grad-CAM's, as in the reference.
/// /// </para>
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
        var model = ctx.Model;
        var request = new GradientRequest { ScoreTensor = ctx.Structure.LogitsName, Wrt = [layer.Name], Relu = GradientRuns.Relu(ctx.Get(CommonParameters.Relu)), SeedIndices = true };
        var engines = model.Part(_ => new ScaledEngines());
        var (up, down) = (engines.For(model, layer.Name, 1 + eps), engines.For(model, layer.Name, 1 - eps));
        var switches = Switches(model.Graph, model.Input.Name);
        var pairs = GradientRuns.ItemClassPairs(ctx);
        int batch = model.Input.DynamicBatch ? Math.Max(1, GradientRuns.BatchSize(ctx)) : model.Input.FixedBatch;
        var layout = layer.Layout ?? TensorLayout.Nchw;
        var terms = new List<CamTerms>(pairs.Count);
        int per = ctx.Items[0].Tensor.Length;
        for (int start = 0; start < pairs.Count; start += batch)
        {
            int n = Math.Min(batch, pairs.Count - start);
            if (!model.Input.DynamicBatch && n != batch)
                throw new SalientException($"the model takes batches of exactly {batch}; Shapley-CAM got {pairs.Count} (image, class) pairs");
            var data = new float[per * n];
            var cls = new long[n];
            for (int i = 0; i < n; i++)
            {
                ctx.Items[pairs[start + i].Item].Tensor.CopyTo(data, i * per);
                cls[i] = pairs[start + i].Class;
            }
            var input = new InputValue(model.Input.Name, model.Input.ShapeFor(n, model.InputSize.Height, model.InputSize.Width), data);
            using var plain = model.Gradients.Build(request, input.Shape).Forward(input);
            using var plus = up.Build(request, input.Shape).Forward(input);
            using var minus = down.Build(request, input.Shape).Forward(input);
            var g = plain.Backward(cls)[layer.Name];
            var gPlus = plus.Backward(cls, plain, switches)[layer.Name];
            var gMinus = minus.Backward(cls, plain, switches)[layer.Name];
            var activation = plain.Value(layer.Name);
            for (int i = 0; i < n; i++)
            {
                var a = Activation.FromTensor(activation, i, layout);
                var (gc, gu, gd) = (Activation.FromTensor(g, i, layout), Activation.FromTensor(gPlus, i, layout), Activation.FromTensor(gMinus, i, layout));
                var w = new float[a.C];
                for (int k = 0; k < a.C; k++)
                {
                    double s = 0;
                    for (int p = 0; p < a.Plane; p++)
                    {
                        int e = k * a.Plane + p;
                        double hvp = ((double)gu.Data[e] - gd.Data[e]) / (2 * eps);
                        s += gc.Data[e] - 0.5 * hvp;
                    }
                    w[k] = (float)(s / a.Plane);
                }
                terms.Add(new CamTerms(pairs[start + i].Item, pairs[start + i].Class, a, w));
            }
        }
        return terms;
    }

    /// <summary>Ops whose backward only switches (a mask, a chosen maximum, a sign): autograd gives them a zero second derivative.</summary>
    private static readonly HashSet<string> SwitchOps = new(StringComparer.Ordinal)
        { "Relu", "Clip", "LeakyRelu", "PRelu", "MaxPool", "GlobalMaxPool", "ReduceMax", "ReduceMin", "Max", "Min", "Abs" };

    /// <summary>
    /// The forward tensors whose values only decide such switches: outputs of <see cref="SwitchOps"/>, and
    /// tensors the model does not compute (the MaxPool indices the engine adds). The scaled passes read these
    /// from the unperturbed pass, so the difference sees no ReLU or max flipping between (1−ε)A and (1+ε)A.
    /// </summary>
    private static Func<string, bool> Switches(Graph graph, string input)
    {
        var produced = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes) foreach (var o in n.Outputs) if (o != "") produced[o] = n.OpType;
        return t => produced.TryGetValue(t, out var op) ? SwitchOps.Contains(op) : t != input && !graph.Initializers.ContainsKey(t);
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
