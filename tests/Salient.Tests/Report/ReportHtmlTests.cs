using System.Text.RegularExpressions;
using Salient.Models;
using Salient.Reporting;
using Salient.Tests.Cli;
using SkiaSharp;
using Xunit;

namespace Salient.Tests.Report;

/// <summary>The HTML page's structure: self-contained, accessible, escaped, with the evaluation table when asked.</summary>
public class ReportHtmlTests
{
    private static readonly string Both = TestPaths.SharedImage("both.png");

    /// <summary>Checks every page must pass: no network reference, alt on every image, every embedded image decodes, labelled sliders.</summary>
    internal static void CheckSelfContained(string html)
    {
        Assert.StartsWith("<!DOCTYPE html>\n<html lang=\"en\">", html);
        Assert.DoesNotMatch(new Regex("(https?:)?//[a-z0-9]", RegexOptions.IgnoreCase), Regex.Replace(html, "data:image/png;base64,[A-Za-z0-9+/=]+", ""));
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain("@import", html);
        Assert.DoesNotContain("src=\"http", html);
        var images = Regex.Matches(html, "<img\\b[^>]*>").Select(m => m.Value).ToList();
        Assert.NotEmpty(images);
        foreach (var img in images)
        {
            Assert.Matches("alt=\"[^\"]{8,}\"", img);
            var src = Regex.Match(img, "src=\"data:image/png;base64,([^\"]+)\"");
            Assert.True(src.Success, img[..Math.Min(120, img.Length)]);
            using var bitmap = SKBitmap.Decode(Convert.FromBase64String(src.Groups[1].Value));
            Assert.NotNull(bitmap);
            Assert.True(bitmap.Width > 0 && bitmap.Height > 0);
        }
        foreach (Match slider in Regex.Matches(html, "<input type=\"range\"[^>]*id=\"([^\"]+)\""))
            Assert.Contains($"<label for=\"{slider.Groups[1].Value}\">", html);
        Assert.Contains("@media print", html);
        Assert.Single(Regex.Matches(html, "<h1>"));
    }

    [Fact]
    public void Report_with_evaluation_is_self_contained_and_escapes_labels()
    {
        var dir = CliRunner.TempDir();
        // A labels file whose top-1 label is hostile markup: it must come out as text.
        var labels = File.ReadAllLines(TestPaths.SharedModel("imagenet_classes.txt"));
        labels[243] = "bull <script>alert(1)</script> & \"mastiff\"";
        string labelsPath = Path.Combine(dir, "labels.txt");
        File.WriteAllLines(labelsPath, labels);
        var r = CliRunner.Run("report", Both, "--method", "gradcam,eigencam", "--labels", labelsPath, "--evaluate", "--metric", "deletion,insertion",
            "--steps", "5", "--threads", "1", "--out", Path.Combine(dir, "out"));
        Assert.True(r.ExitCode == 0, r.Err);
        var html = File.ReadAllText(Path.Combine(dir, "out", "report.html"));
        CheckSelfContained(html);
        Assert.DoesNotContain("<script>alert", html);
        Assert.Contains("bull &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;mastiff&quot;", html);
        Assert.Equal(2, Regex.Matches(html, "<input type=\"range\"").Count);          // gradcam, eigencam
        Assert.Contains("<h2 id=\"metrics-h\">Evaluation</h2>", html);
        Assert.Matches("<th scope=\"row\">gradcam</th><td[^>]*>0\\.\\d{3} \\[", html);    // method × metric cells
        Assert.Contains("deletion ↓ lower is better", html);
        Assert.Contains("features.18", html);                                           // the model summary
        Assert.Contains("salient report ", html);                                       // the command line
        Assert.Contains("ONNX Runtime", html);
    }

    [Fact]
    public void Explain_compare_and_evaluate_write_the_page_with_html()
    {
        var e = CliRunner.TempDir();
        var r = CliRunner.Run("explain", Both, "--method", "gradcam", "--threads", "1", "--out", e, "--html");
        Assert.True(r.ExitCode == 0, r.Err);
        CheckSelfContained(File.ReadAllText(Path.Combine(e, "report.html")));

        var c = CliRunner.TempDir();
        r = CliRunner.Run("compare", Both, "--method", "gradcam,eigencam", "--threads", "1", "--out", c, "--html");
        Assert.True(r.ExitCode == 0, r.Err);
        var html = File.ReadAllText(Path.Combine(c, "report.html"));
        CheckSelfContained(html);
        Assert.Contains("<h3>Agreement</h3>", html);
        Assert.Contains("Spearman ρ", html);

        var v = CliRunner.TempDir();
        r = CliRunner.Run("evaluate", Both, "--method", "gradcam,random", "--metric", "deletion", "--steps", "5", "--threads", "1", "--out", v, "--html");
        Assert.True(r.ExitCode == 0, r.Err);
        html = File.ReadAllText(Path.Combine(v, "report.html"));
        CheckSelfContained(html);
        Assert.Contains("<th scope=\"row\">random</th>", html);

        // An earlier page is kept unless --force.
        r = CliRunner.Run("report", Both, "--method", "gradcam", "--threads", "1", "--out", e);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("already holds report.html", Assert.Single(r.ErrLines));
    }

    [Fact]
    public void Every_text_is_escaped()
    {
        string evil = "<img src=x onerror=alert(1)> & \"'";
        var png = Salient.Rendering.ImageWriter.EncodePng(new Salient.Imaging.RgbImage(2, 2, new float[12]));
        var doc = new ReportDocument
        {
            Title = evil,
            Notes = [evil],
            Images = [new ImageReport
            {
                Title = evil, OriginalPng = png, Width = 2, Height = 2,
                Predictions = [new PredictionList(evil, [new Prediction(1, evil, 1f, 0.5f)])],
                Panels = [new MethodPanel(evil, evil, png, evil)],
                Agreement = new ReportTable(evil, [evil], [[evil]]),
            }],
            Metrics = new ReportTable(evil, [evil, evil], [[evil, evil]]) { Best = new HashSet<(int, int)> { (0, 1) } },
            Made = new Provenance(evil, [(evil, evil)], DateTimeOffset.UnixEpoch),
        };
        var html = HtmlReport.Render(doc);
        Assert.DoesNotContain("<img src=x", html);
        Assert.DoesNotContain("\"'", html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;&#39;", html);
        Assert.Equal(3, Regex.Matches(html, "<img ").Count);   // the original, the panel's original and its heatmap
        Assert.Contains("1970-01-01 00:00:00 UTC", html);
    }
}
