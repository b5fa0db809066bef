using System.Reflection;
using Salient.Autodiff;
using Salient.Autodiff.Rules;
using Salient.Onnx;
using Xunit;

namespace Salient.Tests.Autodiff;

/// <summary>
/// Registry-driven checks of the op rules: every op in <see cref="RuleRegistry"/> is differentiated
/// by at least one finite-difference case of <see cref="OpGradientTests"/>, and every
/// <see cref="GradientRule"/> in the library is registered. A new rule without a case (or a rule
/// class nobody registered) fails here.
/// </summary>
public class RuleCoverageTests
{
    /// <summary>
    /// Op type → the FD cases whose backward differentiates a node of that type, found by building
    /// each case's backward (probe + rules, no session, no FD run): a case counts for an op only
    /// when the engine really calls that op's rule on the path from x to y.
    /// </summary>
    private static readonly Lazy<Dictionary<string, List<string>>> CasesByOp = new(() =>
    {
        var byOp = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, make) in OpGradientTests.AllCases)
        {
            var c = make();
            var facts = GraphFacts.Probe(c.Graph, c.T.Input, DataType.Float, c.T.InputShape, GradCheck.Options);
            var built = new BackwardBuilder(c.Graph, facts, c.T.Input, new GradientRequest { ScoreTensor = "y", Wrt = [c.T.Input] }).Build();
            foreach (var op in built.Differentiated.Select(n => n.OpType).Distinct())
            {
                if (!byOp.TryGetValue(op, out var list)) byOp[op] = list = new();
                list.Add(name);
            }
        }
        return byOp;
    });

    [Fact]
    public void Every_registered_op_has_a_finite_difference_case()
    {
        var missing = RuleRegistry.SupportedOps.Where(op => !CasesByOp.Value.ContainsKey(op)).ToList();
        Assert.True(missing.Count == 0,
            $"registered ops without a finite-difference case in OpGradientTests: {string.Join(", ", missing)}; add a case whose graph puts the op on the path from x to y");
    }

    [Fact]
    public void Finite_difference_cases_differentiate_only_registered_ops()
    {
        var supported = RuleRegistry.SupportedOps.ToHashSet(StringComparer.Ordinal);
        Assert.All(CasesByOp.Value.Keys, op => Assert.Contains(op, supported));
    }

    [Fact]
    public void Every_gradient_rule_class_is_registered()
    {
        var registered = RuleRegistry.Rules.Select(r => r.GetType()).ToHashSet();
        var defined = typeof(GradientRule).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(GradientRule)) && !t.IsAbstract).ToList();
        var unregistered = defined.Where(t => !registered.Contains(t)).Select(t => t.Name).Order(StringComparer.Ordinal).ToList();
        Assert.True(unregistered.Count == 0,
            $"gradient rules not in RuleRegistry (Rules/GradientRule.cs): {string.Join(", ", unregistered)}");
        Assert.Equal(registered.Count, RuleRegistry.Rules.Count);   // no rule registered twice
    }

    [Fact]
    public void Every_rule_names_at_least_one_op_and_ops_are_unique()
    {
        Assert.All(RuleRegistry.Rules, r => Assert.NotEmpty(r.Ops));
        var ops = RuleRegistry.Rules.SelectMany(r => r.Ops).ToList();
        Assert.Equal(ops.Count, ops.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(ops.Order(StringComparer.Ordinal), RuleRegistry.SupportedOps);
    }
}
