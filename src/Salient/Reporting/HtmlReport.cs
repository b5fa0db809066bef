using System.Globalization;
using System.Net;
using System.Text;

namespace Salient.Reporting;

/// <summary>
/// Writes a <see cref="ReportDocument"/> as ONE self-contained HTML file: every picture embedded as a
/// data URI, the style and the few lines of script inline, no network reference of any kind (no CDN,
/// no web font), readable from the file system without a server (docs/report.md). Accessible: a
/// <c>lang</c> attribute, a skip link, headings in order, alt text on every image, labelled opacity
/// sliders (native range inputs, reachable with Tab and moved with the arrow keys), tables with
/// captions and header cells. Printable: the print style hides the controls and keeps each image's
/// section together. Every piece of text is HTML-escaped.
/// </summary>
internal static class HtmlReport
{
    public static string Render(ReportDocument d)
    {
        ArgumentNullException.ThrowIfNull(d);
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        b.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        b.Append("<meta name=\"generator\" content=\"salient\">\n");
        b.Append("<title>").Append(E(d.Title)).Append("</title>\n<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n");
        b.Append("<a class=\"skip\" href=\"#main\">Skip to the results</a>\n<header>\n<h1>").Append(E(d.Title)).Append("</h1>\n");
        foreach (var n in d.Notes) b.Append("<p class=\"note\">").Append(E(n)).Append("</p>\n");
        b.Append("<nav aria-label=\"Contents\"><ul>\n");
        for (int i = 0; i < d.Images.Count; i++)
            b.Append("<li><a href=\"#image-").Append(i + 1).Append("\">").Append(E(d.Images[i].Title)).Append("</a></li>\n");
        if (d.Metrics is not null) b.Append("<li><a href=\"#metrics\">Evaluation</a></li>\n");
        if (d.Models.Count > 0) b.Append("<li><a href=\"#models\">Model").Append(d.Models.Count > 1 ? "s" : "").Append("</a></li>\n");
        b.Append("<li><a href=\"#made\">How this report was made</a></li>\n</ul></nav>\n</header>\n<main id=\"main\">\n");

        int panelId = 0;
        bool hint = true;   // how to read the maps: once, above the first image's panels
        for (int i = 0; i < d.Images.Count; i++)
        {
            var im = d.Images[i];
            b.Append("<section class=\"image\" id=\"image-").Append(i + 1).Append("\" aria-labelledby=\"image-").Append(i + 1).Append("-h\">\n");
            b.Append("<h2 id=\"image-").Append(i + 1).Append("-h\">").Append(E(im.Title)).Append("</h2>\n");
            foreach (var n in im.Notes) b.Append("<p class=\"note\">").Append(E(n)).Append("</p>\n");
            b.Append("<div class=\"top\">\n<figure class=\"original\"><img src=\"").Append(Png(im.OriginalPng)).Append("\" width=\"").Append(im.Width)
                .Append("\" height=\"").Append(im.Height).Append("\" alt=\"").Append(E($"The original image {im.Title}")).Append("\"><figcaption>original</figcaption></figure>\n");
            foreach (var p in im.Predictions) Predictions(b, p, im.Predictions.Count > 1);
            b.Append("</div>\n");
            if (im.Panels.Count > 0)
            {
                b.Append("<h3>Maps</h3>\n");
                if (hint) b.Append("<p class=\"hint\">Each map is drawn over the original; move a slider (Tab to it, then the arrow keys) to change the heatmap's opacity: 0 % shows the photo, 100 % the map alone. Warm colors (red) mark the most relevant regions, blue the least; gray hatching marks pixels the model did not see.</p>\n");
                hint = false;
                b.Append("<div class=\"panels\">\n");
                foreach (var p in im.Panels) Panel(b, p, im, ++panelId);
                b.Append("</div>\n");
            }
            if (im.Agreement is { } a) { b.Append("<h3>Agreement</h3>\n"); Table(b, a); }
            b.Append("</section>\n");
        }

        if (d.Metrics is { } m)
        {
            b.Append("<section id=\"metrics\" aria-labelledby=\"metrics-h\">\n<h2 id=\"metrics-h\">Evaluation</h2>\n");
            Table(b, m);
            b.Append("</section>\n");
        }
        if (d.Models.Count > 0)
        {
            b.Append("<section id=\"models\" aria-labelledby=\"models-h\">\n<h2 id=\"models-h\">Model").Append(d.Models.Count > 1 ? "s" : "").Append("</h2>\n");
            foreach (var model in d.Models) Model(b, model);
            b.Append("</section>\n");
        }
        b.Append("<section id=\"made\" aria-labelledby=\"made-h\">\n<h2 id=\"made-h\">How this report was made</h2>\n<dl>\n");
        b.Append("<dt>command</dt><dd><code>").Append(E(d.Made.CommandLine)).Append("</code></dd>\n");
        foreach (var (name, version) in d.Made.Versions) b.Append("<dt>").Append(E(name)).Append("</dt><dd>").Append(E(version)).Append("</dd>\n");
        b.Append("<dt>made</dt><dd>").Append(E(d.Made.When.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture))).Append("</dd>\n</dl>\n</section>\n");
        b.Append("</main>\n<script>\n").Append(Script).Append("</script>\n</body>\n</html>\n");
        return b.ToString();
    }

    /// <summary>HTML-escapes text for element content and quoted attribute values (&amp; &lt; &gt; &quot; &#39;).</summary>
    public static string E(string? s) => WebUtility.HtmlEncode(s ?? "");

    private static string Png(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);

    private static void Predictions(StringBuilder b, PredictionList p, bool named)
    {
        b.Append("<table class=\"predictions\">\n<caption>").Append(E(named ? $"Top {p.Top.Count} of {p.Model}" : $"Top {p.Top.Count} predictions")).Append("</caption>\n");
        b.Append("<thead><tr><th scope=\"col\">rank</th><th scope=\"col\">class</th><th scope=\"col\">label</th><th scope=\"col\">probability</th><th scope=\"col\">logit</th></tr></thead>\n<tbody>\n");
        for (int k = 0; k < p.Top.Count; k++)
        {
            var t = p.Top[k];
            b.Append("<tr><td>").Append(k + 1).Append("</td><td>").Append(t.ClassIndex).Append("</td><th scope=\"row\">").Append(E(t.Label)).Append("</th><td>")
                .Append(E(t.Probability.ToString("0.000", CultureInfo.InvariantCulture))).Append("</td><td>")
                .Append(E(t.Logit.ToString("0.000", CultureInfo.InvariantCulture))).Append("</td></tr>\n");
        }
        b.Append("</tbody>\n</table>\n");
    }

    private static void Panel(StringBuilder b, MethodPanel p, ImageReport im, int id)
    {
        int pct = (int)Math.Round(Math.Clamp(p.Opacity, 0f, 1f) * 100);
        string op = (pct / 100.0).ToString("0.##", CultureInfo.InvariantCulture);
        b.Append("<figure class=\"panel\" style=\"width:").Append(Math.Max(im.Width, 200)).Append("px\" aria-labelledby=\"panel-").Append(id).Append("-t\">\n");
        b.Append("<figcaption><span class=\"method\" id=\"panel-").Append(id).Append("-t\">").Append(E(p.Title)).Append("</span><br><span class=\"caption\">").Append(E(p.Caption)).Append("</span></figcaption>\n");
        b.Append("<div class=\"stack\" style=\"width:").Append(im.Width).Append("px;height:").Append(im.Height).Append("px\">");
        b.Append("<img class=\"base\" src=\"").Append(Png(im.OriginalPng)).Append("\" width=\"").Append(im.Width).Append("\" height=\"").Append(im.Height)
            .Append("\" alt=\"").Append(E($"The original image {im.Title}, under the map")).Append("\">");
        b.Append("<img class=\"heat\" id=\"heat-").Append(id).Append("\" src=\"").Append(Png(p.HeatmapPng)).Append("\" width=\"").Append(im.Width).Append("\" height=\"").Append(im.Height)
            .Append("\" style=\"opacity:").Append(op).Append("\" alt=\"").Append(E(p.Alt)).Append("\"></div>\n");
        b.Append("<div class=\"control\"><label for=\"opacity-").Append(id).Append("\">Heatmap opacity</label> ");
        b.Append("<input type=\"range\" class=\"opacity\" id=\"opacity-").Append(id).Append("\" min=\"0\" max=\"100\" step=\"5\" value=\"").Append(pct)
            .Append("\" data-target=\"heat-").Append(id).Append("\" aria-valuetext=\"").Append(pct).Append(" %\"> ");
        b.Append("<output id=\"opacity-").Append(id).Append("-value\" for=\"opacity-").Append(id).Append("\">").Append(pct).Append(" %</output></div>\n</figure>\n");
    }

    private static void Table(StringBuilder b, ReportTable t)
    {
        b.Append("<table class=\"data\">\n<caption>").Append(E(t.Caption)).Append("</caption>\n<thead><tr>");
        foreach (var h in t.Header) b.Append("<th scope=\"col\">").Append(E(h)).Append("</th>");
        b.Append("</tr></thead>\n<tbody>\n");
        for (int r = 0; r < t.Rows.Count; r++)
        {
            b.Append("<tr>");
            for (int c = 0; c < t.Rows[r].Count; c++)
            {
                string tag = c == 0 ? "th scope=\"row\"" : "td";
                bool best = t.Best.Contains((r, c));
                b.Append('<').Append(tag).Append(best ? " class=\"best\"" : "").Append('>').Append(E(t.Rows[r][c]));
                if (best) b.Append(" <span class=\"mark\">(best)</span>");
                b.Append("</").Append(c == 0 ? "th" : "td").Append('>');
            }
            b.Append("</tr>\n");
        }
        b.Append("</tbody>\n</table>\n");
    }

    private static void Model(StringBuilder b, ModelSummary m)
    {
        b.Append("<h3>").Append(E(m.Name)).Append("</h3>\n<dl class=\"facts\">\n");
        foreach (var (k, v) in m.Facts) b.Append("<dt>").Append(E(k)).Append("</dt><dd>").Append(E(v)).Append("</dd>\n");
        b.Append("</dl>\n<details><summary>Layer table (").Append(m.Layers.Count).Append(" layers; ★ the default target layer)</summary>\n");
        b.Append("<table class=\"data layers\">\n<caption>").Append(E($"Layers of {m.Name}")).Append("</caption>\n");
        b.Append("<thead><tr><th scope=\"col\">#</th><th scope=\"col\">tensor</th><th scope=\"col\">op</th><th scope=\"col\">shape</th><th scope=\"col\">parameters</th><th scope=\"col\">CAM target</th></tr></thead>\n<tbody>\n");
        foreach (var l in m.Layers)
        {
            string shape = "[" + string.Join(",", l.Shape.Select((d, i) => i == 0 ? "N" : d.ToString(CultureInfo.InvariantCulture))) + "]";
            b.Append("<tr><td>").Append(l.Index).Append("</td><th scope=\"row\">").Append(E(l.Name)).Append("</th><td>").Append(E(l.OpType)).Append("</td><td>").Append(E(shape))
                .Append("</td><td>").Append(l.Parameters > 0 ? l.Parameters.ToString("N0", CultureInfo.InvariantCulture) : "").Append("</td><td>")
                .Append(l.IsDefault ? "★ default" : l.IsCandidate ? "candidate" : "").Append("</td></tr>\n");
        }
        b.Append("</tbody>\n</table>\n</details>\n");
    }

    private const string Css = """
        :root { color-scheme: light; --fg: #1b1b1b; --muted: #555; --line: #ccc; --accent: #0b5cad; }
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem; line-height: 1.4; }
        .skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem; }
        .skip:focus { left: 1rem; }
        a { color: var(--accent); }
        :focus-visible { outline: 3px solid #e67700; outline-offset: 2px; }
        h1 { font-size: 1.6rem; margin: .5rem 0; }
        h2 { font-size: 1.3rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem; margin-top: 2rem; }
        h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
        nav ul { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; list-style: none; padding: 0; }
        .note { color: #8a3b00; }
        .hint { color: var(--muted); font-size: .9rem; }
        .top { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
        figure { margin: 0; }
        figcaption { font-size: .9rem; color: var(--muted); }
        .panels { display: flex; flex-wrap: wrap; gap: 1.2rem; }
        .panel { border: 1px solid var(--line); border-radius: 6px; padding: .6rem; }
        .panel .method { font-weight: 600; color: var(--fg); }
        .stack { position: relative; margin: .4rem 0; }
        .stack img { position: absolute; left: 0; top: 0; }
        .control { display: flex; flex-wrap: wrap; align-items: center; gap: .1rem .4rem; font-size: .9rem; }
        .control label { flex-basis: 100%; }
        .control output { white-space: nowrap; }
        .control input { flex: 1; min-width: 5rem; }
        table { border-collapse: collapse; font-size: .9rem; margin: .4rem 0; }
        caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
        th, td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; }
        thead th { background: #f1f3f5; }
        td.best { font-weight: 700; background: #fff4e0; }
        .mark { font-weight: 400; font-size: .8rem; color: #8a3b00; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
        dt { font-weight: 600; }
        dd { margin: 0; overflow-wrap: anywhere; }
        details summary { cursor: pointer; }
        @media print {
          body { max-width: none; padding: 0; }
          .skip, nav, .control, .hint { display: none; }
          section.image { break-inside: avoid-page; page-break-inside: avoid; }
          .panel { break-inside: avoid; }
          a { color: inherit; text-decoration: none; }
        }

        """;

    private const string Script = """
        // The opacity sliders: each moves its heatmap over the original (the page works without this script: the heatmaps stay at their initial opacity).
        document.querySelectorAll('input.opacity').forEach(function (s) {
          function apply() {
            var img = document.getElementById(s.getAttribute('data-target'));
            img.style.opacity = (s.value / 100).toString();
            s.setAttribute('aria-valuetext', s.value + ' %');
            document.getElementById(s.id + '-value').textContent = s.value + ' %';
          }
          s.addEventListener('input', apply);
          s.addEventListener('change', apply);
        });

        """;
}
