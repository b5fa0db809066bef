namespace Salient.Onnx;

/// <summary>
/// Folds constant weight subgraphs at load: nodes whose inputs are all constant and whose op is
/// one of a small, exactly-specified set (Constant, Identity, Cast, DequantizeLinear, Reshape,
/// Flatten, Squeeze, Unsqueeze, Transpose, Concat, Shape, and float Add/Sub/Mul/Div/Sqrt/Reciprocal)
/// become initializers. So a model whose weights sit behind DequantizeLinear looks to every method
/// exactly like its float twin. Unused initializers are dropped afterwards.
/// </summary>
internal static class ConstantFolder
{
    public static int Fold(Graph g)
    {
        int folded = 0;
        var outputs = new HashSet<string>(g.Outputs.Select(o => o.Name));
        var kept = new List<Node>(g.Nodes.Count);
        foreach (var n in g.Nodes)
        {
            bool allConst = n.Inputs.All(i => i == "" || g.Initializers.ContainsKey(i));
            if (allConst && n.IsDefaultDomain && n.Outputs.Count == 1 && !outputs.Contains(n.Outputs[0])
                && TryEvaluate(n, g, g.DefaultOpset) is { } result)
            {
                result.Name = n.Outputs[0];
                g.Initializers[result.Name] = result;
                folded++;
            }
            else kept.Add(n);
        }
        g.Nodes.Clear();
        g.Nodes.AddRange(kept);
        g.Invalidate();
        RemoveUnusedInitializers(g);
        return folded;
    }

    public static void RemoveUnusedInitializers(Graph g)
    {
        var used = new HashSet<string>(g.Nodes.SelectMany(n => n.Inputs));
        foreach (var o in g.Outputs) used.Add(o.Name);
        foreach (var name in g.Initializers.Keys.ToList())
            if (!used.Contains(name)) g.Initializers.Remove(name);
    }

    private static Tensor? TryEvaluate(Node n, Graph g, long opset)
    {
        // A malformed node may have fewer inputs than its op reads (a node with none passes "all inputs constant").
        Tensor In(int i) => i < n.Inputs.Count && g.Initializers.TryGetValue(n.Inputs[i], out var t)
            ? t : throw new SalientException($"{n.Describe()} has {n.Inputs.Count} inputs; its op reads input {i}, which is missing");
        switch (n.OpType)
        {
            case "Constant":
                if (n.GetTensor("value") is { } t) return Copy(t);
                if (n.Has("value_float")) return Tensor.Scalar("", n.GetFloat("value_float", 0));
                if (n.Has("value_floats")) return Tensor.Vector("", n.GetFloats("value_floats")!);
                if (n.Has("value_int")) return new Tensor("", DataType.Int64, [], new[] { n.GetInt("value_int", 0) });
                if (n.Has("value_ints")) return Tensor.Vector("", n.GetInts("value_ints")!);
                return null;
            case "Identity":
                return Copy(In(0));
            case "Cast":
                {
                    var to = (DataType)n.GetInt("to", 1);
                    var x = In(0);
                    if (to == DataType.String || x.Type == DataType.String) return null;
                    return DataTypes.IsFloating(to) || DataTypes.IsFloating(x.Type)
                        ? Tensor.FromFloatsAs("", to, x.Dims, x.ToFloats())
                        : Tensor.FromFloatsAs("", to, x.Dims, Array.ConvertAll(x.ToInt64s(), v => (float)v)) is var r && x.ToInt64s().All(v => Math.Abs(v) < (1L << 24)) ? r : null;
                }
            case "DequantizeLinear":
                return Dequantize(n, In(0), In(1), n.HasInput(2) ? In(2) : null);
            case "Reshape":
                {
                    var x = In(0);
                    long[] shape = opset >= 5 ? In(1).ToInt64s() : n.GetInts("shape") ?? [];
                    return new Tensor("", x.Type, ResolveReshape(x.Dims, shape, n.GetInt("allowzero", 0) != 0, n), x.Data);
                }
            case "Flatten":
                {
                    var x = In(0);
                    int axis = Shapes.Axis(n.GetInt("axis", 1), x.Rank + 1);
                    long a = 1; for (int i = 0; i < axis; i++) a *= x.Dims[i];
                    return new Tensor("", x.Type, [a, x.Length / Math.Max(a, 1)], x.Data);
                }
            case "Squeeze":
            case "Unsqueeze":
                {
                    var x = In(0);
                    long[]? axes = opset >= 13 ? (n.HasInput(1) ? In(1).ToInt64s() : null) : n.GetInts("axes");
                    return new Tensor("", x.Type, n.OpType == "Squeeze" ? SqueezeDims(x.Dims, axes) : UnsqueezeDims(x.Dims, axes ?? []), x.Data);
                }
            case "Transpose":
                return Transpose(In(0), n.GetInts("perm"));
            case "Shape":
                {
                    var x = In(0);
                    return Tensor.Vector("", x.Dims.ToArray());
                }
            case "Concat":
                return Concat(n.Inputs.Where(i => i != "").Select(i => g.Initializers[i]).ToList(), n.GetInt("axis", 0));
            case "Add" or "Sub" or "Mul" or "Div":
                {
                    var a = In(0); var b = In(1);
                    if (!DataTypes.IsFloating(a.Type) && a.Type != DataType.Int64) return null;
                    Func<float, float, float> f = n.OpType switch { "Add" => (x, y) => x + y, "Sub" => (x, y) => x - y, "Mul" => (x, y) => x * y, _ => (x, y) => x / y };
                    if (a.Type == DataType.Int64)
                    {
                        if (b.Type != DataType.Int64) return null;
                        Func<long, long, long> fi = n.OpType switch { "Add" => (x, y) => x + y, "Sub" => (x, y) => x - y, "Mul" => (x, y) => x * y, _ => (x, y) => y == 0 ? 0 : x / y };
                        var (dims, idxA, idxB) = Broadcast.Indices(a.Dims, b.Dims);
                        var la = a.ToInt64s(); var lb = b.ToInt64s();
                        var r = new long[idxA.Length];
                        for (int i = 0; i < r.Length; i++) r[i] = fi(la[idxA[i]], lb[idxB[i]]);
                        return Tensor.FromInt64s("", dims, r);
                    }
                    else
                    {
                        var (dims, idxA, idxB) = Broadcast.Indices(a.Dims, b.Dims);
                        var fa = a.ToFloats(); var fb = b.ToFloats();
                        var r = new float[idxA.Length];
                        for (int i = 0; i < r.Length; i++) r[i] = f(fa[idxA[i]], fb[idxB[i]]);
                        return Tensor.FromFloatsAs("", a.Type, dims, r);
                    }
                }
            case "Sqrt" or "Reciprocal" or "Neg":
                {
                    var x = In(0);
                    if (!DataTypes.IsFloating(x.Type)) return null;
                    Func<float, float> f = n.OpType switch { "Sqrt" => MathF.Sqrt, "Neg" => v => -v, _ => v => 1f / v };
                    return Tensor.FromFloatsAs("", x.Type, x.Dims, Array.ConvertAll(x.ToFloats(), v => f(v)));
                }
            default:
                return null;
        }
    }

