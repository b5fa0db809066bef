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
    // Every non-abstract GradientRule with a parameterless constructor in this assembly: a new op
    // rule is one file (plus its finite-difference case, which RuleCoverageTests demands).
    private static readonly GradientRule[] All = typeof(GradientRule).Assembly.GetTypes()
        .Where(t => typeof(GradientRule).IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .Select(t => (GradientRule)Activator.CreateInstance(t)!)
        .ToArray();

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
