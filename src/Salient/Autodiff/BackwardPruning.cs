namespace Salient.Autodiff;

/// <summary>
/// Drops what the backward program's outputs do not need — e.g. the one-hot seed when the score's
/// rule gathered weight rows from the indices instead: backward nodes, constants, and forward values
/// only a dropped node read (neither a backward input nor a forward output any more, nor a MaxPool
/// Indices output).
/// </summary>
internal static class BackwardPruning
{
    /// <summary>Nodes are in emission order, which is topological.</summary>
    public static void Prune(BackwardGraphWriter w, ForwardProgram forward)
    {
        var bw = w.Graph;
        var needed = new HashSet<string>(bw.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        for (int i = bw.Nodes.Count - 1; i >= 0; i--)
        {
            var n = bw.Nodes[i];
            if (n.Outputs.Any(needed.Contains)) foreach (var x in n.Inputs) { if (x != "") needed.Add(x); }
            else bw.Nodes.RemoveAt(i);
        }
        foreach (var k in bw.Initializers.Keys.Where(k => !needed.Contains(k)).ToList()) bw.Initializers.Remove(k);
        foreach (var input in w.Inputs.Where(b => b.Source != InputSource.Seed && !needed.Contains(b.Name)).ToList())
        {
            w.RemoveInput(input);
            forward.RemoveOutput(input.Name);
        }
    }
}
