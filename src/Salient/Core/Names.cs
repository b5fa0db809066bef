namespace Salient.Core;

/// <summary>Did-you-mean: the known names closest to a typed one (case-insensitive edit distance).</summary>
internal static class Names
{
    /// <summary>The <paramref name="count"/> names closest to <paramref name="query"/>, closest first (ties in the given order).</summary>
    public static IReadOnlyList<string> Closest(string query, IEnumerable<string> names, int count) =>
        names.OrderBy(n => Distance(query.ToLowerInvariant(), n.ToLowerInvariant())).Take(count).ToList();

    /// <summary>The single closest name when it is a plausible typo (at most a third of its length, and ≤ 3, edits away); else null.</summary>
    public static string? Suggest(string query, IEnumerable<string> names)
    {
        string? best = null;
        int bestD = int.MaxValue;
        foreach (var n in names)
        {
            int d = Distance(query.ToLowerInvariant(), n.ToLowerInvariant());
            if (d < bestD) (best, bestD) = (n, d);
        }
        return best is not null && bestD <= Math.Min(3, Math.Max(1, best.Length / 3)) ? best : null;
    }

    /// <summary>Edit distance with adjacent transpositions counted as one edit (optimal string alignment): "gradcma" is one edit from "gradcam".</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int v = Math.Min(Math.Min(d[i, j - 1] + 1, d[i - 1, j] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = Math.Min(v, d[i - 2, j - 2] + 1);
                d[i, j] = v;
            }
        return d[a.Length, b.Length];
    }
}
