namespace Salient.Onnx;

/// <summary>What static inference knows about a tensor: its type and shape, and for small shape-derived tensors its value.</summary>
internal sealed record InferredTensor(DataType Type, long[] Dims, Tensor? Value);

/// <summary>
/// Static shape inference for the ops image models are made of, at one concrete input shape: types,
/// shapes, and the values of small integer tensors computed from shapes (Shape → Gather → Concat →
/// Reshape…), so that big graphs need no ORT probe run exposing every tensor. What it cannot resolve
/// (an op it does not know, a shape that needs data) is simply absent from the result, and so is
/// everything that depends on it: the caller asks ORT for those (see Models' ShapeProbe).
/// Follows the ONNX operator specification; the tests compare it with ORT's probe tensor by tensor.
/// </summary>
internal static class ShapeInference
{
    /// <summary>Values are computed for tensors of at most this many elements.</summary>
    public const int ValueLimit = 64;

    public static Dictionary<string, InferredTensor> Infer(Graph g, string inputName, DataType inputType, long[] inputShape)
    {
        var known = new Dictionary<string, InferredTensor>(StringComparer.Ordinal);
        foreach (var (name, t) in g.Initializers) known[name] = new InferredTensor(t.Type, t.Dims, t.Length <= ValueLimit ? t : null);
        known[inputName] = new InferredTensor(inputType, inputShape, null);
        long opset = g.DefaultOpset;
        foreach (var n in g.Nodes)
        {
            if (n.Domain is not ("" or "ai.onnx")) continue;
            var ins = new InferredTensor?[n.Inputs.Count];
            bool ok = true;
            for (int i = 0; i < ins.Length; i++)
            {
                if (n.Inputs[i] == "") continue;
                if (!known.TryGetValue(n.Inputs[i], out var t)) { ok = false; break; }
                ins[i] = t;
            }
            if (!ok) continue;
            InferredTensor?[]? outs;
            try { outs = Node(n, ins, opset); }
            catch (Exception e) when (e is not OutOfMemoryException)   // a malformed node (zero stride, odd attributes…)
            { outs = null; }   // leave it to ORT, whose message is the one to show
            if (outs is null) continue;
            for (int i = 0; i < outs.Length && i < n.Outputs.Count; i++)
                if (n.Outputs[i] != "" && outs[i] is { } o && o.Dims.All(d => d >= 0)) known[n.Outputs[i]] = o;
        }
        return known;
    }

    private static InferredTensor Of(DataType type, long[] dims, double[]? values = null) =>
        new(type, dims, values is not null && values.Length <= ValueLimit && IsNumeric(type) ? MakeValue(type, dims, values) : null);

    private static bool IsNumeric(DataType t) => t is DataType.Int64 or DataType.Int32 or DataType.Float or DataType.Double or DataType.Bool;

    private static Tensor MakeValue(DataType type, long[] dims, double[] v) => type switch
    {
        DataType.Int64 => new Tensor("", type, dims, Array.ConvertAll(v, x => (long)x)),
        DataType.Int32 => new Tensor("", type, dims, Array.ConvertAll(v, x => (int)x)),
        DataType.Float => new Tensor("", type, dims, Array.ConvertAll(v, x => (float)x)),
        DataType.Double => new Tensor("", type, dims, v),
        _ => new Tensor("", type, dims, Array.ConvertAll(v, x => x != 0)),
    };

    private static double[]? Values(InferredTensor? t) => t?.Value is { } v && v.Type != DataType.String ? v.ToDoubles() : null;

    private static long[]? Ints(InferredTensor? t) => t?.Value is { } v ? v.ToInt64s() : null;

