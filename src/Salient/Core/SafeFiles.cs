namespace Salient.Core;

/// <summary>
/// Reading input files defensively: only regular files are read (a device, a FIFO or a folder is
/// refused before it is opened), never more bytes than the file's size, and paths are resolved through
/// symbolic links so that "inside this folder" is decided on the file actually opened.
/// </summary>
internal static class SafeFiles
{
    private const int MaxLinks = 40;

    /// <summary>
    /// Reads a whole regular file; <paramref name="what"/> names it in messages ("model file", "image file").
    /// Every failure is a one-line <see cref="SalientException"/>.
    /// </summary>
    public static byte[] ReadRegularFile(string path, string what)
    {
        string real = RequireRegularFile(path, what);
        try
        {
            using var fs = new FileStream(real, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            long length = fs.Length;
            if (length > Array.MaxLength)
                throw new SalientException($"{what} '{path}' is too large ({length} bytes)");
            var bytes = new byte[length];
            int read = 0;
            while (read < bytes.Length)
            {
                int n = fs.Read(bytes, read, bytes.Length - read);
                if (n == 0) break;
                read += n;
            }
            return read == bytes.Length ? bytes : bytes[..read];
        }
        catch (SalientException) { throw; }
        catch (UnauthorizedAccessException) { throw new SalientException($"cannot read {what} '{path}': permission denied"); }
        catch (Exception e) when (e is IOException or NotSupportedException or ArgumentException or OutOfMemoryException)
        { throw new SalientException($"cannot read {what} '{path}': {OneLine(e.Message)}", e); }
    }

    /// <summary>
    /// The real path of an existing regular file (links resolved), or a one-line error: not found, a folder,
    /// or not a regular file (a device, a FIFO, a socket: anything whose size the file system does not know).
    /// </summary>
    public static string RequireRegularFile(string path, string what)
    {
        string real;
        try { real = RealPath(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new SalientException($"cannot read {what} '{path}': {OneLine(e.Message)}", e); }
        if (Directory.Exists(real))
            throw new SalientException($"{what} '{path}' is a directory, not a file");
        if (!File.Exists(real))
            throw new SalientException($"{what} '{path}' not found");
        var info = new FileInfo(real);
        // Character and block devices, FIFOs and sockets report size 0 (and /proc files do too): refuse
        // them before opening — opening a FIFO blocks, reading /dev/zero never ends.
        if (!OperatingSystem.IsWindows() && IsSpecial(real))
            throw new SalientException($"{what} '{path}' is not a regular file (a device, pipe or socket)");
        if (info.Length == 0)
            throw new SalientException($"{what} '{path}' is empty or not a regular file");
        return real;
    }

    private static bool IsSpecial(string real)
    {
        // /dev and /proc hold no regular input files; FIFOs and sockets anywhere report size 0 and are
        // caught by the empty-file rule.
        return real.StartsWith("/dev/", StringComparison.Ordinal) || real.StartsWith("/proc/", StringComparison.Ordinal)
            || real.StartsWith("/sys/", StringComparison.Ordinal);
    }

    /// <summary>
    /// The absolute path with every symbolic link resolved, component by component (as the OS resolves
    /// it: a link first, then any ".." after it). Components that do not exist are kept as written.
    /// </summary>
    public static string RealPath(string path)
    {
        int links = 0;
        return Resolve(Path.Combine(Directory.GetCurrentDirectory(), path), ref links);
    }

    private static string Resolve(string absolute, ref int links)
    {
        string root = Path.GetPathRoot(absolute) ?? "/";
        var parts = absolute[root.Length..].Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        string current = root;
        foreach (var part in parts)
        {
            if (part == ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? root; continue; }
            string next = Path.Combine(current, part);
            string? target = new FileInfo(next).LinkTarget;
            if (target is not null)
            {
                if (++links > MaxLinks)
                    throw new SalientException($"too many symbolic links while resolving '{absolute}'");
                next = Resolve(Path.IsPathRooted(target) ? target : Path.Combine(current, target), ref links);
            }
            current = next;
        }
        return current;
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="folder"/> or lies below it (whole path segments).</summary>
    public static bool IsWithin(string path, string folder)
    {
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        string f = Path.TrimEndingDirectorySeparator(folder);
        if (string.Equals(path, f, comparison)) return true;
        return path.Length > f.Length && path.StartsWith(f, comparison)
            && (path[f.Length] == Path.DirectorySeparatorChar || path[f.Length] == Path.AltDirectorySeparatorChar || f.EndsWith(Path.DirectorySeparatorChar));
    }

    private static string OneLine(string s) => s.Split('\n')[0].Trim();
}
