namespace Salient.Onnx;

/// <summary>Small helpers for shapes given as long[].</summary>
internal static class Shapes
{
    public static string Format(IReadOnlyList<long> dims) => "[" + string.Join(",", dims) + "]";

    public static string Format(IReadOnlyList<Dim> dims) => "[" + string.Join(",", dims) + "]";

    public static long[] Strides(IReadOnlyList<long> dims)
    {
        var s = new long[dims.Count];
        long acc = 1;
        for (int i = dims.Count - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
        return s;
    }

    /// <summary>Normalizes a possibly negative axis for a tensor of the given rank.</summary>
    public static int Axis(long axis, int rank, string what = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new SalientException($"{what} {axis} is out of range for rank {rank}");
        return (int)a;
    }

    public static bool Equal(IReadOnlyList<long> a, IReadOnlyList<long> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++) if (a[i] != b[i]) return false;
        return true;
    }
}

/// <summary>A dimension of a declared shape: a fixed size, or a symbolic/unknown one (dynamic).</summary>
internal readonly record struct Dim(long Value, string? Param)
{
    public bool IsFixed => Value > 0 && Param is null;
    public static Dim Fixed(long v) => new(v, null);
    public static Dim Dynamic(string? name) => new(-1, string.IsNullOrEmpty(name) ? "?" : name);
    public override string ToString() => IsFixed ? Value.ToString() : (Param ?? "?");
}

/// <summary>A named, typed value of the graph (input, output or annotated intermediate).</summary>
internal sealed record ValueInfo(string Name, DataType Type, Dim[]? Shape)
{
    public int Rank => Shape?.Length ?? -1;
}
