using Xunit;
using Xunit.Abstractions;

namespace Salient.Tests.Architecture;

/// <summary>The library's public surface stays small: what we would have to keep stable.</summary>
public class PublicApiTests(ITestOutputHelper output)
{
    [Fact]
    public void At_most_sixty_public_types()
    {
        // Compiler-generated markers (C# 14 extension blocks) are not names anyone writes.
        var types = typeof(SalientException).Assembly.GetExportedTypes().Where(t => !t.FullName!.Contains('<')).OrderBy(t => t.FullName).ToList();
        foreach (var t in types) output.WriteLine(t.FullName);
        Assert.True(types.Count <= 60, $"{types.Count} public types:\n{string.Join("\n", types.Select(t => t.FullName))}");
    }
}
