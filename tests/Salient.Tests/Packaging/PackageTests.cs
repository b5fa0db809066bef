using System.Xml.Linq;
using Salient.Models;
using Xunit;

namespace Salient.Tests.Packaging;

/// <summary>
/// What the packages promise, checked without packing (a pack takes ~40 s): one version, the metadata
/// NuGet shows, native assets only in the tool, the built-in model and its notice. The pack itself and
/// its sizes: docs/packaging.md.
/// </summary>
public class PackageTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Salient.sln"))) return d.FullName;
        throw new InvalidOperationException("Salient.sln not found above the test binaries");
    }

    private static XDocument Project(string relative) => XDocument.Load(Path.Combine(Root, relative));

    private static IEnumerable<string> Properties(XDocument d, string name) => d.Descendants(name).Select(e => e.Value);

    [Fact]
    public void One_version_and_the_metadata_NuGet_shows_for_both_packages()
    {
        var shared = Project("Directory.Build.props");
        Assert.Matches(@"^\d+\.\d+\.\d+$", Assert.Single(Properties(shared, "Version")));
        foreach (var name in new[] { "Authors", "PackageLicenseExpression", "RepositoryUrl", "PackageTags", "PackageReadmeFile" })
            Assert.False(string.IsNullOrWhiteSpace(Assert.Single(Properties(shared, name))), name);
        foreach (var project in new[] { "src/Salient/Salient.csproj", "src/Salient.Cli/Salient.Cli.csproj" })
        {
            var d = Project(project);
            Assert.Empty(Properties(d, "Version"));         // the one version is Directory.Build.props'
            Assert.True(Properties(d, "Description").Single().Length > 80, project);
            Assert.Contains(d.Descendants("None"), n => (string?)n.Attribute("Include") == "../../README.md" && (string?)n.Attribute("Pack") == "true");
            Assert.Contains(d.Descendants("None"), n => ((string?)n.Attribute("Include"))!.EndsWith("THIRD-PARTY-NOTICES.md") && (string?)n.Attribute("Pack") == "true");
        }
        Assert.Equal(typeof(Salient.Cli.Program).Assembly.GetName().Version, typeof(SalientModel).Assembly.GetName().Version);
    }

    [Fact]
    public void Native_assets_belong_to_the_tool_which_is_packed_per_platform()
    {
        var library = Project("src/Salient/Salient.csproj");
        Assert.DoesNotContain(library.Descendants("PackageReference"), r => ((string?)r.Attribute("Include"))!.Contains("NativeAssets"));
        var tool = Project("src/Salient.Cli/Salient.Cli.csproj");
        Assert.Contains(tool.Descendants("PackageReference"), r => (string?)r.Attribute("Include") == "SkiaSharp.NativeAssets.Linux.NoDependencies");
        var rids = Assert.Single(Properties(tool, "RuntimeIdentifiers")).Split(';');
        Assert.Contains("linux-x64", rids);
        Assert.Contains("win-x64", rids);
        Assert.Contains("osx-arm64", rids);
        Assert.Equal("false", Assert.Single(Properties(tool, "SelfContained")));
        Assert.Equal("salient", Assert.Single(Properties(tool, "ToolCommandName")));
        Assert.Contains(tool.Descendants("Target"), t => (string?)t.Attribute("Name") == "DropNativePdbs");
    }

    [Fact]
    public void The_built_in_model_is_the_shared_w8_model_with_its_labels_and_a_notice()
    {
        var asm = typeof(SalientModel).Assembly;
        using (var s = asm.GetManifestResourceStream("Salient.DefaultModel.mobilenetv2-w8.onnx")!)
        {
            var bytes = new byte[s.Length];
            s.ReadExactly(bytes);
            Assert.Equal(File.ReadAllBytes(TestPaths.SharedModel("mobilenetv2-w8.onnx")), bytes);
        }
        var notice = File.ReadAllText(Path.Combine(Root, "src/Salient/DefaultModel/THIRD-PARTY-NOTICES.md"));
        Assert.Contains("Apache License 2.0", notice);
        Assert.Contains("ONNX Model Zoo", notice);
        Assert.Contains("BSD 3-Clause", notice);

        using var builtIn = SalientModel.LoadBuiltIn(new ModelOptions { Runtime = TestPaths.Runtime });
        Assert.Equal(SalientModel.BuiltInModelPath, builtIn.Path);
        Assert.Equal(1000, builtIn.Labels!.Count);
        Assert.Equal("tabby", builtIn.Labels[281]);
        Assert.Equal("features.18", builtIn.DefaultLayerName);
        using var fp32 = TestPaths.LoadDefault();
        var image = fp32.LoadImage(TestPaths.SharedImage("both.png"));
        var a = builtIn.Predict(image, 5);
        var b = fp32.Predict(image, 5);
        Assert.Equal(b.Select(p => p.ClassIndex), a.Select(p => p.ClassIndex));
        for (int i = 0; i < a.Count; i++) Assert.Equal(b[i].Logit, a[i].Logit, 3);
    }
}
