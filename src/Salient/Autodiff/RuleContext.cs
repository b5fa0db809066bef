using Salient.Onnx;

namespace Salient.Autodiff;

/// <summary>
/// What a gradient rule sees of one differentiated node: the node and its concrete shapes, the
/// model opset (for version-dependent attributes and inputs), the ReLU mode, the gradients of its
/// outputs, and helpers that emit backward-graph nodes (default domain, opset 18) and constants
/// with fresh names.
/// </summary>
internal sealed class RuleContext
{
    private readonly BackwardBuilder _b;
    private readonly HashSet<int> _onPath;

    internal RuleContext(BackwardBuilder b, Node node, int nodeIndex, HashSet<int> onPathInputs, string?[] outGrads)
    {
        _b = b;
        Node = node;
        NodeIndex = nodeIndex;
        _onPath = onPathInputs;
        OutGrads = outGrads;
    }

    public Node Node { get; }
    internal int NodeIndex { get; }
    private string?[] OutGrads { get; }

    /// <summary>Default-domain opset of the MODEL (attributes/inputs of the forward node follow it).</summary>
    public long Opset => _b.ModelOpset;
    public ReluMode Relu => _b.Relu;

    // ---- the node ---------------------------------------------------------------------------

    public string In(int i) => Node.Input(i);
    public string Out(int i) => i < Node.Outputs.Count ? Node.Outputs[i] : "";
    public bool HasIn(int i) => Node.HasInput(i);

    /// <summary>True when input <paramref name="i"/> lies on a path from a wrt tensor to the score (needs a gradient).</summary>
    public bool NeedsGrad(int i) => _onPath.Contains(i);

    /// <summary>Gradient of output <paramref name="i"/>, or null where no gradient flows back into it (zero).</summary>
    public string? OutGrad(int i) => i < OutGrads.Length ? OutGrads[i] : null;

    /// <summary>Gradient of output <paramref name="i"/>, zeros of its shape where none flows.</summary>
    public string OutGradOrZeros(int i) => OutGrad(i) ?? Zeros(OutDims(i));

    /// <summary>
    /// The int64 index input (one score index per batch item) when the gradient of output
    /// <paramref name="i"/> is exactly the request's index seed — the node computes the score —
    /// so a rule can gather rows instead of multiplying by the one-hot seed; null otherwise.
    /// </summary>
    public string? SeedIndicesFor(int i) =>
        _b.SeedIndexTensor is { } idx && OutGrad(i) is { } g && g == _b.DenseSeed ? idx : null;

    /// <summary>The one gradient a single-output node receives.</summary>
    public string G => OutGrad(0) ?? throw Fail("internal: no gradient reaches output 0");

    /// <summary>Adds the gradient contribution of input <paramref name="i"/> (ignored when the input is off the path).</summary>
    public void AddGrad(int i, string grad)
    {
        if (!NeedsGrad(i)) return;
        _b.AddContribution(In(i), grad);
    }

    /// <summary>Throws when an input that this rule cannot differentiate lies on the path.</summary>
    public void RequireOffPath(int i, string what)
    {
        if (NeedsGrad(i))
            throw Fail($"the gradient with respect to {what} of {Node.Describe()} is not supported (it depends on the tensors being differentiated); choose a layer after it");
    }

    // ---- shapes and values ------------------------------------------------------------------

    public long[] Dims(string tensor) => _b.DimsOf(tensor);
    public long[] InDims(int i) => Dims(In(i));
    public long[] OutDims(int i) => Dims(Out(i));
    public int InRank(int i) => InDims(i).Length;
    public DataType TypeOf(string tensor) => _b.TypeOf(tensor);

    /// <summary>The value of a constant (initializer) or of a small tensor computed from shapes; null otherwise.</summary>
    public Tensor? Value(string tensor) => tensor == "" ? null : _b.ValueOf(tensor);
    public long[]? Ints(string tensor) => Value(tensor)?.ToInt64s();
    public float[]? FloatValues(string tensor) => Value(tensor)?.ToFloats();

    /// <summary>Integer values of input <paramref name="i"/>, which must be known (constant or shape-derived).</summary>
    public long[] RequireInts(int i, string what) =>
        Ints(In(i)) ?? throw Fail($"its {what} ('{In(i)}') is computed from data, not from shapes; the gradient needs it known in advance");

    /// <summary>Reads an int-list setting that is an attribute before <paramref name="inputSince"/> and input <paramref name="index"/> from then on.</summary>
    public long[]? AttrOrInput(string attr, int index, long inputSince, string what) =>
        Opset < inputSince ? Node.GetInts(attr) : HasIn(index) ? RequireInts(index, what) : null;

    // ---- forward values ---------------------------------------------------------------------

    /// <summary>
    /// Makes a forward tensor available to the backward graph under the same name: a constant
    /// becomes a backward initializer (the same Tensor object, not a copy); anything else becomes
    /// an output of the forward program and an input of the backward program.
    /// </summary>
    public string Forward(string tensor) => _b.RequestForward(tensor);

    /// <summary>Makes an optional output of this forward node (e.g. MaxPool's Indices) exist and flow to the backward graph.</summary>
    public string ForwardOptionalOutput(int outputIndex, DataType type, long[] dims) => _b.RequestOptionalOutput(this, outputIndex, type, dims);

