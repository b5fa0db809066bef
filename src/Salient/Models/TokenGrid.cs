using System.Globalization;
using Salient.Onnx;

namespace Salient.Models;

/// <summary>
/// How a transformer's token tensor [N, Skip + H·W, C] is a map: the first <see cref="Skip"/> tokens
/// (class, distillation, register tokens) are not positions; the next H·W are the patch grid, row by row.
/// </summary>
internal sealed record TokenGrid(int H, int W, int Skip)
{
    public override string ToString() => $"{H}x{W}" + (Skip > 0 ? $"+{Skip}" : "");
}

/// <summary>
/// The `tokens` option, <c>grid=14x14,skip=1</c> (either part may be left out): the patch grid and the
/// number of leading non-patch tokens of the model's token layers, for when they cannot be detected
/// (a grid alone allows up to <see cref="TokenDetection.MaxExtra"/> leading tokens).
/// </summary>
internal sealed record TokenOverride(int? H, int? W, int? Skip)
{
    public static TokenOverride? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        int? h = null, w = null, skip = null;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            string key = kv[0].ToLowerInvariant();
            string value = kv.Length == 2 ? kv[1] : "";
            if (key == "grid")
            {
                var hw = value.ToLowerInvariant().Split('x');
                if (hw.Length != 2 || !int.TryParse(hw[0], NumberStyles.None, CultureInfo.InvariantCulture, out var a) || a < 1
                    || !int.TryParse(hw[1], NumberStyles.None, CultureInfo.InvariantCulture, out var b) || b < 1 || (long)a * b > 1 << 24)
                    throw new SalientException($"grid '{value}' of the `tokens` option must be HxW with positive integers, e.g. grid=14x14");
                (h, w) = (a, b);
            }
            else if (key == "skip")
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var s) || s > 4096)
                    throw new SalientException($"skip '{value}' of the `tokens` option must be a count of leading tokens (0 to 4096), e.g. skip=1");
                skip = s;
            }
            else
            {
                var closest = Names.Closest(key, ["grid", "skip"], 1);
                throw new SalientException($"the `tokens` option takes grid=HxW and skip=N, not '{part}'" + (closest.Count > 0 ? $"; did you mean '{closest[0]}'?" : ""));
            }
        }
        return new TokenOverride(h, w, skip);
    }
}

/// <summary>
/// Finds which rank-3 tensors [N, T, C] are token maps. The patch grid comes from the model's spatial
/// 4-D tensors (the patch embedding Conv's output: input size / its stride) and their halvings
/// (hierarchical models merge 2×2 patches); T − H·W leading tokens (at most <see cref="MaxExtra"/>:
/// class, distillation, register tokens) are skipped. An override fixes the grid and/or the skip.
/// </summary>
internal static class TokenDetection
{
    /// <summary>The most leading non-patch tokens detected without an override (ViT 1, DeiT 2, registers 4–8 + 1).</summary>
    public const int MaxExtra = 8;

    public static TokenGrid? Detect(long[] dims, long batch, IReadOnlyList<(int H, int W)> grids, TokenOverride? over)
    {
        if (dims.Length != 3 || dims[0] != batch || dims[1] < 2 || dims[2] < 2) return null;
        long t = dims[1];
        if (over is { H: { } h, W: { } w })
        {
            long skip = t - (long)h * w;
            return (over.Skip is { } given ? skip == given : skip is >= 0 and <= MaxExtra) && (long)h * w > 1 ? new TokenGrid(h, w, (int)skip) : null;
        }
        foreach (var (gh, gw) in grids)
        {
            long skip = t - (long)gh * gw;
            if (over?.Skip is { } s ? skip == s : skip is >= 0 and <= MaxExtra)
                if ((long)gh * gw > 1) return new TokenGrid(gh, gw, (int)skip);
        }
        return null;
    }

    /// <summary>Grids of the spatial 4-D tensors (most frequent first) and their halvings, for an input of <paramref name="inputH"/>×<paramref name="inputW"/>.</summary>
    public static List<(int H, int W)> Grids(IEnumerable<(int H, int W)> spatial, int inputH, int inputW)
    {
        var seen = new List<(int, int)>();
        foreach (var g in spatial.Where(g => g.H > 1 || g.W > 1).GroupBy(g => g).OrderByDescending(x => x.Count()).Select(x => x.Key))
            for (int h = g.H, w = g.W; h > 1 || w > 1; h = (h + 1) / 2, w = (w + 1) / 2)
                if (!seen.Contains((h, w))) seen.Add((h, w));
        return seen;
    }

    /// <summary>
    /// True when (a, b) can be an H×W feature grid of the input: input size divided by one integer
    /// stride (floor or ceil), the same on both axes.
    /// </summary>
    public static bool IsGrid(long a, long b, int inputH, int inputW)
    {
        if (a < 1 || b < 1 || a > inputH || b > inputW) return false;
        for (int s = 1; s <= Math.Max(inputH, inputW); s++)
        {
            long fh = inputH / s, ch = (inputH + s - 1) / s, fw = inputW / s, cw = (inputW + s - 1) / s;
            if ((a == fh || a == ch) && (b == fw || b == cw)) return true;
            if (ch < a) break;
        }
        return false;
    }
}
