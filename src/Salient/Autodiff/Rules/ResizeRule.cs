using Salient.Onnx;

namespace Salient.Autodiff.Rules;

/// <summary>
/// Resize (opset 10+) and Upsample (opset 7–9), modes nearest and linear, applied separably per
/// resized axis. The forward op along an axis is a fixed linear map M [out, in]; the gradient is Mᵀ:
/// for nearest with an integer factor whose source index is o / k, dY is reshaped and summed
/// (ReduceSum); otherwise M is built here as a small constant and applied with MatMul (on the last
/// axis dY·M, on the second-to-last Mᵀ·dY, others via Transpose). Coordinates follow ORT exactly
/// (float32): coordinate_transformation_mode half_pixel, pytorch_half_pixel, align_corners,
/// asymmetric, tf_half_pixel_for_nearest, half_pixel_symmetric; nearest_mode round_prefer_floor,
/// round_prefer_ceil, floor, ceil; before opset 11: asymmetric with ORT's simple rounding.
/// Not supported: cubic, tf_crop_and_resize, antialias, keep_aspect_ratio_policy ≠ stretch.
/// </summary>
internal sealed class ResizeRule : GradientRule
{
    public override IReadOnlyList<string> Ops => ["Resize", "Upsample"];

    public override void Backward(RuleContext c)
    {
        var n = c.Node;
        var x = c.InDims(0);
        var y = c.OutDims(0);
        int rank = x.Length;
        bool legacy = n.OpType == "Upsample" || c.Opset < 11;
        string mode = n.GetString("mode", "nearest");
        if (mode == "bilinear" || mode == "trilinear") mode = "linear";
        if (mode != "nearest" && mode != "linear")
            throw c.Fail($"mode '{mode}' has no gradient rule (nearest and linear do)");
        string coord = legacy ? "asymmetric" : n.GetString("coordinate_transformation_mode", "half_pixel");
        string nearestMode = legacy ? "simple" : n.GetString("nearest_mode", "round_prefer_floor");
        if (coord == "tf_crop_and_resize") throw c.Fail("coordinate_transformation_mode tf_crop_and_resize is not supported");
        if (n.GetInt("antialias", 0) != 0) throw c.Fail("antialias is not supported");

        // Scales per axis (float32, as ORT uses them).
        var scales = new float[rank];
        for (int i = 0; i < rank; i++) scales[i] = (float)y[i] / x[i];
        float[]? given = null;
        if (n.OpType == "Upsample" && c.Opset < 9) given = n.GetFloats("scales");
        else if (legacy) given = c.FloatValues(c.In(1));
        else if (c.HasIn(2) && c.FloatValues(c.In(2)) is { Length: > 0 } s) given = s;
        else if (n.GetString("keep_aspect_ratio_policy", "stretch") != "stretch")
            throw c.Fail("keep_aspect_ratio_policy other than stretch is not supported");
        if (given is { Length: > 0 })
        {
            var axes = n.GetInts("axes") is { Length: > 0 } ax ? ax.Select(a => Shapes.Axis(a, rank)).ToArray() : Enumerable.Range(0, rank).ToArray();
            if (axes.Length != given.Length) throw c.Fail("scales do not match the resized axes");
            for (int j = 0; j < axes.Length; j++) scales[axes[j]] = given[j];
        }
        else if (!legacy && !c.HasIn(3))
            throw c.Fail("neither scales nor sizes are known in advance");

        string g = c.G;
        var cur = (long[])y.Clone();
        for (int a = rank - 1; a >= 0; a--)
        {
            var map = AxisMap(c, mode, coord, nearestMode, x[a], y[a], scales[a]);
            if (map.IsIdentity) continue;
            var next = (long[])cur.Clone();
            next[a] = x[a];
            g = map.IntegerFactor is long k
                ? c.ReshapeTo(c.ReduceSum(c.Reshape(g, cur.Take(a).Append(x[a]).Append(k).Concat(cur.Skip(a + 1)).ToArray()), [a + 1], keepDims: false), next, next)
                : ApplyTransposed(c, g, cur, a, map);
            cur = next;
        }
        c.AddGrad(0, g);
    }

    private sealed record Map(long Out, long In, float[] Weights, long? IntegerFactor, bool IsIdentity);