    private static InferredTensor?[]? Node(Node n, InferredTensor?[] ins, long opset)
    {
        InferredTensor X = ins.Length > 0 && ins[0] is { } x0 ? x0 : null!;
        switch (n.OpType)
        {
            case "Identity" or "Relu" or "LeakyRelu" or "Sigmoid" or "Tanh" or "Clip" or "Exp" or "Log" or "Sqrt" or "Neg" or "Abs"
                or "Erf" or "Softmax" or "LogSoftmax" or "HardSigmoid" or "HardSwish" or "Softplus" or "Softsign" or "Elu" or "Selu"
                or "Gelu" or "Mish" or "Reciprocal" or "Floor" or "Ceil" or "Round" or "Sign" or "Sin" or "Cos" or "PRelu"
                or "BatchNormalization" or "InstanceNormalization" or "LRN" or "LayerNormalization" or "Dropout":
            {
                var v = n.OpType switch
                {
                    "Identity" => Values(X),
                    "Neg" => Values(X)?.Select(a => -a).ToArray(),
                    "Floor" => Values(X)?.Select(Math.Floor).ToArray(),
                    "Ceil" => Values(X)?.Select(Math.Ceiling).ToArray(),
                    "Sqrt" => Values(X)?.Select(Math.Sqrt).ToArray(),
                    "Abs" => Values(X)?.Select(Math.Abs).ToArray(),
                    "Relu" => Values(X)?.Select(a => Math.Max(a, 0)).ToArray(),
                    _ => null,
                };
                var outs = new InferredTensor?[n.Outputs.Count];
                outs[0] = Of(X.Type, X.Dims, v);
                if (n.OpType == "Dropout" && outs.Length > 1) outs[1] = Of(DataType.Bool, X.Dims);
                return outs;
            }
            case "Cast":
            {
                var to = (DataType)n.GetInt("to", 0);
                var v = Values(X);
                if (v is not null && to is DataType.Int64 or DataType.Int32) v = v.Select(Math.Truncate).ToArray();
                return [Of(to, X.Dims, v)];
            }
            case "Add" or "Sub" or "Mul" or "Div" or "Pow" or "Max" or "Min" or "Sum" or "Mean"
                or "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "And" or "Or" or "Xor" or "Mod":
            {
                var dims = ins.Aggregate((long[]?)null, (acc, t) => acc is null ? t!.Dims : Broadcast(acc, t!.Dims));
                if (dims is null) return null;
                bool logical = n.OpType is "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "And" or "Or" or "Xor";
                var type = logical ? DataType.Bool : X.Type;
                double[]? v = null;
                if (ins.Length == 2 && Values(ins[0]) is { } a && Values(ins[1]) is { } b && Tensor.ElementCount(dims) <= ValueLimit)
                {
                    bool integer = X.Type is DataType.Int64 or DataType.Int32;
                    Func<double, double, double>? f = n.OpType switch
                    {
                        "Add" => (p, q) => p + q, "Sub" => (p, q) => p - q, "Mul" => (p, q) => p * q,
                        "Div" => integer ? (p, q) => q == 0 ? double.NaN : Math.Truncate(p / q) : (p, q) => p / q,
                        "Max" => Math.Max, "Min" => Math.Min,
                        "Equal" => (p, q) => p == q ? 1 : 0, "Less" => (p, q) => p < q ? 1 : 0, "Greater" => (p, q) => p > q ? 1 : 0,
                        "LessOrEqual" => (p, q) => p <= q ? 1 : 0, "GreaterOrEqual" => (p, q) => p >= q ? 1 : 0,
                        _ => null,
                    };
                    if (f is not null) v = BroadcastApply(ins[0]!.Dims, a, ins[1]!.Dims, b, dims, f);
                    if (v is not null && v.Any(double.IsNaN)) v = null;
                }
                return [Of(type, dims, v)];
            }
            case "Where":
            {
                var dims = Broadcast(Broadcast(ins[0]!.Dims, ins[1]!.Dims), ins[2]!.Dims);
                double[]? v = null;
                if (Values(ins[0]) is { } c && Values(ins[1]) is { } a && Values(ins[2]) is { } b && Tensor.ElementCount(dims) <= ValueLimit)
                {
                    var ca = BroadcastTo(ins[0]!.Dims, c, dims); var aa = BroadcastTo(ins[1]!.Dims, a, dims); var ba = BroadcastTo(ins[2]!.Dims, b, dims);
                    v = ca.Select((k, i) => k != 0 ? aa[i] : ba[i]).ToArray();
                }
                return [Of(ins[1]!.Type, dims, v)];
            }
            case "Conv":
            {
                var w = ins[1]!.Dims;
                int r = X.Dims.Length - 2;
                var kernel = n.GetInts("kernel_shape") is { Length: > 0 } k ? k : w[2..];
                var dims = new long[r + 2];
                dims[0] = X.Dims[0]; dims[1] = w[0];
                SpatialOut(n, X.Dims, kernel, dims, ceil: false, dilations: true);
                return [Of(X.Type, dims)];
            }
            case "MaxPool" or "AveragePool" or "LpPool":
            {
                var kernel = n.GetInts("kernel_shape") ?? throw new SalientException("kernel_shape");
                var dims = (long[])X.Dims.Clone();
                SpatialOut(n, X.Dims, kernel, dims, ceil: n.GetInt("ceil_mode", 0) != 0, dilations: n.OpType == "MaxPool");
                var outs = new InferredTensor?[n.Outputs.Count];
                outs[0] = Of(X.Type, dims);
                if (outs.Length > 1) outs[1] = Of(DataType.Int64, dims);
                return outs;
            }
            case "GlobalAveragePool" or "GlobalMaxPool" or "GlobalLpPool":
            {
                var dims = X.Dims.Select((d, i) => i < 2 ? d : 1).ToArray();
                return [Of(X.Type, dims)];
            }
            case "Gemm":
            {
                var a = X.Dims; var b = ins[1]!.Dims;
                if (a.Length != 2 || b.Length != 2) return null;
                long m = n.GetInt("transA", 0) != 0 ? a[1] : a[0];
                long nn = n.GetInt("transB", 0) != 0 ? b[0] : b[1];
                return [Of(X.Type, [m, nn])];
            }
            case "MatMul":
            {
                var a = X.Dims; var b = ins[1]!.Dims;
                if (a.Length == 0 || b.Length == 0) return null;
                var aa = a.Length == 1 ? new[] { 1L, a[0] } : a;
                var bb = b.Length == 1 ? new[] { b[0], 1L } : b;
                if (aa[^1] != bb[^2]) return null;
                var batch = Broadcast(aa[..^2], bb[..^2]);
                var dims = batch.Concat(new[] { aa[^2], bb[^1] }).ToList();
                if (b.Length == 1) dims.RemoveAt(dims.Count - 1);
                if (a.Length == 1) dims.RemoveAt(dims.Count - (b.Length == 1 ? 1 : 2));
                return [Of(X.Type, dims.ToArray())];
            }
            case "Flatten":
            {
                int axis = (int)n.GetInt("axis", 1);
                if (axis < 0) axis += X.Dims.Length;
                long outer = 1, inner = 1;
                for (int i = 0; i < X.Dims.Length; i++) if (i < axis) outer *= X.Dims[i]; else inner *= X.Dims[i];
                return [Of(X.Type, [outer, inner], Values(X))];
            }
            case "Reshape":
            {
                var spec = opset >= 5 ? Ints(ins[1]) : n.GetInts("shape");
                if (spec is null) return null;
                bool allowZero = n.GetInt("allowzero", 0) != 0;
                var dims = new long[spec.Length];
                int minus = -1;
                long total = Tensor.ElementCount(X.Dims), known = 1;
                for (int i = 0; i < spec.Length; i++)
                {
                    long d = spec[i];
                    if (d == 0 && !allowZero) d = X.Dims[i];
                    if (d == -1) { if (minus >= 0) return null; minus = i; continue; }
                    dims[i] = d;
                    known *= d;
                }
                if (minus >= 0) { if (known == 0 || total % known != 0) return null; dims[minus] = total / known; }
                else if (known != total) return null;
                return [Of(X.Type, dims, Values(X))];
            }
            case "Squeeze" or "Unsqueeze":
            {
                var axes = opset >= 13 && ins.Length > 1 ? Ints(ins[1]) : n.GetInts("axes");
                var dims = X.Dims.ToList();
                if (n.OpType == "Squeeze")
                {
                    if (axes is null) dims = dims.Where(d => d != 1).ToList();
                    else
                    {
                        var norm = axes.Select(a => Shapes.Axis(a, X.Dims.Length)).ToHashSet();
                        dims = X.Dims.Where((_, i) => !norm.Contains(i)).ToList();
                    }
                }
                else
                {
                    if (axes is null) return null;
                    int outRank = X.Dims.Length + axes.Length;
                    var norm = axes.Select(a => Shapes.Axis(a, outRank)).Order().ToList();
                    foreach (var a in norm) dims.Insert(a, 1);
                }
                return [Of(X.Type, dims.ToArray(), Values(X))];
            }
            case "Transpose":
            {
                var perm = n.GetInts("perm") is { Length: > 0 } p ? p : Enumerable.Range(0, X.Dims.Length).Reverse().Select(i => (long)i).ToArray();
                var dims = perm.Select(a => X.Dims[a]).ToArray();
                double[]? v = X.Dims.Length <= 1 ? Values(X) : null;
                return [Of(X.Type, dims, v)];
            }
            case "Concat":
            {
                var parts = ins.Where(t => t is not null).Select(t => t!).ToList();
                int rank = parts[0].Dims.Length;
                int axis = Shapes.Axis(n.GetInt("axis", 0), rank);
                var dims = (long[])parts[0].Dims.Clone();
                dims[axis] = parts.Sum(t => t.Dims[axis]);
                double[]? v = rank == 1 && parts.All(t => Values(t) is not null) ? parts.SelectMany(t => Values(t)!).ToArray() : null;
                return [Of(X.Type, dims, v)];
            }
            case "Shape":
            {
                long rank = X.Dims.Length;
                long start = n.GetInt("start", 0), end = n.GetInt("end", rank);
                if (start < 0) start += rank; if (end < 0) end += rank;
                start = Math.Clamp(start, 0, rank); end = Math.Clamp(end, start, rank);
                var v = X.Dims[(int)start..(int)end].Select(d => (double)d).ToArray();
                return [Of(DataType.Int64, [v.Length], v)];
            }
            case "Size": return [Of(DataType.Int64, [], [Tensor.ElementCount(X.Dims)])];
            case "Gather":
            {
                var idx = ins[1]!;
                int axis = Shapes.Axis(n.GetInt("axis", 0), X.Dims.Length);
                var dims = X.Dims[..axis].Concat(idx.Dims).Concat(X.Dims[(axis + 1)..]).ToArray();
                double[]? v = null;
                if (X.Dims.Length == 1 && Values(X) is { } data && Ints(idx) is { } ii)
                    v = ii.Select(i => data[i < 0 ? i + data.Length : i]).ToArray();
                return [Of(X.Type, dims, v)];
            }
            case "Slice":
            {
                long[]? starts, ends, axes, steps;
                if (opset < 10) { starts = n.GetInts("starts"); ends = n.GetInts("ends"); axes = n.GetInts("axes"); steps = null; }
                else
                {
                    starts = Ints(ins[1]); ends = Ints(ins[2]);
                    axes = ins.Length > 3 && ins[3] is not null ? Ints(ins[3]) : null;
                    steps = ins.Length > 4 && ins[4] is not null ? Ints(ins[4]) : null;
                    if (ins.Length > 3 && ins[3] is not null && axes is null || ins.Length > 4 && ins[4] is not null && steps is null) return null;
                }
                if (starts is null || ends is null) return null;
                int rank = X.Dims.Length;
                axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
                steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
                var dims = (long[])X.Dims.Clone();
                var first = new long[rank]; var step = Enumerable.Repeat(1L, rank).ToArray();
                for (int i = 0; i < starts.Length; i++)
                {
                    int a = Shapes.Axis(axes[i], rank);
                    long d = X.Dims[a], s = starts[i], e = ends[i], st = steps[i];
                    if (st == 0) return null;
                    if (s < 0) s += d; if (e < 0) e += d;
                    if (st > 0) { s = Math.Clamp(s, 0, d); e = Math.Clamp(e, 0, d); dims[a] = Math.Max(0, (e - s + st - 1) / st); }
                    else { s = Math.Clamp(s, 0, d - 1); e = Math.Clamp(e, -1, d - 1); dims[a] = Math.Max(0, (s - e + (-st) - 1) / (-st)); }
                    first[a] = s; step[a] = st;
                }
                double[]? v = null;
                if (rank == 1 && Values(X) is { } data) v = Enumerable.Range(0, (int)dims[0]).Select(i => data[first[0] + i * step[0]]).ToArray();
                return [Of(X.Type, dims, v)];
            }
            case "Resize" or "Upsample":
            {
                // Output sizes: the `sizes` input when given, else floor(input dim × scale) per axis (ONNX spec).
                if (n.Attributes.ContainsKey("axes")) return null;
                int rank = X.Dims.Length;
                long[]? sizes = null;
                double[]? scales = null;
                if (n.OpType == "Upsample" && opset < 9) scales = n.GetFloats("scales")?.Select(f => (double)f).ToArray();
                else if (n.OpType == "Upsample" || opset < 11) scales = ins.Length > 1 ? Values(ins[1]) : null;
                else
                {
                    if (ins.Length > 3 && ins[3] is { } sz && Tensor.ElementCount(sz.Dims) > 0) sizes = Ints(sz);
                    else if (ins.Length > 2 && ins[2] is { } sc && Tensor.ElementCount(sc.Dims) > 0) scales = Values(sc);
                }
                long[] dims;
                if (sizes is { } given) dims = given;
                else if (scales is { } f && f.All(v => double.IsFinite(v) && v > 0))
                    dims = X.Dims.Select((d, i) => i < f.Length ? (long)Math.Floor(d * f[i]) : d).ToArray();
                else return null;
                if (dims.Length != rank) return null;
                return [Of(X.Type, dims)];
            }
            case "Pad":
            {
                long[]? pads = opset < 11 ? n.GetInts("pads") ?? n.GetInts("paddings") : Ints(ins[1]);
                if (pads is null) return null;
                int rank = X.Dims.Length;
                var axes = opset >= 18 && ins.Length > 3 && ins[3] is not null ? Ints(ins[3]) : Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
                if (axes is null || pads.Length != 2 * axes.Length) return null;
                var dims = (long[])X.Dims.Clone();
                for (int i = 0; i < axes.Length; i++) { int a = Shapes.Axis(axes[i], rank); dims[a] += pads[i] + pads[i + axes.Length]; }
                return [Of(X.Type, dims)];
            }
            case "Expand":
            {
                var shape = Ints(ins[1]);
                if (shape is null) return null;
                var dims = Broadcast(X.Dims, shape);
                double[]? v = Values(X) is { } data && Tensor.ElementCount(dims) <= ValueLimit ? BroadcastTo(X.Dims, data, dims) : null;
                return [Of(X.Type, dims, v)];
            }
            case "ConstantOfShape":
            {
                var shape = Ints(X);
                if (shape is null) return null;
                var value = n.Attributes.TryGetValue("value", out var a) && a.Tensor is { } t ? t : null;
                var type = value?.Type ?? DataType.Float;
                double fill = value is null ? 0 : value.ToDoubles()[0];
                long count = Tensor.ElementCount(shape);
                return [Of(type, shape, count <= ValueLimit ? Enumerable.Repeat(fill, (int)count).ToArray() : null)];
            }
            case "Constant":
            {
                if (n.Attributes.TryGetValue("value", out var a) && a.Tensor is { } t)
                    return [new InferredTensor(t.Type, t.Dims, t.Length <= ValueLimit ? t : null)];
                return null;
            }
            case "ReduceMean" or "ReduceSum" or "ReduceMax" or "ReduceMin" or "ReduceProd" or "ReduceL2" or "ReduceL1" or "ReduceSumSquare" or "ReduceLogSumExp":
            {
                bool axesAsInput = n.OpType == "ReduceSum" ? opset >= 13 : opset >= 18;
                long[]? axes = axesAsInput ? (ins.Length > 1 && ins[1] is not null ? Ints(ins[1]) : []) : n.GetInts("axes") ?? [];
                if (axes is null) return null;
                bool keep = n.GetInt("keepdims", 1) != 0;
                int rank = X.Dims.Length;
                var set = axes.Length == 0 && n.GetInt("noop_with_empty_axes", 0) == 0
                    ? Enumerable.Range(0, rank).ToHashSet()
                    : axes.Select(a => Shapes.Axis(a, rank)).ToHashSet();
                var dims = new List<long>();
                for (int i = 0; i < rank; i++)
                    if (!set.Contains(i)) dims.Add(X.Dims[i]);
                    else if (keep) dims.Add(1);
                return [Of(X.Type, dims.ToArray())];
            }
            default:
                return null;
        }
    }

