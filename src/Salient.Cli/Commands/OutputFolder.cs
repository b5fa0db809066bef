namespace Salient.Cli.Commands;

/// <summary>
/// <c>--out</c> is a folder for every command. Creating it and writing into it fail with one line
/// naming the path and the reason (a file where a folder is expected, no permission, disk full),
/// never a raw .NET message.
/// </summary>
internal static class OutputFolder
{
    /// <summary>Creates the folder (and its parents) or fails with one line.</summary>
    public static string Create(string dir)
    {
        if (File.Exists(dir))
            throw new SalientException($"cannot use '{dir}' as the output folder: it is a file (--out names a folder)");
        for (var d = Path.GetDirectoryName(Path.GetFullPath(dir)); d is not null; d = Path.GetDirectoryName(d))
            if (File.Exists(d)) throw new SalientException($"cannot create the output folder '{dir}': '{d}' is a file, not a folder");
        Guard(dir, () => Directory.CreateDirectory(dir), "create the output folder");
        return dir;
    }

    /// <summary>Runs a write of <paramref name="path"/>; an I/O failure becomes one line naming the path and the reason.</summary>
    public static void Guard(string path, Action write, string what = "write")
    {
        try { write(); }
        catch (UnauthorizedAccessException) { throw new SalientException($"cannot {what} '{path}': permission denied"); }
        catch (IOException e) { throw new SalientException($"cannot {what} '{path}': {Reason(e)}"); }
    }

    /// <summary>A short reason for an I/O error: disk full, read-only file system, a file in the way, else the system's message.</summary>
    internal static string Reason(IOException e)
    {
        int code = e.HResult & 0xFFFF;
        if (code is 28 or 0x70 or 0x27) return "disk full (no space left on the device)";
        if (code is 30) return "read-only file system";
        if (e is DirectoryNotFoundException) return "a folder on its path does not exist or is a file";
        return e.Message.TrimEnd('.');
    }

    /// <summary>True when the folder exists and holds any file or folder.</summary>
    public static bool IsNonEmpty(string dir) => Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any();
}
