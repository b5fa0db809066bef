using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Architecture;

/// <summary>
/// The library's namespaces form layers: each may use only namespaces of strictly lower rank (Methods
/// and Visualization share a rank, so neither may use the other). Edges come from signatures and from
/// method bodies' IL (<see cref="DependencyGraph"/>); the root namespace <c>Salient</c>
/// (SalientException) and non-Salient types are ignored.
/// </summary>
public class DependencyTests
{
    private readonly ITestOutputHelper _out;
    public DependencyTests(ITestOutputHelper output) => _out = output;

    public static readonly IReadOnlyDictionary<string, int> Rank = new Dictionary<string, int>
    {
        ["Core"] = 0, ["Imaging"] = 1, ["Onnx"] = 2, ["Runtime"] = 3, ["Models"] = 4, ["Autodiff"] = 5,
        ["Perturbation"] = 6, ["Methods"] = 7, ["Visualization"] = 7, ["Explain"] = 8, ["Export"] = 8, ["Evaluation"] = 9, ["Rendering"] = 9, ["Reporting"] = 10,
    };

    /// <summary>Salient.X[.…] → X; the root namespace and everything else → not a node.</summary>
    private static string? SalientGroup(string? ns) =>
        ns is not null && ns.StartsWith("Salient.", StringComparison.Ordinal) ? ns.Split('.')[1] : null;

    private static IReadOnlyList<NamespaceEdge> LibraryEdges() => DependencyGraph.Edges(typeof(SalientException).Assembly, SalientGroup);

    private static string Describe(NamespaceEdge e) => $"{e.From} → {e.To}: e.g. {e.FromType} uses {e.ToType} ({e.Via}); {e.Examples.Count} type pair(s)";

    /// <summary>An offending edge with every type pair behind it (what has to change to remove it).</summary>
    private static string DescribeAll(NamespaceEdge e, string why) =>
        $"{e.From} → {e.To} [{why}]:\n" + string.Join("\n", e.Examples.Select(x => $"    {x.FromType} uses {x.ToType} ({x.Via})"));

    [Fact]
    public void Library_namespaces_have_no_dependency_cycle()
    {
        var edges = LibraryEdges();
        foreach (var e in edges) _out.WriteLine(Describe(e));
        var cycles = DependencyGraph.Cycles(edges.Select(e => (e.From, e.To)));
        var report = cycles.Select(c => $"cycle among {string.Join(", ", c)}:\n  " +
            string.Join("\n  ", edges.Where(e => c.Contains(e.From) && c.Contains(e.To)).Select(e => DescribeAll(e, "in a cycle"))));
        Assert.True(cycles.Count == 0, string.Join("\n", report));
    }

    [Fact]
    public void Library_namespaces_use_only_namespaces_of_lower_rank()
    {
        var edges = LibraryEdges();
        // Every Salient.X namespace must be ranked (a new namespace needs a place in the layering).
        var groups = typeof(SalientException).Assembly.GetTypes().Select(t => SalientGroup(t.Namespace)).OfType<string>().Distinct().ToList();
        Assert.All(groups, g => Assert.True(Rank.ContainsKey(g), $"namespace Salient.{g} has no rank in the layering"));
        var bad = DependencyGraph.RankViolations(edges.Select(e => (e.From, e.To)), Rank);
        var report = bad.Select(b => DescribeAll(edges.First(e => e.From == b.From && e.To == b.To), b.Why));
        Assert.True(bad.Count == 0, $"{bad.Count} edges against the layering:\n" + string.Join("\n", report));
    }

    [Fact]
    public void Using_directives_in_the_source_follow_the_layering_too()
    {
        // The compiled check cannot see a `using` that nothing uses; the source scan does.
        var src = Path.Combine(TestPaths.RepoRoot, "src", "Salient");
        var edges = new List<(string From, string To)>();
        var where = new Dictionary<(string, string), string>();
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            var lines = File.ReadAllLines(file);
            var from = SalientGroup(lines.Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("namespace ", StringComparison.Ordinal))?["namespace ".Length..].TrimEnd(';', ' ', '{'));
            if (from is null) continue;
            foreach (var l in lines)
                if (l.StartsWith("using Salient.", StringComparison.Ordinal) && SalientGroup(l["using ".Length..].TrimEnd(';')) is { } to && to != from)
                {
                    edges.Add((from, to));
                    where.TryAdd((from, to), Path.GetRelativePath(src, file));
                }
        }
        Assert.NotEmpty(edges);
        var bad = DependencyGraph.RankViolations(edges.Distinct(), Rank);
        Assert.True(bad.Count == 0, string.Join("\n", bad.Select(b => $"{b.From} → {b.To} [{b.Why}] in {where[(b.From, b.To)]}")));
    }

    [Fact]
    public void The_cycle_check_finds_cycles_in_a_synthetic_edge_list()
    {
        (string, string)[] acyclic = [("A", "B"), ("B", "C"), ("A", "C"), ("D", "C")];
        Assert.Empty(DependencyGraph.Cycles(acyclic));
        (string, string)[] cyclic = [("A", "B"), ("B", "C"), ("C", "A"), ("C", "D"), ("D", "E"), ("E", "D"), ("F", "A")];
        var cycles = DependencyGraph.Cycles(cyclic).Select(c => string.Join(",", c)).Order().ToList();
        Assert.Equal(["A,B,C", "D,E"], cycles);
        Assert.Equal(["X"], Assert.Single(DependencyGraph.Cycles([("X", "X")])));
    }

    [Fact]
    public void The_rank_check_flags_upward_same_rank_and_unranked_edges()
    {
        var rank = new Dictionary<string, int> { ["Low"] = 0, ["Mid"] = 1, ["Peer"] = 1, ["High"] = 2 };
        var bad = DependencyGraph.RankViolations([("High", "Mid"), ("Mid", "Low"), ("Low", "High"), ("Mid", "Peer"), ("High", "Unknown")], rank);
        Assert.Equal([("Low", "High"), ("Mid", "Peer"), ("High", "Unknown")], bad.Select(b => (b.From, b.To)).ToList());
    }

    private static string? SampleGroup(string? ns)
    {
        const string prefix = "Salient.Tests.Architecture.Samples.";
        return ns is not null && ns.StartsWith(prefix, StringComparison.Ordinal) ? ns[prefix.Length..].Split('.')[0] : null;
    }

    [Fact]
    public void Edges_are_found_in_method_bodies_lambdas_and_iterators_not_only_in_signatures()
    {
        var edges = DependencyGraph.Edges(typeof(DependencyTests).Assembly, SampleGroup);
        foreach (var e in edges) _out.WriteLine(Describe(e));
        string Pair(NamespaceEdge e) => $"{e.From}->{e.To}";
        // Body: a static call; Lambda: only inside a closure; Iterator: only inside a state machine;
        // Signature: a parameter type. Beta uses nothing; Gamma's use of Beta is by typeof only (ldtoken).
        Assert.Equal(["Body->Beta", "Gamma->Beta", "Iterator->Beta", "Lambda->Beta", "Signature->Beta"], edges.Select(Pair).Order(StringComparer.Ordinal).ToList());
        Assert.Contains("IL of", edges.Single(e => e.From == "Body").Via);
        Assert.Contains("<", edges.Single(e => e.From == "Lambda").FromType); // found in the compiler-generated closure type
    }
}
