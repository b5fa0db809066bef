namespace Salient.Models;

/// <summary>Class labels (one per line, index order) and class look-up by index or name.</summary>
public sealed class Labels
{
    private readonly string[] _names;

    public Labels(IEnumerable<string> names) => _names = names.ToArray();

    public int Count => _names.Length;
    public string this[int i] => i >= 0 && i < _names.Length ? _names[i] : $"class {i}";
    public IReadOnlyList<string> Names => _names;

    public static Labels Load(string path)
    {
        if (!File.Exists(path)) throw new SalientException($"labels file '{path}' not found");
        var lines = File.ReadAllLines(path).Select(l => l.Trim()).ToList();
        while (lines.Count > 0 && lines[^1] == "") lines.RemoveAt(lines.Count - 1);
        if (lines.Count == 0) throw new SalientException($"labels file '{path}' is empty");
        return new Labels(lines);
    }

    /// <summary>The index of a label: exact (case-insensitive), else a unique substring.</summary>
    public int? Find(string label)
    {
        for (int i = 0; i < _names.Length; i++)
            if (string.Equals(_names[i], label, StringComparison.OrdinalIgnoreCase)) return i;
        var matches = Enumerable.Range(0, _names.Length).Where(i => _names[i].Contains(label, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count == 1) return matches[0];
        if (matches.Count > 1)
            throw new SalientException($"class '{label}' is ambiguous: {string.Join(", ", matches.Take(6).Select(i => $"{i} {_names[i]}"))}{(matches.Count > 6 ? ", …" : "")}; give the index or the exact label");
        return null;
    }
}