    private static Tensor Copy(Tensor t) => new("", t.Type, t.Dims, t.Data);

    private static Tensor Dequantize(Node n, Tensor x, Tensor scale, Tensor? zero)
    {
        var q = x.ToFloats();
        var s = scale.ToFloats();
        var z = zero?.ToFloats() ?? new float[s.Length];
        var outType = scale.Type == DataType.Float16 ? DataType.Float16 : DataType.Float;
        var r = new float[q.Length];
        if (s.Length == 1)
        {
            for (int i = 0; i < q.Length; i++) r[i] = (q[i] - z[0]) * s[0];
        }
        else
        {
            if (n.Has("block_size") && n.GetInt("block_size", 0) > 0)
                throw new SalientException($"{n.Describe()}: blocked DequantizeLinear is not supported");
            int axis = Shapes.Axis(n.GetInt("axis", 1), x.Rank);
            var strides = Shapes.Strides(x.Dims);
            long d = x.Dims[axis];
            if (d != s.Length) throw new SalientException($"{n.Describe()}: scale has {s.Length} values but axis {axis} has {d}");
            for (int i = 0; i < q.Length; i++)
            {
                int c = (int)(i / strides[axis] % d);
                r[i] = (q[i] - z[c]) * s[c];
            }
        }
        return Tensor.FromFloatsAs("", outType, x.Dims, r);
    }

    internal static long[] ResolveReshape(long[] inDims, long[] shape, bool allowZero, Node n)
    {
        var r = (long[])shape.Clone();
        long total = Tensor.ElementCount(inDims);
        int infer = -1;
        long known = 1;
        for (int i = 0; i < r.Length; i++)
        {
            if (r[i] == 0 && !allowZero) r[i] = i < inDims.Length ? inDims[i] : throw new SalientException($"{n.Describe()}: shape copies dimension {i} that the input lacks");
            if (r[i] == -1) { if (infer >= 0) throw new SalientException($"{n.Describe()}: shape has two -1 dimensions"); infer = i; }
            else known *= r[i];
        }
        if (infer >= 0) r[infer] = known == 0 ? 0 : total / known;
        if (Tensor.ElementCount(r) != total)
            throw new SalientException($"{n.Describe()}: cannot reshape {Shapes.Format(inDims)} to {Shapes.Format(shape)}");
        return r;
    }

