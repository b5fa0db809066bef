namespace Salient.Autodiff.Rules;

/// <summary>
/// The backward rule of one op (or a tight family of ops). <see cref="Backward"/> is called once
/// per differentiated node, in reverse topological order, with the gradients of the node's
/// outputs available from the context (<see cref="RuleContext.OutGrad"/>); it emits backward-graph
/// nodes (standard ONNX ops, opset 18) and hands the gradient of every on-path input to
/// <see cref="RuleContext.AddGrad"/>. Shapes are concrete (the program is specialized to one input
/// shape); forward values are requested with <see cref="RuleContext.Forward"/>.
/// </summary>
internal abstract class GradientRule
{
    /// <summary>The op types (default ONNX domain) this rule differentiates.</summary>
    public abstract IReadOnlyList<string> Ops { get; }

    public abstract void Backward(RuleContext c);
}

/// <summary>Every rule, by op type.</summary>
internal static class RuleRegistry
{
    private static readonly GradientRule[] All =
    [
        new ConvRule(), new ConvTransposeRule(), new GemmRule(), new MatMulRule(),
        new ReluGradientRule(), new LeakyReluRule(), new PReluRule(), new ClipRule(),
        new SigmoidRule(), new TanhRule(), new EluRule(), new SeluRule(), new HardSigmoidRule(), new HardSwishRule(),
        new SoftplusRule(), new ErfRule(), new GeluRule(), new MishRule(),
        new ExpRule(), new LogRule(), new SqrtRule(), new ReciprocalRule(), new NegRule(), new AbsRule(), new PowRule(),
        new AddSubRule(), new MulRule(), new DivRule(), new SumMeanRule(), new MaxMinRule(), new WhereRule(),
        new BatchNormRule(), new InstanceNormRule(), new LayerNormRule(), new LrnRule(),
        new MaxPoolRule(), new AveragePoolRule(), new GlobalAveragePoolRule(), new GlobalMaxPoolRule(),
        new ReduceRule(),
        new ReshapeLikeRule(), new CastRule(), new TransposeRule(), new ConcatRule(), new SplitRule(), new SliceRule(),
        new PadRule(), new GatherRule(), new GatherElementsRule(), new ExpandRule(), new TileRule(),
        new ResizeRule(), new SoftmaxRule(), new DepthToSpaceRule(),
    ];

    private static readonly Dictionary<string, GradientRule> ByOp = Build();

    private static Dictionary<string, GradientRule> Build()
    {
        var d = new Dictionary<string, GradientRule>(StringComparer.Ordinal);
        foreach (var r in All)
            foreach (var op in r.Ops)
                if (!d.TryAdd(op, r)) throw new InvalidOperationException($"two gradient rules for op '{op}'");
        return d;
    }

    /// <summary>The registered rules, in registration order.</summary>
    public static IReadOnlyList<GradientRule> Rules => All;

    public static GradientRule? Find(string opType) => ByOp.GetValueOrDefault(opType);

    public static IEnumerable<string> SupportedOps => ByOp.Keys.Order(StringComparer.Ordinal);
}
