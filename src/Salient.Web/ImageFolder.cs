namespace Salient.Web;

/// <summary>
/// The images of the `--images` folder (and its subfolders), by their path relative to it: the only
/// names a client can ask for, so no request reads a file outside the list.
/// </summary>
internal sealed class ImageFolder
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif" };
    private readonly Dictionary<string, string> _byName;

    public ImageFolder(string? root, int max)
    {
        Root = root is null ? null : Path.GetFullPath(root);
        if (Root is not null && !Directory.Exists(Root)) throw new SalientException($"image folder '{root}' does not exist");
        Names = Root is null ? [] : Directory.EnumerateFiles(Root, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden })
            .Where(f => Extensions.Contains(Path.GetExtension(f)))
            .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal).Take(max).ToList();
        _byName = Names.ToDictionary(n => n, n => Path.Combine(Root!, n), StringComparer.Ordinal);
    }

    public string? Root { get; }

    public IReadOnlyList<string> Names { get; }

    public bool Available => Root is not null;

    /// <summary>The file of a listed name; anything else is a 404.</summary>
    public string Resolve(string name)
    {
        if (!Available) throw new ApiException(404, "the server has no image folder (start it with --images FOLDER)");
        return _byName.TryGetValue(name, out var path) ? path : throw new ApiException(404, $"no image '{name}' in the server's folder");
    }
}
