using System.Globalization;
using Salient.Imaging;

namespace Salient.Rendering;

/// <summary>One curve of a <see cref="Charts.Lines"/> plot.</summary>
internal sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, (byte R, byte G, byte B) Color);

/// <summary>One bar of a <see cref="Charts.Bars"/> plot: a mean with its interval (the whisker); <c>Best</c> draws it highlighted.</summary>
internal sealed record ChartBar(string Name, double Value, double Low, double High, bool Best = false);

/// <summary>
/// Small labelled plots on a white background (the embedded DejaVu Sans): a line chart with axes, ticks,
/// axis labels and a legend, and a bar chart with interval whiskers. Non-finite values are skipped.
/// </summary>
internal static class Charts
{
    private static readonly (byte R, byte G, byte B) White = (255, 255, 255), Ink = (30, 30, 30), Grid = (225, 225, 225),
        BarColor = (110, 140, 190), BestColor = (240, 130, 20);

    public static readonly (byte R, byte G, byte B)[] Palette = [(214, 39, 40), (31, 119, 180), (44, 160, 44), (148, 103, 189), (255, 127, 14), (140, 86, 75)];

    private const int Left = 62, Right = 18, Top = 50, Bottom = 52;
    private const float TextSize = 12f, TitleSize = 14f;

    /// <summary>Curves over shared axes; the y axis spans the data and 0 (and 1 when all values lie in [0, 1]).</summary>
    public static RgbImage Lines(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, int width = 520, int height = 340)
    {
        var xs = series.SelectMany(s => s.X).Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        var ys = series.SelectMany(s => s.Y).Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        double x0 = xs.Min(), x1 = xs.Max(), y0 = Math.Min(0, ys.Min()), y1 = Math.Max(ys.Max(), y0 + 1e-9);
        if (ys.All(v => v is >= 0 and <= 1)) (y0, y1) = (0, 1);
        if (x1 <= x0) x1 = x0 + 1;
        using var c = new Canvas(width, height, White);
        var (px, py) = Axes(c, title, xLabel, yLabel, x0, x1, y0, y1, xTicks: true);
        foreach (var s in series)
            for (int i = 1; i < Math.Min(s.X.Count, s.Y.Count); i++)
                if (double.IsFinite(s.Y[i - 1]) && double.IsFinite(s.Y[i]))
                    c.Line(px(s.X[i - 1]), py(s.Y[i - 1]), px(s.X[i]), py(s.Y[i]), s.Color, 2);
        // Legend, top right inside the plot.
        int ly = Top + 6;
        foreach (var s in series)
        {
            float tw = Canvas.Measure(s.Name, TextSize);
            float lx = width - Right - 8 - tw - 26;
            c.Fill((int)lx - 4, ly - 2, (int)tw + 34, Canvas.LineHeight(TextSize) + 4, White);
            c.Line(lx, ly + Canvas.LineHeight(TextSize) / 2f, lx + 20, ly + Canvas.LineHeight(TextSize) / 2f, s.Color, 2);
            c.Text(s.Name, lx + 26, ly, TextSize, Ink);
            ly += Canvas.LineHeight(TextSize) + 4;
        }
        return c.ToImage();
    }

