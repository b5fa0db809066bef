using Salient.Models;

namespace Salient.Web;

/// <summary>One model offered by the explorer, loaded once and shared by every request (ORT sessions allow concurrent runs).</summary>
internal sealed record ModelEntry(string Name, SalientModel Model);

/// <summary>
/// The models of a server: each `--model` file, every *.onnx of a `--model` folder, or the built-in
/// MobileNetV2 when none is given. Loaded at start, so a bad model is an error before the server listens.
/// </summary>
internal sealed class ModelCatalog : IDisposable
{
    private readonly List<ModelEntry> _entries = [];

    public ModelCatalog(IReadOnlyList<string> sources, ModelOptions options)
    {
        try
        {
            if (sources.Count == 0)
            {
                _entries.Add(new ModelEntry("builtin-mobilenetv2", SalientModel.LoadBuiltIn(options)));
                return;
            }
            foreach (var file in Expand(sources))
            {
                string name = Path.GetFileNameWithoutExtension(file);
                for (int k = 2; _entries.Any(e => e.Name == name); k++) name = $"{Path.GetFileNameWithoutExtension(file)}~{k}";
                _entries.Add(new ModelEntry(name, SalientModel.Load(file, options)));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Model files: files as given, folders as their *.onnx files (sorted by name).</summary>
    internal static List<string> Expand(IReadOnlyList<string> sources)
    {
        var files = new List<string>();
        foreach (var s in sources)
        {
            if (Directory.Exists(s))
            {
                var found = Directory.GetFiles(s, "*.onnx").OrderBy(f => f, StringComparer.Ordinal).ToList();
                if (found.Count == 0) throw new SalientException($"model folder '{s}' has no .onnx files");
                files.AddRange(found);
            }
            else if (File.Exists(s)) files.Add(s);
            else throw new SalientException($"model '{s}' does not exist");
        }
        return files;
    }

    public IReadOnlyList<ModelEntry> Entries => _entries;

    public ModelEntry Default => _entries[0];

    /// <summary>The model called <paramref name="name"/> (null or empty: the first one); an unknown name is a 404 naming the closest.</summary>
    public ModelEntry Get(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return Default;
        var e = _entries.FirstOrDefault(x => x.Name == name);
        if (e is not null) return e;
        var near = Core.Names.Suggest(name, _entries.Select(x => x.Name));
        throw new ApiException(404, near is not null ? $"unknown model '{name}'; did you mean '{near}'?" : $"unknown model '{name}'; the models are {string.Join(", ", _entries.Select(x => x.Name))}");
    }

    public void Dispose()
    {
        foreach (var e in _entries) e.Model.Dispose();
        _entries.Clear();
    }
}
