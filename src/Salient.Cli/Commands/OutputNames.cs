namespace Salient.Cli.Commands;

/// <summary>
/// The output stem of each input: its file name without the extension, as it is (only characters
/// that file systems refuse become '_'), so <c>1_both.png</c> gives <c>1_both_…</c>. Inputs that
/// share a stem (<c>a/x.png</c>, <c>b/x.png</c>, <c>x.jpg</c>) get <c>x</c>, <c>x~2</c>, <c>x~3</c>… in
/// input order, never colliding with another input's stem (compared case-insensitively, as on Windows and macOS).
/// </summary>
internal static class OutputNames
{
    public static IReadOnlyDictionary<string, string> Stems(IReadOnlyList<string> inputs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var natural = inputs.Distinct(StringComparer.Ordinal).Select(i => (Input: i, Stem: Clean(Path.GetFileNameWithoutExtension(i)))).ToList();
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var reserved = new HashSet<string>(natural.Select(n => n.Stem), StringComparer.OrdinalIgnoreCase);
        foreach (var (input, stem) in natural)
        {
            string s = stem;
            for (int k = 2; taken.Contains(s) || (s != stem && reserved.Contains(s)); k++) s = $"{stem}~{k}";
            taken.Add(s);
            result[input] = s;
        }
        return result;
    }

    private static string Clean(string stem)
    {
        var invalid = Path.GetInvalidFileNameChars().Concat(['<', '>', ':', '"', '\\', '|', '?', '*']).ToHashSet();
        var s = new string(stem.Select(c => invalid.Contains(c) || char.IsControl(c) ? '_' : c).ToArray()).Trim();
        return s.Length == 0 ? "image" : s.Length > 80 ? s[..80] : s;
    }
}
