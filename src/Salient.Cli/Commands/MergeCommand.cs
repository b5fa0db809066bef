using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Salient.Cli.Commands;

/// <summary>
/// <c>salient merge OUT</c>: joins the manifests of <c>OUT/shard-I-of-N/</c> (written by
/// <c>explain --shard I/N</c>) into <c>OUT/results.jsonl</c>, ordered by input key, after checking that
/// every shard 0..N−1 is there, that no input was done by two shards (or twice), that each record
/// lies in the shard its key hashes to, and — with the inputs given again — that no input is missing.
/// Exit code 1 (and no merged manifest) when a check fails; failed images are listed and also exit 1.
/// </summary>
internal static partial class MergeCommand
{
    [GeneratedRegex(@"^shard-(\d+)-of-(\d+)$")]
    private static partial Regex ShardFolder();

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var outDir = new Argument<string>("out") { Description = "the --out folder the shards wrote into" };
        var expect = new Option<string[]>("--inputs") { Description = "the image files/folders the shards were given: check that none is missing", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = true };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "with --inputs: also subfolders (as the shards were run)" };
        var cmd = new Command("merge", "join the manifests of `explain --shard I/N` runs into OUT/results.jsonl, checking nothing is missing or duplicated");
        cmd.Arguments.Add(outDir);
        cmd.Options.Add(expect);
        cmd.Options.Add(recursive);
        cmd.SetAction(p =>
        {
            string dir = p.GetValue(outDir)!;
            if (!Directory.Exists(dir)) throw new SalientException($"'{dir}' is not a folder");
            var shards = Directory.GetDirectories(dir).Select(d => (Dir: d, M: ShardFolder().Match(Path.GetFileName(d)))).Where(x => x.M.Success)
                .Select(x => (x.Dir, I: int.Parse(x.M.Groups[1].Value, CultureInfo.InvariantCulture), N: int.Parse(x.M.Groups[2].Value, CultureInfo.InvariantCulture))).ToList();
            if (shards.Count == 0) throw new SalientException($"no shard-I-of-N folders in '{dir}' (written by `salient explain --shard I/N --out {dir}`)");
            var counts = shards.Select(s => s.N).Distinct().ToList();
            if (counts.Count > 1) throw new SalientException($"'{dir}' mixes shard counts {string.Join(", ", counts)}; merge the folders of one run");
            int n = counts[0];
            var problems = new List<string>();
            var missingShards = Enumerable.Range(0, n).Except(shards.Select(s => s.I)).ToList();
            if (missingShards.Count > 0) problems.Add($"shard{(missingShards.Count == 1 ? "" : "s")} {string.Join(", ", missingShards)} of {n} missing (no shard-I-of-{n} folder)");
            var records = new List<(string Key, int Shard, int Line, string Text)>();
            var owner = new Dictionary<string, int>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var failed = new List<string>();
            foreach (var (sdir, i, _) in shards.OrderBy(s => s.I))
            {
                string manifest = Path.Combine(sdir, ExplainOutput.ResultsFile);
                if (!File.Exists(manifest)) { problems.Add($"shard {i}: no {ExplainOutput.ResultsFile} (not started?)"); continue; }
                int line = 0;
                foreach (var text in File.ReadAllLines(manifest))
                {
                    line++;
                    if (text.Trim().Length == 0) continue;
                    JsonElement r;
                    try { r = JsonDocument.Parse(text).RootElement.Clone(); }
                    catch (JsonException) { problems.Add($"shard {i}: line {line} of {ExplainOutput.ResultsFile} is cut (a killed worker: rerun it with --skip-existing)"); continue; }
                    string key = r.TryGetProperty("key", out var k) && k.GetString() is { } ks ? ks : throw new SalientException($"{manifest} line {line} has no \"key\": it was not written by `explain --shard`");
                    if (!Sharding.Owns(new Sharding.Shard(i, n), key)) problems.Add($"'{key}' is in shard {i} but hashes to shard {Sharding.Hash(key) % (ulong)n}");
                    if (owner.TryGetValue(key, out int other) && other != i) problems.Add($"'{key}' was done by shards {other} and {i}");
                    owner[key] = i;
                    string id = string.Join("\u0001", key, Str(r, "method"), Str(r, "layer"), r.TryGetProperty("class", out var c) ? c.ToString() : "", Str(r, "status"));
                    if (!seen.Add(id)) problems.Add($"'{key}' ({Str(r, "method")}, class {(r.TryGetProperty("class", out var c2) ? c2.ToString() : "-")}) recorded twice");
                    if (Str(r, "status") == "error") failed.Add($"{key}: {Str(r, "error")}");
                    records.Add((key, i, line, text));
                }
            }
            if (p.GetValue(expect) is { Length: > 0 } inputs)
            {
                var files = CommonOptions.ExpandImages(inputs, "merge --inputs", p.GetValue(recursive));
                var keys = Sharding.Keys(inputs, files);
                var missing = files.Select(f => keys[f]).Where(k => !owner.ContainsKey(k)).Distinct().ToList();
                if (missing.Count > 0) problems.Add($"{missing.Count} input{(missing.Count == 1 ? "" : "s")} missing: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", …" : "")}");
                var extra = owner.Keys.Except(files.Select(f => keys[f])).ToList();
                if (extra.Count > 0) problems.Add($"{extra.Count} record key{(extra.Count == 1 ? "" : "s")} not among the inputs: {string.Join(", ", extra.Take(10))}");
            }
            if (problems.Count > 0)
            {
                foreach (var line in problems) stderr.WriteLine($"error: {line}");
                stderr.WriteLine($"not merged: {problems.Count} problem{(problems.Count == 1 ? "" : "s")}");
                return 1;
            }
            string merged = Path.Combine(dir, ExplainOutput.ResultsFile);
            var sb = new StringBuilder();
            foreach (var r in records.OrderBy(r => r.Key, StringComparer.Ordinal).ThenBy(r => r.Line)) sb.Append(r.Text).Append('\n');
            string tmp = Path.Combine(dir, $".{ExplainOutput.ResultsFile}.{Environment.ProcessId}.partial");
            OutputFolder.Guard(merged, () => { File.WriteAllText(tmp, sb.ToString(), new UTF8Encoding(false)); File.Move(tmp, merged, overwrite: true); });
            stdout.WriteLine($"merged {n} shard{(n == 1 ? "" : "s")}: {owner.Count} inputs, {records.Count} records → {merged}");
            if (failed.Count > 0)
            {
                stderr.WriteLine($"{failed.Count} failed image{(failed.Count == 1 ? "" : "s")}:");
                foreach (var f in failed) stderr.WriteLine($"  {f}");
                return 1;
            }
            return 0;
        });
        return cmd;
    }

    private static string Str(JsonElement r, string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
}
