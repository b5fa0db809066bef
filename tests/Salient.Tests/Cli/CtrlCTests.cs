using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Salient.Tests.Cli;

/// <summary>Ctrl-C on the real binary: a folder run stops cleanly, keeps what finished, exits 130 and leaves a valid manifest.</summary>
public class CtrlCTests
{
    private static string CliDll => Path.Combine(TestPaths.RepoRoot, "src", "Salient.Cli", "bin", "Release", "net10.0", "Salient.Cli.dll");

    [Fact]
    public async Task Sigint_during_a_folder_run_keeps_what_finished_and_exits_130()
    {
        Assert.True(File.Exists(CliDll), $"build the CLI first: {CliDll}");
        var photos = CliRunner.TempDir();
        for (int i = 0; i < 8; i++) File.Copy(TestPaths.SharedImage("both.png"), Path.Combine(photos, $"p{i}.png"));
        var outDir = Path.Combine(CliRunner.TempDir(), "out");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "exec", CliDll, "explain", photos, "--method", "occlusion", "--stride", "8", "--threads", "1", "--out", outDir }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderrTask = p.StandardError.ReadToEndAsync();
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        string manifest = Path.Combine(outDir, "results.jsonl");
        var clock = Stopwatch.StartNew();
        // Wait for the first finished image, then press Ctrl-C.
        while (clock.Elapsed < TimeSpan.FromSeconds(90) && !p.HasExited && !(File.Exists(manifest) && ReadShared(manifest).Any(l => l.Length > 0)))
            await Task.Delay(100);
        if (p.HasExited) Assert.Fail($"the run ended before it could be interrupted: {await stderrTask}");
        using (var kill = Process.Start("kill", ["-INT", p.Id.ToString()])) kill.WaitForExit();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            await p.WaitForExitAsync(cts.Token);
        Assert.Equal(130, p.ExitCode);
        Assert.Contains("interrupted", await stderrTask + await stdoutTask);
        var lines = File.ReadAllLines(manifest).Where(l => l.Length > 0).ToList();
        Assert.InRange(lines.Count, 1, 7);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            // every file the manifest names is there
            foreach (var f in doc.RootElement.GetProperty("files").EnumerateObject())
                if (f.Value.ValueKind == JsonValueKind.String) Assert.True(File.Exists(f.Value.GetString()), f.Value.GetString());
        }
    }

    private static string[] ReadShared(string path)
    {
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(s).ReadToEnd().Split('\n');
        }
        catch (IOException) { return []; }
    }
}
