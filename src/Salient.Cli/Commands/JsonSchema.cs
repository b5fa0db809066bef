namespace Salient.Cli.Commands;

/// <summary>The version of every JSON object the CLI writes (stdout with --json, results.jsonl, summary.json); docs/json.md describes it.</summary>
internal static class JsonSchema
{
    /// <summary>Bumped on any incompatible change (a field removed or its meaning changed); new fields do not bump it.</summary>
    public const int Version = 1;
}