    internal static long[] SqueezeDims(long[] dims, long[]? axes)
    {
        if (axes is null || axes.Length == 0) return dims.Where(d => d != 1).ToArray();
        var set = axes.Select(a => Shapes.Axis(a, dims.Length)).ToHashSet();
        return dims.Where((_, i) => !set.Contains(i)).ToArray();
    }

    internal static long[] UnsqueezeDims(long[] dims, long[] axes)
    {
        int rank = dims.Length + axes.Length;
        var set = axes.Select(a => Shapes.Axis(a, rank)).ToHashSet();
        var r = new long[rank];
        int j = 0;
        for (int i = 0; i < rank; i++) r[i] = set.Contains(i) ? 1 : dims[j++];
        return r;
    }

    internal static Tensor Transpose(Tensor x, long[]? perm)
    {
        int rank = x.Rank;
        perm ??= Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        var outDims = perm.Select(p => x.Dims[p]).ToArray();
        var inStrides = Shapes.Strides(x.Dims);
        var outStrides = Shapes.Strides(outDims);
        var data = Array.CreateInstance(x.Data.GetType().GetElementType()!, x.Length);
        for (long o = 0; o < x.Length; o++)
        {
            long rem = o, src = 0;
            for (int d = 0; d < rank; d++)
            {
                long idx = rem / outStrides[d];
                rem %= outStrides[d];
                src += idx * inStrides[perm[d]];
            }
            data.SetValue(x.Data.GetValue(src), o);
        }
        return new Tensor("", x.Type, outDims, data);
    }

    private static Tensor? Concat(List<Tensor> parts, long axisAttr)
    {
        if (parts.Count == 0 || parts.Any(p => p.Type != parts[0].Type)) return null;
        int rank = parts[0].Rank;
        int axis = Shapes.Axis(axisAttr, rank);
        var outDims = (long[])parts[0].Dims.Clone();
        outDims[axis] = parts.Sum(p => p.Dims[axis]);
        long outer = 1; for (int i = 0; i < axis; i++) outer *= outDims[i];
        var data = Array.CreateInstance(parts[0].Data.GetType().GetElementType()!, Tensor.ElementCount(outDims));
        long pos = 0;
        for (long o = 0; o < outer; o++)
            foreach (var p in parts)
            {
                long chunk = p.Length / Math.Max(outer, 1);
                Array.Copy(p.Data, o * chunk, data, pos, chunk);
                pos += chunk;
            }
        return new Tensor("", parts[0].Type, outDims, data);
    }
}

/// <summary>NumPy-style (multidirectional) broadcasting index maps.</summary>
internal static class Broadcast
{
    public static long[] Shape(IReadOnlyList<long> a, IReadOnlyList<long> b)
    {
        int rank = Math.Max(a.Count, b.Count);
        var r = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long da = i - (rank - a.Count) >= 0 ? a[i - (rank - a.Count)] : 1;
            long db = i - (rank - b.Count) >= 0 ? b[i - (rank - b.Count)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new SalientException($"shapes {Shapes.Format(a)} and {Shapes.Format(b)} do not broadcast");
            r[i] = Math.Max(da, db);
        }
        return r;
    }

    /// <summary>For each output element, the flat index into a and into b.</summary>
    public static (long[] Dims, long[] IndexA, long[] IndexB) Indices(long[] a, long[] b)
    {
        var dims = Shape(a, b);
        int rank = dims.Length;
        long n = Tensor.ElementCount(dims);
        var ia = new long[n]; var ib = new long[n];
        var sa = StridesFor(a, rank); var sb = StridesFor(b, rank);
        var outStrides = Shapes.Strides(dims);
        for (long o = 0; o < n; o++)
        {
            long rem = o, pa = 0, pb = 0;
            for (int d = 0; d < rank; d++)
            {
                long idx = rem / outStrides[d];
                rem %= outStrides[d];
                pa += idx * sa[d]; pb += idx * sb[d];
            }
            ia[o] = pa; ib[o] = pb;
        }
        return (dims, ia, ib);
    }

    private static long[] StridesFor(long[] dims, int rank)
    {
        var own = Shapes.Strides(dims);
        var r = new long[rank];
        for (int i = 0; i < dims.Length; i++)
            r[rank - dims.Length + i] = dims[i] == 1 ? 0 : own[i];
        return r;
    }
}
