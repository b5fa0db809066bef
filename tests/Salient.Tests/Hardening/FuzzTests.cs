using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Hardening;

/// <summary>
/// Standing protection (issue 15): mutated fixture models and images fail only with one-line
/// SalientExceptions — never another exception type, a crash or a hang. Bounded and seeded for CI
/// (default 3000 cases or 45 s); <c>tools/fuzz.sh</c> runs it longer through the environment variables
/// SALIENT_FUZZ_CASES, SALIENT_FUZZ_SECONDS and SALIENT_FUZZ_SEED.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    private static int Env(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int v) && v > 0 ? v : fallback;

    [Fact]
    public void Mutated_models_and_images_fail_only_with_one_line_salient_exceptions()
    {
        int cases = Env("SALIENT_FUZZ_CASES", 3000);
        int seconds = Env("SALIENT_FUZZ_SECONDS", 45);
        int seed = Env("SALIENT_FUZZ_SEED", 15);
        var report = new Fuzzer().Run(cases, TimeSpan.FromSeconds(seconds), seed, TimeSpan.FromSeconds(20));
        var summary = $"fuzz seed {seed}: {report.Cases} cases in {report.Elapsed.TotalSeconds:0.0} s: {report.Ok} ran, {report.Refused} refused " +
                      $"(one-line SalientException), {report.Hangs} hangs; exceptions by type: " +
                      string.Join(", ", report.ExceptionsByType.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}"));
        output.WriteLine(summary);
        Console.WriteLine(summary);
        foreach (var p in report.Problems.Take(20)) output.WriteLine(p);
        foreach (var (m, n) in report.Messages.OrderByDescending(kv => kv.Value).Take(25)) output.WriteLine($"{n,6}  {m}");
        Assert.True(report.Problems.Count == 0, $"{report.Problems.Count} problems; {summary}; first: {string.Join(" | ", report.Problems.Take(5))}");
        Assert.True(report.Cases >= 200, summary);
    }
}
