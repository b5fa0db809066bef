using Salient.Autodiff;

namespace Salient.Methods;

/// <summary>
/// Base of the pixel-space gradient methods: the gradient of the class logit with respect to the
/// model input, per (item, class), for one or many perturbed copies of the input.
/// </summary>
internal abstract class PixelGradientMethod : IExplanationMethod
{
    public abstract string Name { get; }
    public abstract string Summary { get; }
    public bool UsesLayer => false;
    public bool NeedsGradients => true;
    public virtual MapNormalization Normalization => MapNormalization.Percentile99;
    public virtual bool ImageValued => false;
    public IEnumerable<string> ForwardTensors(MethodContext ctx) => [];
    public virtual IReadOnlyList<Parameter> Parameters => [CommonParameters.Relu, CommonParameters.BatchSize];
    public virtual IReadOnlyList<string> Composes => [];

    public abstract IReadOnlyList<RawMap> Compute(MethodContext ctx);

    protected static int H(MethodContext ctx) => ctx.Model.InputSize.Height;
    protected static int W(MethodContext ctx) => ctx.Model.InputSize.Width;
    protected static int C(MethodContext ctx) => ctx.Model.Input.Channels;

    /// <summary>Input gradients of each row, as C×H×W.</summary>
    protected static List<float[]> InputGradients(MethodContext ctx, IReadOnlyList<GradientRow> rows, ReluMode relu)
    {
        var name = ctx.Model.Input.Name;
        var res = GradientRuns.Run(ctx, rows, [name], relu);
        return res.Select(r => ToChw(ctx, r.Gradients[name])).ToList();
    }

    /// <summary>The ReLU rule when the method's gradients are of the unmodified inputs (they can share the pipeline's forward pass); null for methods that perturb the inputs.</summary>
    protected virtual ReluMode? DirectRelu(MethodContext ctx) => null;

    public virtual GradientRequest? SharedForwardRequest(MethodContext ctx) =>
        DirectRelu(ctx) is { } relu ? InputGradientRequest(ctx, relu) : null;

    private static GradientRequest InputGradientRequest(MethodContext ctx, ReluMode relu) => GradientRuns.Request(ctx, [ctx.Model.Input.Name], relu);

    /// <summary>
    /// Input gradients of every (item, class) of the context, as C×H×W: from the pipeline's forward
    /// pass when it is this request's (one backward per class slot, no forward), else via the engine.
    /// </summary>
    protected static List<float[]> DirectInputGradients(MethodContext ctx, ReluMode relu)
    {
        var request = InputGradientRequest(ctx, relu);
        if (ctx.Pass is not { } pass || !pass.Program.Request.SameGradients(request))
            return InputGradients(ctx, Rows(ctx), relu);
        string input = ctx.Model.Input.Name;
        int n = ctx.Items.Count;
        return GradientRuns.PerClassSlot(ctx, pass, (grads, i, _) =>
        {
            var g = grads[input].Data;
            int per = g.Length / n;
            return ToChw(ctx, g.AsSpan(i * per, per).ToArray());
        });
    }

    /// <summary>A tensor in the model's input layout as C×H×W.</summary>
    protected static float[] ToChw(MethodContext ctx, float[] t) => Layouts.ToChw(t, ctx.Model.Input.Layout, C(ctx), H(ctx), W(ctx));

    /// <summary>A C×H×W array in the model's input layout.</summary>
    protected static float[] FromChw(MethodContext ctx, float[] chw) => Layouts.FromChw(chw, ctx.Model.Input.Layout, C(ctx), H(ctx), W(ctx));

    /// <summary>max_c |g_c| per pixel (the saliency map of Simonyan et al.).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float[] MaxAbsOverChannels(float[] chw, int c, int plane)
    {
        var m = new float[plane];
        for (int k = 0; k < c; k++) for (int p = 0; p < plane; p++) m[p] = Math.Max(m[p], Math.Abs(chw[k * plane + p]));
        return m;
    }

    /// <summary>Σ_c |v_c| per pixel.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float[] SumAbsOverChannels(float[] chw, int c, int plane)
    {
        var m = new float[plane];
        for (int k = 0; k < c; k++) for (int p = 0; p < plane; p++) m[p] += Math.Abs(chw[k * plane + p]);
        return m;
    }

    protected static List<GradientRow> Rows(MethodContext ctx) =>
        GradientRuns.ItemClassPairs(ctx).Select(p => new GradientRow(ctx.Items[p.Item].Tensor, p.Class)).ToList();
}

/// <summary>
/// Base of the methods that reduce the plain input gradient of each (item, class) to a map — saliency,
/// guided backprop, input × gradient: one gradient per pair (sharing the pipeline's forward pass), then
/// <see cref="Reduce"/>.
/// </summary>
internal abstract class InputGradientMethod : PixelGradientMethod
{
    /// <summary>The ReLU parameter (its default is the method's rule).</summary>
    protected virtual ChoiceParameter ReluParameter => CommonParameters.Relu;
    public override IReadOnlyList<Parameter> Parameters => [ReluParameter, CommonParameters.BatchSize];
    protected override ReluMode? DirectRelu(MethodContext ctx) => GradientRuns.Relu(ctx.Get(ReluParameter));

    /// <summary>The map and the image-valued result (C×H×W) from the input x and its gradient g (both C×H×W).</summary>
    protected abstract (float[] Map, float[] Channels) Reduce(float[] x, float[] g, int c, int plane);

    public override IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        var pairs = GradientRuns.ItemClassPairs(ctx);
        var grads = DirectInputGradients(ctx, DirectRelu(ctx)!);
        int h = H(ctx), w = W(ctx), c = C(ctx);
        var result = new List<RawMap>(pairs.Count);
        for (int i = 0; i < pairs.Count; i++)
        {
            var (map, channels) = Reduce(ToChw(ctx, ctx.Items[pairs[i].Item].Tensor), grads[i], c, h * w);
            result.Add(new RawMap(pairs[i].Item, pairs[i].Class, map, h, w, channels, c));
        }
        return result;
    }
}
