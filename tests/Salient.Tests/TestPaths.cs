using Salient.Cli;
using System.Text.Json;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Tests;

/// <summary>Where the shared data and committed fixtures are, and model loading for tests (one ORT thread).</summary>
public static class TestPaths
{
    public static string Shared => DefaultAssets.FindSharedFolder()
        ?? throw new InvalidOperationException("the shared/ folder beside the repository is missing; tests need ../shared (models, images)");

    public static string SharedModel(string name) => Path.Combine(Shared, "models", name);
    public static string SharedImage(string name) => Path.Combine(Shared, "images", name);
    /// <summary>ML.NET's ResNet18 featurizer (CNTK, opset 8), restored by the test project as a NuGet package download.</summary>
    public static string CntkResNet18
    {
        get
        {
            var path = typeof(TestPaths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
                .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "CntkResNet18").Value!;
            return File.Exists(path) ? path
                : throw new InvalidOperationException($"{path} is missing: the test project's restore downloads the package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1");
        }
    }

    /// <summary>The repository root (the folder above the test binary holding Salient.sln).</summary>
    public static string RepoRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Salient.sln"))) return d.FullName;
            throw new DirectoryNotFoundException("repository root (Salient.sln) not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static readonly RuntimeOptions Runtime = new() { IntraOpThreads = 1 };

    public static SalientModel Load(string path, ModelOptions? options = null) =>
        SalientModel.Load(path, (options ?? new ModelOptions()) with { Runtime = Runtime });

    public static SalientModel LoadDefault() =>
        Load(SharedModel("mobilenetv2-fp32.onnx"), DefaultAssets.Apply(new ModelOptions()));

    public static JsonElement Reference => JsonDocument.Parse(File.ReadAllText(Path.Combine(Shared, "models", "reference", "both_reference.json"))).RootElement;

    public static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    public static float[] Grid(JsonElement e) => e.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();

    /// <summary>x[i] = 0.9·sin(0.37·i): the deterministic input of tools/make_fixtures.py.</summary>
    public static float[] FormulaInput(int n) => Enumerable.Range(0, n).Select(i => (float)(0.9 * Math.Sin(0.37 * i))).ToArray();
}

/// <summary>Models shared by the tests of a class (loading MobileNetV2 once).</summary>
public sealed class MobileNetFixture : IDisposable
{
    public SalientModel Fp32 { get; } = TestPaths.LoadDefault();
    public SalientModel W8 { get; } = TestPaths.Load(TestPaths.SharedModel("mobilenetv2-w8.onnx"), DefaultAssets.Apply(new ModelOptions()));

    public void Dispose()
    {
        Fp32.Dispose();
        W8.Dispose();
    }
}