    // ---- emission ---------------------------------------------------------------------------

    /// <summary>Adds a backward node with one fresh output; set attributes on the returned node.</summary>
    public Node Emit(string op, params string[] inputs) => _b.Emit(op, inputs, 1);

    public Node EmitN(string op, int outputs, params string[] inputs) => _b.Emit(op, inputs, outputs);

    /// <summary>Adds a backward node without attributes and returns its output.</summary>
    public string Op(string op, params string[] inputs) => Emit(op, inputs).Outputs[0];

    public string IntsConst(params long[] values) => _b.IntConstant(values);
    public string Scalar(float v) => _b.FloatConstant([], [v]);
    public string FloatsConst(long[] dims, float[] values) => _b.FloatConstant(dims, values);
    public string Const(Tensor t) => _b.AddInitializer(t);

    public string Add(string a, string b) => Op("Add", a, b);
    public string Sub(string a, string b) => Op("Sub", a, b);
    public string Mul(string a, string b) => Op("Mul", a, b);
    public string Div(string a, string b) => Op("Div", a, b);
    public string Neg(string a) => Op("Neg", a);
    public string Scale(string a, float s) => s == 1f ? a : Mul(a, Scalar(s));

    public string Reshape(string x, long[] dims) => Op("Reshape", x, IntsConst(dims));

    /// <summary>Reshape unless the shape is already <paramref name="dims"/>.</summary>
    public string ReshapeTo(string x, long[] from, long[] dims) => Shapes.Equal(from, dims) ? x : Reshape(x, dims);

    public string Transpose(string x, long[] perm) => Emit("Transpose", x).Set("perm", perm).Outputs[0];

    public string ReduceSum(string x, long[] axes, bool keepDims) =>
        Emit("ReduceSum", x, IntsConst(axes)).Set("keepdims", keepDims ? 1L : 0L).Outputs[0];

    public string ReduceMean(string x, long[] axes, bool keepDims) =>
        Emit("ReduceMean", x, IntsConst(axes)).Set("keepdims", keepDims ? 1L : 0L).Outputs[0];

    /// <summary>Zeros of a shape (ConstantOfShape: no big constant is stored).</summary>
    public string Zeros(long[] dims) =>
        Emit("ConstantOfShape", IntsConst(dims)).Set("value", Tensor.FromFloats("value", [1], [0f])).Outputs[0];

    /// <summary>g where cond, else 0 — as g · float(cond): ORT runs Cast+Mul several times faster than Where.</summary>
    public string Mask(string cond, string g) => Mul(g, Emit("Cast", cond).Set("to", (long)DataType.Float).Outputs[0]);

    public string Expand(string x, long[] dims) => Op("Expand", x, IntsConst(dims));

    /// <summary>
    /// <paramref name="g"/> (of the keepdims shape <paramref name="kept"/>) times <paramref name="scale"/>,
    /// broadcast to <paramref name="dims"/> — the backward of a sum/mean over the axes where kept is 1.
    /// Written as one broadcasting Mul by a constant filled with the scale over the reduced axes, which
    /// ORT runs 2.5–5× faster than Mul + Expand; Expand when that constant would be large.
    /// </summary>
    public string BroadcastScaled(string g, long[] kept, long[] dims, float scale)
    {
        var filler = dims.Select((d, i) => kept[i] == d ? 1L : d).ToArray();
        long n = Tensor.ElementCount(filler);
        if (n > 1 << 16) return Expand(Scale(g, scale), dims);
        var values = new float[n];
        Array.Fill(values, scale);
        return Mul(g, FloatsConst(filler, values));
    }

    /// <summary>
    /// Sums a gradient of (broadcast) shape <paramref name="from"/> down to an operand of shape
    /// <paramref name="to"/> (numpy broadcasting, right-aligned): ReduceSum over the broadcast axes,
    /// then Reshape.
    /// </summary>
    public string ReduceTo(string g, long[] from, long[] to)
    {
        if (Shapes.Equal(from, to)) return g;
        int d = from.Length - to.Length;
        if (d < 0) throw Fail($"internal: cannot reduce a gradient of shape {Shapes.Format(from)} to {Shapes.Format(to)}");
        var axes = new List<long>();
        for (int i = 0; i < from.Length; i++)
            if (i < d || (to[i - d] == 1 && from[i] != 1)) axes.Add(i);
        string r = axes.Count == 0 ? g : ReduceSum(g, axes.ToArray(), keepDims: true);
        var reduced = (long[])from.Clone();
        foreach (var a in axes) reduced[a] = 1;
        return ReshapeTo(r, reduced, to);
    }

    /// <summary>
    /// The gradient through a ReLU-like op, as the request's <see cref="ReluMode"/> defines it. The
    /// op's local derivative is 1 where <paramref name="passMask"/> (a bool mask, built only if the
    /// mode needs it) holds and, elsewhere, what <paramref name="negativeSide"/> makes of a gradient
    /// (g ↦ g · slope; null for slope 0).
    /// </summary>
    public string ReluBackward(Func<string> passMask, Func<string, string>? negativeSide = null) =>
        Relu.Backward(new ReluSite(this, G, passMask, negativeSide));

    // ---- errors -----------------------------------------------------------------------------

    public SalientException Fail(string why) => new($"cannot differentiate {Node.Describe()} ({_b.PathDescription}): {why}");
}
