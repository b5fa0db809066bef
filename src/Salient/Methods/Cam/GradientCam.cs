using Salient.Autodiff;

namespace Salient.Methods;

/// <summary>
/// Base of the gradient CAM family: one engine run gives, per (item, class), the target layer's
/// activation A and the gradient G = ∂y^c/∂A of the pre-softmax logit; subclasses turn (A, G) into
/// channel or element weights.
/// </summary>
internal abstract class GradientCam : WeightedCam
{
    public override bool NeedsGradients => true;

    protected abstract CamTerms Terms(int item, int cls, Activation a, Activation g);

    public override IReadOnlyList<Parameter> Parameters => [.. base.Parameters, CommonParameters.Relu, CommonParameters.BatchSize];

    /// <summary>
    /// The layer, plus — when the backward program is cheap to feed — every forward value it reads,
    /// so the pipeline's single forward run serves the backward pass too (no second forward).
    /// </summary>
    public override IEnumerable<string> ForwardTensors(MethodContext ctx)
    {
        var layer = ctx.RequireLayer(Name);
        var program = FastProgram(ctx, layer);
        return program is null ? [layer.Name] : [layer.Name, .. program.BackwardForwardInputs];
    }

    /// <summary>The backward program for the items' batch when it can run from float forward values of modest size; else null (then a gradient run does its own forward).</summary>
    private static BackwardProgram? FastProgram(MethodContext ctx, Models.LayerInfo layer)
    {
        var model = ctx.Model;
        if (!model.Input.DynamicBatch && ctx.Items.Count != model.Input.FixedBatch) return null;
        var relu = GradientRuns.Relu(ctx.Get(CommonParameters.Relu));
        var shape = model.Input.ShapeFor(ctx.Items.Count, model.InputSize.Height, model.InputSize.Width);
        var program = model.Gradients.Build(GradientRuns.Request(ctx, [layer.Name], relu), shape);
        if (!program.CanRunBackwardFromFloats) return null;
        long layerSize = Onnx.Tensor.ElementCount(layer.Shape);
        long needed = program.BackwardForwardInputs.Sum(t => ctx.Structure.Shapes.TryGetValue(t, out var s) ? s.Count : long.MaxValue / 64);
        // Small next to the layer, or (a ViT's last block: attention probabilities, MLP activations) within a
        // quarter of the memory budget for the batch: copying them out of the one forward costs far less than a second forward.
        return needed <= Math.Max(4 * layerSize, 1L << 20) || needed * sizeof(float) * ctx.Items.Count <= ctx.MemoryBudget / 4 ? program : null;
    }

    protected override IReadOnlyList<CamTerms> ComputeTerms(MethodContext ctx)
    {
        var layer = ctx.RequireLayer(Name);
        if (FastProgram(ctx, layer) is { } program) return ComputeFromForward(ctx, layer, program);
        var pairs = GradientRuns.ItemClassPairs(ctx);
        var rows = pairs.Select(p => new GradientRow(ctx.Items[p.Item].Tensor, p.Class)).ToList();
        var relu = GradientRuns.Relu(ctx.Get(CommonParameters.Relu));
        var results = GradientRuns.Run(ctx, rows, [layer.Name], relu);
        var terms = new List<CamTerms>(pairs.Count);
        for (int i = 0; i < pairs.Count; i++)
        {
            var a = GradientRuns.AsChw(results[i].Forward[layer.Name], layer);
            var g = GradientRuns.AsChw(results[i].Gradients[layer.Name], layer);
            terms.Add(Terms(pairs[i].Item, pairs[i].Class, a, g));
        }
        return terms;
    }

    /// <summary>One backward run per class slot (seeded by the target), all reusing the pipeline's forward values.</summary>
    private List<CamTerms> ComputeFromForward(MethodContext ctx, Models.LayerInfo layer, BackwardProgram program)
    {
        var model = ctx.Model;
        var input = program.BackwardReadsModelInput ? model.Pack(ctx.Items) : null;
        var forward = new Dictionary<string, Runtime.TensorValue>(StringComparer.Ordinal);
        var needed = program.BackwardForwardInputs.Append(ctx.Target.ScoreTensor).Append(layer.Name).Distinct().ToList();
        ctx.Prefetch(needed);
        foreach (var t in needed) forward[t] = ctx.Forward(t);
        return GradientRuns.PerClassSlot(ctx, program, input, forward,
            (grads, i, cls) => Terms(i, cls, Activation.FromLayer(forward[layer.Name], i, layer), Activation.FromLayer(grads[layer.Name], i, layer)));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    protected static float[] SpatialMean(Activation g)
    {
        var w = new float[g.C];
        for (int k = 0; k < g.C; k++)
        {
            double s = 0;
            var plane = g.Data.AsSpan(k * g.Plane, g.Plane);
            foreach (var v in plane) s += v;
            w[k] = (float)(s / g.Plane);
        }
        return w;
    }
}