    /// <summary>The interpolation matrix [out, in] of one axis.</summary>
    private static Map AxisMap(RuleContext c, string mode, string coord, string nearestMode, long inLen, long outLen, float scale)
    {
        var m = new float[outLen * inLen];
        for (long o = 0; o < outLen; o++)
        {
            float xo = Original(coord, o, scale, inLen, outLen);
            if (mode == "nearest")
            {
                long i = Nearest(c, nearestMode, xo, scale < 1f);
                i = Math.Clamp(i, 0, inLen - 1);
                m[o * inLen + i] = 1f;
            }
            else
            {
                float xc = Math.Clamp(xo, 0f, inLen - 1);
                long i0 = Math.Min((long)xc, inLen - 1);
                long i1 = Math.Min(i0 + 1, inLen - 1);
                float w1 = xc - i0;
                m[o * inLen + i0] += 1f - w1;
                m[o * inLen + i1] += w1;
            }
        }
        bool identity = inLen == outLen;
        for (long o = 0; identity && o < outLen; o++)
            for (long i = 0; i < inLen; i++)
                if (m[o * inLen + i] != (o == i ? 1f : 0f)) { identity = false; break; }
        long? factor = null;
        if (mode == "nearest" && outLen % inLen == 0 && !identity)
        {
            long k = outLen / inLen;
            bool ok = true;
            for (long o = 0; ok && o < outLen; o++) ok = m[o * inLen + o / k] == 1f;
            if (ok) factor = k;
        }
        return new Map(outLen, inLen, m, factor, identity);
    }

    private static float Original(string coord, long o, float scale, long inLen, long outLen)
    {
        float x = o;
        switch (coord)
        {
            case "half_pixel": return (x + 0.5f) / scale - 0.5f;
            case "pytorch_half_pixel": return outLen > 1 ? (x + 0.5f) / scale - 0.5f : 0f;
            case "align_corners": return outLen == 1 ? 0f : x * (inLen - 1) / (outLen - 1);
            case "asymmetric": return x / scale;
            case "tf_half_pixel_for_nearest": return (x + 0.5f) / scale;
            case "half_pixel_symmetric":
                {
                    float adjustment = outLen / (scale * inLen);
                    float center = inLen / 2f;
                    float offset = center * (1 - adjustment);
                    return offset + (x + 0.5f) / scale - 0.5f;
                }
            default: throw new SalientException($"coordinate_transformation_mode '{coord}' is not supported by the Resize gradient");
        }
    }

    private static long Nearest(RuleContext c, string mode, float x, bool downsampling)
    {
        switch (mode)
        {
            case "round_prefer_floor":
                return x == (long)x + 0.5f ? (long)x : (long)MathF.Round(x, MidpointRounding.AwayFromZero);
            case "round_prefer_ceil":
                return x == (long)x + 0.5f ? (long)MathF.Ceiling(x) : (long)MathF.Round(x, MidpointRounding.AwayFromZero);
            case "floor": return (long)MathF.Floor(x);
            case "ceil": return (long)MathF.Ceiling(x);
            case "simple": return downsampling ? (long)MathF.Ceiling(x) : (long)x;
            default: throw c.Fail($"unknown nearest_mode '{mode}'");
        }
    }

    private static string ApplyTransposed(RuleContext c, string g, long[] cur, int axis, Map map)
    {
        int rank = cur.Length;
        if (axis == rank - 1)
            return c.Op("MatMul", g, c.FloatsConst([map.Out, map.In], map.Weights));          // [.., out]·[out, in]
        var mt = new float[map.In * map.Out];
        for (long o = 0; o < map.Out; o++)
            for (long i = 0; i < map.In; i++)
                mt[i * map.Out + o] = map.Weights[o * map.In + i];
        string mT = c.FloatsConst([map.In, map.Out], mt);
        if (axis == rank - 2)
            return c.Op("MatMul", mT, g);                                                      // [in, out]·[.., out, W]
        // Move the axis to position rank−2, apply, move back.
        var perm = Enumerable.Range(0, rank).Select(i => (long)i).ToList();
        perm.RemoveAt(axis);
        perm.Insert(rank - 2, axis);
        var inv = new long[rank];
        for (int i = 0; i < rank; i++) inv[perm[i]] = i;
        string t = c.Transpose(g, perm.ToArray());
        return c.Transpose(c.Op("MatMul", mT, t), inv);
    }
}