    /// <summary>Output spatial sizes of a convolution or pooling (explicit pads, auto_pad SAME_UPPER/SAME_LOWER/VALID, ceil mode).</summary>
    private static void SpatialOut(Node n, long[] x, long[] kernel, long[] dims, bool ceil, bool dilations)
    {
        int r = kernel.Length;
        var strides = n.GetInts("strides") is { Length: > 0 } s ? s : Enumerable.Repeat(1L, r).ToArray();
        var dil = dilations && n.GetInts("dilations") is { Length: > 0 } d ? d : Enumerable.Repeat(1L, r).ToArray();
        var pads = n.GetInts("pads") is { Length: > 0 } p ? p : new long[2 * r];
        string auto = n.GetString("auto_pad", "NOTSET");
        for (int i = 0; i < r; i++)
        {
            long inSize = x[i + 2], k = (kernel[i] - 1) * dil[i] + 1;
            long outSize;
            if (auto is "SAME_UPPER" or "SAME_LOWER") outSize = (inSize + strides[i] - 1) / strides[i];
            else if (auto == "VALID") outSize = (inSize - k) / strides[i] + 1;
            else
            {
                long span = inSize + pads[i] + pads[i + r] - k;
                outSize = (ceil ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
                // ceil mode: the last window must start inside the input or the left padding
                if (ceil && (outSize - 1) * strides[i] >= inSize + pads[i]) outSize--;
            }
            dims[i + 2] = outSize;
        }
    }

    /// <summary>Numpy-style broadcast of two shapes.</summary>
    public static long[] Broadcast(long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            long db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1) throw new SalientException($"shapes {Shapes.Format(a)} and {Shapes.Format(b)} do not broadcast");
            r[i] = da == 1 ? db : da;
        }
        return r;
    }

    private static double[] BroadcastTo(long[] dims, double[] v, long[] to)
    {
        long count = Tensor.ElementCount(to);
        var r = new double[count];
        var ts = Shapes.Strides(to);
        int off = to.Length - dims.Length;
        var s = Shapes.Strides(dims);
        for (long i = 0; i < count; i++)
        {
            long src = 0, rem = i;
            for (int k = 0; k < to.Length; k++)
            {
                long c = rem / ts[k]; rem %= ts[k];
                if (k >= off && dims[k - off] != 1) src += c * s[k - off];
            }
            r[i] = v[src];
        }
        return r;
    }

    private static double[] BroadcastApply(long[] da, double[] a, long[] db, double[] b, long[] to, Func<double, double, double> f)
    {
        var x = BroadcastTo(da, a, to); var y = BroadcastTo(db, b, to);
        var r = new double[x.Length];
        for (int i = 0; i < r.Length; i++) r[i] = f(x[i], y[i]);
        return r;
    }
}
