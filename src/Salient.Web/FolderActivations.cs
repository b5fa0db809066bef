using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Salient.Imaging;

namespace Salient.Web;

/// <summary>Every channel's mean activation of one layer over the images of the folder (the images that failed to decode left out).</summary>
internal sealed record FolderTable(string[] Names, float[][] Means, int Failed)
{
    public int Count => Names.Length;

    /// <summary>The names of the <paramref name="count"/> images with the highest mean activation of <paramref name="channel"/> (ties: by name).</summary>
    public IReadOnlyList<string> Top(int channel, int count) =>
        Enumerable.Range(0, Names.Length).OrderByDescending(i => Means[i][channel]).ThenBy(i => Names[i], StringComparer.Ordinal)
            .Take(count).Select(i => Names[i]).ToList();
}

/// <summary>
/// A channel's top images: the folder's activations of a layer, computed lazily (in batches through the
/// run gate, so pages stay responsive) once per model and layer, kept in memory and cached on disk
/// (<c>CACHE/activations/MODEL-KEY/LAYER-FOLDERHASH.json</c>; the hash covers the names, sizes and times of the images).
/// </summary>
internal sealed class FolderActivations(Explorer explorer)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<FolderTable>>> _tables = new();

    public async Task<FolderTable> Get(ModelEntry entry, string layer, CancellationToken ct)
    {
        string key = entry.Name + "\n" + layer;
        var lazy = _tables.GetOrAdd(key, _ => new Lazy<Task<FolderTable>>(() => Task.Run(() => Compute(entry, layer))));
        try
        {
            return await lazy.Value.WaitAsync(ct);
        }
        catch (Exception) when (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
        {
            _tables.TryRemove(new KeyValuePair<string, Lazy<Task<FolderTable>>>(key, lazy)); // a later request tries again
            throw;
        }
    }

    private async Task<FolderTable> Compute(ModelEntry entry, string layer)
    {
        var folder = explorer.Folder;
        string file = Path.Combine(explorer.Options.CacheFolder, "activations", VisualizationJobs.ModelKey(entry), $"{VisualizationJobs.Safe(layer)}-{FolderHash(folder)}.json");
        if (File.Exists(file))
        {
            try
            {
                var cached = JsonSerializer.Deserialize<FolderTable>(await File.ReadAllTextAsync(file));
                if (cached is not null && cached.Names.Length == cached.Means.Length) return cached;
            }
            catch (JsonException) { } // a damaged cache file is recomputed
        }
        var model = entry.Model;
        var names = new List<string>();
        var means = new List<float[]>();
        int failed = 0;
        const int Batch = 8;
        for (int first = 0; first < folder.Names.Count; first += Batch)
        {
            explorer.Stopping.ThrowIfCancellationRequested();
            var chunk = folder.Names.Skip(first).Take(Batch).ToList();
            var (ok, acts, bad) = await explorer.Run(() =>
            {
                var good = new List<(string Name, RgbImage Image)>();
                int errors = 0;
                foreach (var n in chunk)
                {
                    try { good.Add((n, model.LoadImage(folder.Resolve(n)))); }
                    catch (SalientException) { errors++; }
                }
                var result = good.Count == 0 ? [] : Salient.Visualization.Activations.Compute(model, good.Select(g => g.Image).ToList(), layer);
                return (good.Select(g => g.Name).ToList(), result, errors);
            }, explorer.Stopping);
            names.AddRange(ok);
            means.AddRange(acts.Select(a => a.Means));
            failed += bad;
        }
        var table = new FolderTable(names.ToArray(), means.ToArray(), failed);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            string temp = file + "." + Guid.NewGuid().ToString("N") + ".tmp";
            await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(table));
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            explorer.Log.WriteLine($"warning: could not cache folder activations in '{file}': {Explorer.OneLine(e.Message)}");
        }
        return table;
    }

    private static string FolderHash(ImageFolder folder)
    {
        var sb = new StringBuilder();
        foreach (var n in folder.Names)
        {
            var info = new FileInfo(folder.Resolve(n));
            sb.Append(n).Append('\t').Append(info.Exists ? info.Length : -1).Append('\t').Append(info.Exists ? info.LastWriteTimeUtc.Ticks : 0).Append('\n');
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..16].ToLowerInvariant();
    }
}
