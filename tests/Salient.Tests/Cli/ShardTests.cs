using System.Diagnostics;
using System.Text.Json;
using Salient.Cli.Commands;
using Xunit;

namespace Salient.Tests.Cli;

/// <summary>
/// `explain --shard I/N` + `salient merge`: three worker processes started together on one folder (one
/// killed midway and restarted with --skip-existing) end with the same merged manifest and byte-identical
/// files as a single-process run; merge refuses missing shards, missing inputs and duplicates.
/// </summary>
public class ShardTests
{
    private static string Inputs(string root)
    {
        string input = Path.Combine(root, "in");
        foreach (var sub in new[] { "a", "b", "c" })
        {
            Directory.CreateDirectory(Path.Combine(input, sub));
            foreach (var img in new[] { "both.png", "dogs.png", "horses.jpg", "puppies.jpg" })
                File.Copy(TestPaths.SharedImage(img), Path.Combine(input, sub, img));
        }
        return input;
    }

    private static Process Worker(string input, string output, int shard, int count, bool resume, System.Text.StringBuilder? log = null)
    {
        var args = new List<string> { "explain", input, "-r", "--method", "gradcam", "--raw", "--threads", "1", "--shard", $"{shard}/{count}", "--out", output };
        if (resume) args.Add("--skip-existing");
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "Salient.Cli.exe" : "Salient.Cli"), args)
        { RedirectStandardError = true, RedirectStandardOutput = true };
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { if (log is not null && e.Data is not null) lock (log) log.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (log is not null && e.Data is not null) lock (log) log.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static List<JsonElement> Manifest(string path) =>
        File.ReadAllLines(path).Where(l => l.Trim().Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Fact]
    public void Shard_assignment_is_a_partition_and_stable()
    {
        var keys = Enumerable.Range(0, 1000).Select(i => $"d{i % 7}/img{i}.png").ToList();
        foreach (int n in new[] { 1, 3, 8 })
            foreach (var k in keys)
                Assert.Equal(1, Enumerable.Range(0, n).Count(i => Sharding.Owns(new Sharding.Shard(i, n), k)));
        Assert.Equal(0xaf63dc4c8601ec8cUL, Sharding.Hash("a"));   // FNV-1a 64 of "a": the assignment never changes between versions
        Assert.Throws<SalientException>(() => Sharding.Parse("3/3"));
        Assert.Throws<SalientException>(() => Sharding.Parse("-1/3"));
    }

    [Fact]
    public void Three_workers_one_killed_and_restarted_equal_a_single_run()
    {
        string root = CliRunner.TempDir();
        try
        {
            string input = Inputs(root), single = Path.Combine(root, "single"), sharded = Path.Combine(root, "sharded");
            var one = CliRunner.Run("explain", input, "-r", "--method", "gradcam", "--raw", "--out", single);
            Assert.True(one.ExitCode == 0, one.Err);

            var workers = Enumerable.Range(0, 3).Select(i => Worker(input, sharded, i, 3, resume: false)).ToArray();
            // Kill worker 0 once it has written its first record (or as it finishes), then restart it.
            string manifest0 = Path.Combine(sharded, "shard-0-of-3", ExplainOutput.ResultsFile);
            var sw = Stopwatch.StartNew();
            while (!workers[0].HasExited && sw.Elapsed < TimeSpan.FromSeconds(60)
                   && !(File.Exists(manifest0) && new FileInfo(manifest0).Length > 0)) Thread.Sleep(5);
            bool killedMidway = !workers[0].HasExited;
            if (killedMidway) workers[0].Kill(entireProcessTree: true);
            workers[0].WaitForExit();
            var log = new System.Text.StringBuilder();
            var restarted = Worker(input, sharded, 0, 3, resume: true, log);
            foreach (var w in workers.Skip(1).Append(restarted))
            {
                Assert.True(w.WaitForExit(180_000), "a worker did not finish");
                Assert.Equal(0, w.ExitCode);
            }
            Assert.Empty(Directory.EnumerateFiles(sharded, "*.partial", SearchOption.AllDirectories));
            Assert.True(killedMidway, "worker 0 finished before it could be killed");
            lock (log) Assert.Matches(@"skipping \d+ images? finished by an earlier run", log.ToString());

            var merge = CliRunner.Run("merge", sharded, "--inputs", input, "-r");
            Assert.True(merge.ExitCode == 0, merge.Err);
            var merged = Manifest(Path.Combine(sharded, ExplainOutput.ResultsFile));
            var reference = Manifest(Path.Combine(single, ExplainOutput.ResultsFile));
            string Id(JsonElement r, string key) => $"{key}|{r.GetProperty("method")}|{r.GetProperty("class")}|{Path.GetFileName(r.GetProperty("files").GetProperty("panel").GetString())}";
            var expected = reference.Select(r => Id(r, Path.GetRelativePath(input, r.GetProperty("image").GetString()!).Replace('\\', '/'))).Order().ToList();
            var got = merged.Select(r => Id(r, r.GetProperty("key").GetString()!)).Order().ToList();
            Assert.Equal(12, expected.Count);
            Assert.Equal(expected, got);
            foreach (var r in merged)
                foreach (var f in r.GetProperty("files").EnumerateObject().Where(f => f.Value.ValueKind == JsonValueKind.String))
                {
                    string path = f.Value.GetString()!;
                    Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(single, Path.GetFileName(path)))), $"{path} differs from the single run's");
                }

            // Merge refuses a missing input, a duplicate, a missing shard.
            var line = File.ReadAllLines(Path.Combine(sharded, "shard-1-of-3", ExplainOutput.ResultsFile)).First();
            File.AppendAllLines(Path.Combine(sharded, "shard-1-of-3", ExplainOutput.ResultsFile), [line]);
            var dup = CliRunner.Run("merge", sharded);
            Assert.Equal(1, dup.ExitCode);
            Assert.Contains("twice", dup.Err);
            File.WriteAllLines(Path.Combine(sharded, "shard-1-of-3", ExplainOutput.ResultsFile), []);
            var missing = CliRunner.Run("merge", sharded, "--inputs", input, "-r");
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("missing", missing.Err);
            Directory.Delete(Path.Combine(sharded, "shard-2-of-3"), true);
            Assert.Contains("shard 2 of 3 missing", CliRunner.Run("merge", sharded).Err);
        }
        finally { Directory.Delete(root, true); }
    }
}