    /// <summary>One bar per entry from 0 to its value, a whisker from Low to High, the value above it, the name below.</summary>
    public static RgbImage Bars(string title, string yLabel, IReadOnlyList<ChartBar> bars, int? width = null, int height = 340)
    {
        int w = width ?? Math.Max(440, Left + Right + 90 * bars.Count);
        var vals = bars.SelectMany(b => new[] { b.Value, b.Low, b.High }).Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        double y0 = Math.Min(0, vals.Min()), y1 = Math.Max(0, vals.Max());
        double pad = (y1 - y0) * 0.12;
        if (pad <= 0) pad = 1;
        if (y1 > 0 || y0 == 0) y1 += pad;
        if (y0 < 0) y0 -= pad;
        using var c = new Canvas(w, height, White);
        var (px, py) = Axes(c, title, "", yLabel, 0, bars.Count, y0, y1, xTicks: false);
        for (int i = 0; i < bars.Count; i++)
        {
            var b = bars[i];
            float cx = px(i + 0.5), half = (px(1) - px(0)) * 0.3f;
            if (double.IsFinite(b.Value))
            {
                float top = py(Math.Max(0, b.Value)), bottom = py(Math.Min(0, b.Value));
                c.Fill((int)(cx - half), (int)top, (int)(2 * half), Math.Max(1, (int)(bottom - top)), b.Best ? BestColor : BarColor);
                if (double.IsFinite(b.Low) && double.IsFinite(b.High))
                {
                    c.Line(cx, py(b.Low), cx, py(b.High), Ink, 1.5f);
                    c.Line(cx - half / 3, py(b.Low), cx + half / 3, py(b.Low), Ink, 1.5f);
                    c.Line(cx - half / 3, py(b.High), cx + half / 3, py(b.High), Ink, 1.5f);
                }
                string label = b.Value.ToString("0.000", CultureInfo.InvariantCulture);
                if (b.Value >= 0) c.Text(label, cx, py(double.IsFinite(b.High) ? Math.Max(b.High, b.Value) : b.Value) - Canvas.LineHeight(TextSize) - 2, TextSize, Ink, SkiaSharp.SKTextAlign.Center);
                else c.Text(label, cx, py(double.IsFinite(b.Low) ? Math.Min(b.Low, b.Value) : b.Value) + 3, TextSize, Ink, SkiaSharp.SKTextAlign.Center);
            }
            c.Text(Canvas.Fit(b.Name, TextSize, px(1) - px(0) - 4), cx, height - Bottom + 6, TextSize, Ink, SkiaSharp.SKTextAlign.Center);
        }
        return c.ToImage();
    }

    /// <summary>Title, grid lines, the axes, y ticks (and x ticks), labels; returns data → pixel maps.</summary>
    private static (Func<double, float> X, Func<double, float> Y) Axes(Canvas c, string title, string xLabel, string yLabel,
        double x0, double x1, double y0, double y1, bool xTicks)
    {
        int w = c.Width, h = c.Height;
        float pl = Left, pr = w - Right, pt = Top, pb = h - Bottom;
        Func<double, float> X = v => (float)(pl + (v - x0) / (x1 - x0) * (pr - pl));
        Func<double, float> Y = v => (float)(pb - (v - y0) / (y1 - y0) * (pb - pt));
        c.Text(Canvas.Fit(title, TitleSize, w - 8), 8, 6, TitleSize, Ink);
        if (yLabel.Length > 0) c.Text(yLabel, 8, Top - Canvas.LineHeight(TextSize) - 4, TextSize, Ink);
        foreach (var t in Ticks(y0, y1))
        {
            c.Line(pl, Y(t), pr, Y(t), Grid, 1);
            c.Text(Format(t), pl - 6, Y(t) - Canvas.LineHeight(TextSize) / 2f, TextSize, Ink, SkiaSharp.SKTextAlign.Right);
        }
        if (xTicks)
            foreach (var t in Ticks(x0, x1))
            {
                c.Line(X(t), pb, X(t), pb + 4, Ink, 1);
                c.Text(Format(t), X(t), pb + 6, TextSize, Ink, SkiaSharp.SKTextAlign.Center);
            }
        if (y0 < 0 && y1 > 0) c.Line(pl, Y(0), pr, Y(0), Ink, 1);
        c.Line(pl, pt, pl, pb, Ink, 1);
        c.Line(pl, pb, pr, pb, Ink, 1);
        if (xLabel.Length > 0) c.Text(xLabel, (pl + pr) / 2, h - Canvas.LineHeight(TextSize) - 6, TextSize, Ink, SkiaSharp.SKTextAlign.Center);
        return (X, Y);
    }

    /// <summary>About five round tick values (1, 2 or 5 × 10ⁿ apart) within [lo, hi].</summary>
    internal static List<double> Ticks(double lo, double hi)
    {
        double span = hi - lo;
        if (!(span > 0) || !double.IsFinite(span)) return [lo];
        double raw = span / 5, mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        var ticks = new List<double>();
        for (double t = Math.Ceiling(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.Add(Math.Abs(t) < step * 1e-9 ? 0 : t);
        return ticks;
    }

    private static string Format(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
