using System.Globalization;
using System.Text;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>--shard I/N</c>: an input belongs to shard <c>FNV-1a-64(key) mod N</c>, where the key is its path
/// relative to the folder argument it was found in ('/'-separated; a file argument's key is its file
/// name) — so the assignment depends neither on the machine's mount point nor on the listing order, and
/// every input is in exactly one shard. A shard writes into <c>OUT/shard-I-of-N/</c>; <c>salient merge</c>
/// joins those folders' manifests.
/// </summary>
internal static class Sharding
{
    public readonly record struct Shard(int Index, int Count)
    {
        public string Folder => $"shard-{Index}-of-{Count}";
    }

    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > 1_000_000 || i >= n)
            throw new SalientException($"--shard '{text}' must be I/N with 0 ≤ I < N ≤ 1000000, e.g. 0/8 (the JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID of a worker, then the worker count)");
        return new Shard(i, n);
    }

    /// <summary>The key of every expanded input: its path relative to the folder argument it came from, else its file name.</summary>
    public static Dictionary<string, string> Keys(IEnumerable<string>? args, IReadOnlyList<string> files)
    {
        var folders = (args ?? []).Where(Directory.Exists).Select(a => Path.GetFullPath(a)).ToList();
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in files)
        {
            string full = Path.GetFullPath(f);
            string? root = folders.FirstOrDefault(d => full.StartsWith(d.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal));
            keys[f] = (root is null ? Path.GetFileName(full) : Path.GetRelativePath(root, full)).Replace(Path.DirectorySeparatorChar, '/');
        }
        return keys;
    }

    public static ulong Hash(string key)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(key)) { h ^= b; h *= 1099511628211UL; }
        return h;
    }

    public static bool Owns(Shard s, string key) => (int)(Hash(key) % (ulong)s.Count) == s.Index;
}
