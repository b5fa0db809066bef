using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace Salient.Tests.Cli;

/// <summary>
/// The cluster recipes in deploy/ (no cluster here): the Kubernetes Indexed Job parses as strict YAML
/// (the npm `yaml` package, installed by .ci/run) with the fields an Indexed Job needs and a salient
/// command line our CLI accepts with JOB_COMPLETION_INDEX/completions as --shard; the Slurm array script
/// passes `bash -n` and maps SLURM_ARRAY_TASK_ID/COUNT to --shard; the Dockerfile is well-formed.
/// </summary>
public partial class DeployRecipeTests
{
    private static string Deploy(params string[] parts) => Path.Combine([TestPaths.RepoRoot, "deploy", .. parts]);

    private static (int Code, string Out, string Err) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit(60_000);
        return (p.ExitCode, stdout, err.Result);
    }

    /// <summary>The CLI parses <paramref name="tokens"/> (a salient command line) without errors.</summary>
    private static void AssertCliAccepts(IReadOnlyList<string> tokens)
    {
        var parse = Salient.Cli.Program.BuildRoot(TextWriter.Null, TextWriter.Null).Parse(tokens.ToArray());
        Assert.True(parse.Errors.Count == 0, string.Join("; ", parse.Errors.Select(e => e.Message)) + " in: " + string.Join(" ", tokens));
    }

    [GeneratedRegex("\"[^\"]*\"|\\S+")]
    private static partial Regex Token();

    private static List<string> Tokens(string line) => Token().Matches(line).Select(m => m.Value.Trim('"')).ToList();

    [Fact]
    public void Kubernetes_indexed_job_is_valid_yaml_and_maps_the_index_to_shard()
    {
        string nodeModules = Path.Combine(TestPaths.RepoRoot, "tests", "node", "node_modules");
        Assert.True(Directory.Exists(Path.Combine(nodeModules, "yaml")), "run `npm ci --prefix tests/node` (.ci/run does) before `dotnet test`");
        var (code, stdout, stderr) = Run("node", Path.Combine(TestPaths.RepoRoot, "tests", "node", "parse-yaml.js"), Deploy("k8s", "salient-indexed-job.yaml"));
        Assert.True(code == 0, stderr);
        var job = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Single();
        Assert.Equal("batch/v1", job.GetProperty("apiVersion").GetString());
        Assert.Equal("Job", job.GetProperty("kind").GetString());
        var spec = job.GetProperty("spec");
        Assert.Equal("Indexed", spec.GetProperty("completionMode").GetString());
        int completions = spec.GetProperty("completions").GetInt32();
        var pod = spec.GetProperty("template").GetProperty("spec");
        Assert.Equal("Never", pod.GetProperty("restartPolicy").GetString());
        var container = pod.GetProperty("containers").EnumerateArray().Single();
        string script = container.GetProperty("args").EnumerateArray().Single().GetString()!;
        Assert.Contains($"--shard \"${{JOB_COMPLETION_INDEX}}/{completions}\"", script);
        var mounts = container.GetProperty("volumeMounts").EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        var volumes = pod.GetProperty("volumes").EnumerateArray().Select(v => v.GetProperty("name").GetString()).ToList();
        Assert.All(mounts, m => Assert.Contains(m, volumes));
        for (int i = 0; i < completions; i++)
        {
            var tokens = Tokens(script.Replace("${JOB_COMPLETION_INDEX}", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(["exec", "/app/Salient.Cli"], tokens.Take(2));
            AssertCliAccepts(tokens.Skip(2).ToList());
        }
    }

    [Fact]
    public void Slurm_array_script_is_valid_bash_and_maps_the_task_to_shard()
    {
        string script = Deploy("slurm", "salient-array.sh");
        var (code, _, stderr) = Run("bash", "-n", script);
        Assert.True(code == 0, stderr);
        var text = File.ReadAllText(script);
        Assert.Contains("#SBATCH --requeue", text);
        Assert.Contains("index=\"${SLURM_ARRAY_TASK_ID:", text);
        Assert.Contains("count=\"${SLURM_ARRAY_TASK_COUNT:", text);
        string command = text[text.IndexOf("exec salient", StringComparison.Ordinal)..].Replace("\\\n", " ");
        command = command[..command.IndexOf('\n')]
            .Replace("\"$in\"", "photos").Replace("\"$out\"", "out").Replace("\"$index/$count\"", "2/8").Replace("\"${SLURM_CPUS_PER_TASK:-1}\"", "1");
        var tokens = Tokens(command);
        Assert.Equal(["exec", "salient"], tokens.Take(2));
        AssertCliAccepts(tokens.Skip(2).ToList());
    }

    private static readonly HashSet<string> Instructions =
        ["FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"];

    [Fact]
    public void Dockerfile_is_well_formed()
    {
        var lines = new List<string>();
        string pending = "";
        foreach (var raw in File.ReadAllLines(Deploy("Dockerfile")))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0)) continue;
            if (line.EndsWith('\\')) { pending += line[..^1] + " "; continue; }
            lines.Add(pending + line);
            pending = "";
        }
        Assert.Equal("", pending);   // no dangling continuation
        var stages = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        Assert.StartsWith("FROM ", lines[0]);
        foreach (var l in lines)
        {
            string op = l.Split(' ')[0];
            Assert.True(Instructions.Contains(op), $"unknown Dockerfile instruction '{op}' in: {l}");
            var args = l[op.Length..].Trim();
            Assert.False(args.Length == 0, $"{op} without arguments");
            if (op == "FROM" && Regex.Match(args, @"\s+AS\s+(\S+)$", RegexOptions.IgnoreCase) is { Success: true } m) stages.Add(m.Groups[1].Value);
            if (op == "COPY" && Regex.Match(args, @"--from=(\S+)") is { Success: true } from) Assert.Contains(from.Groups[1].Value, stages);
            if (op is "ENTRYPOINT" or "CMD" && args.StartsWith('['))
                Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(args).RootElement.ValueKind);
        }
        Assert.Contains(lines, l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal));
        var publish = lines.Single(l => l.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(TestPaths.RepoRoot, Tokens(publish)[3], "Salient.Cli.csproj")), publish);
    }
}
