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

    /// <summary>Levenshtein distance.</summary>
    public static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
