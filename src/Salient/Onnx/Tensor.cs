using System.Runtime.InteropServices;

namespace Salient.Onnx;

/// <summary>
/// A constant tensor held in memory (an initializer or a folded constant). <see cref="Data"/> is a
/// typed array whose element type matches <see cref="Type"/>: float[], double[], long[], int[],
/// short[], ushort[], sbyte[], byte[], bool[], Half[], uint[], ulong[] (BFloat16 is kept as ushort[]).
/// </summary>
internal sealed class Tensor
{
    public Tensor(string name, DataType type, long[] dims, Array data)
    {
        Name = name;
        Type = type;
        Dims = dims;
        Data = data;
        if (data.Length != ElementCount(dims))
            throw new SalientException($"tensor '{name}' has {data.Length} values but its shape {Shapes.Format(dims)} needs {ElementCount(dims)}");
    }

    public string Name { get; set; }
    public DataType Type { get; }
    public long[] Dims { get; }
    public Array Data { get; }
    /// <summary>Where <see cref="Data"/>'s bytes lie, unchanged, in the model file (big initializers read by <see cref="ModelFileScanner"/>); null otherwise.</summary>
    public FileSlice? Source { get; init; }
    public long Length => Data.Length;
    public int Rank => Dims.Length;

    public static long ElementCount(IReadOnlyList<long> dims)
    {
        long n = 1;
        foreach (var d in dims) n *= d;
        return n;
    }

    /// <summary>
    /// The element count of a shape read from a file: checked 64-bit product, every dimension ≥ 0;
    /// anything else is a one-line <see cref="SalientException"/> naming <paramref name="what"/>.
    /// </summary>
    public static long CheckedElementCount(IReadOnlyList<long> dims, string what)
    {
        long n = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw new SalientException($"{what} has a negative dimension in its shape {Shapes.Format(dims)}");
            try { n = checked(n * d); }
            catch (OverflowException) { throw new SalientException($"{what} has a shape {Shapes.Format(dims)} whose element count overflows"); }
        }
        return n;
    }

    public static Tensor FromFloats(string name, long[] dims, float[] data) => new(name, DataType.Float, dims, data);
    public static Tensor FromInt64s(string name, long[] dims, long[] data) => new(name, DataType.Int64, dims, data);
    public static Tensor Scalar(string name, float v) => new(name, DataType.Float, [], new[] { v });
    public static Tensor Vector(string name, params long[] v) => new(name, DataType.Int64, [v.Length], v);
    public static Tensor Vector(string name, float[] v) => new(name, DataType.Float, [v.Length], v);

    /// <summary>The values converted to float (any numeric type).</summary>
    public float[] ToFloats() => Data switch
    {
        float[] f => f,
        double[] d => Array.ConvertAll(d, x => (float)x),
        long[] l => Array.ConvertAll(l, x => (float)x),
        int[] i => Array.ConvertAll(i, x => (float)x),
        short[] s => Array.ConvertAll(s, x => (float)x),
        ushort[] u => Type == DataType.BFloat16 ? Array.ConvertAll(u, BFloat16ToFloat) : Array.ConvertAll(u, x => (float)x),
        sbyte[] sb => Array.ConvertAll(sb, x => (float)x),
        byte[] b => Array.ConvertAll(b, x => (float)x),
        bool[] bo => Array.ConvertAll(bo, x => x ? 1f : 0f),
        Half[] h => Array.ConvertAll(h, x => (float)x),
        uint[] ui => Array.ConvertAll(ui, x => (float)x),
        ulong[] ul => Array.ConvertAll(ul, x => (float)x),
        _ => throw new SalientException($"tensor '{Name}' of type {Type} has no numeric value"),
    };

    /// <summary>The values converted to double (any numeric type).</summary>
    public double[] ToDoubles() => Data is double[] d ? d : Array.ConvertAll(ToFloats(), x => (double)x);

    /// <summary>The values converted to int64 (integer and bool types; floats are truncated).</summary>
    public long[] ToInt64s() => Data switch
    {
        long[] l => l,
        int[] i => Array.ConvertAll(i, x => (long)x),
        short[] s => Array.ConvertAll(s, x => (long)x),
        ushort[] u => Array.ConvertAll(u, x => (long)x),
        sbyte[] sb => Array.ConvertAll(sb, x => (long)x),
        byte[] b => Array.ConvertAll(b, x => (long)x),
        bool[] bo => Array.ConvertAll(bo, x => x ? 1L : 0L),
        uint[] ui => Array.ConvertAll(ui, x => (long)x),
        ulong[] ul => Array.ConvertAll(ul, x => (long)x),
        float[] f => Array.ConvertAll(f, x => (long)x),
        double[] d => Array.ConvertAll(d, x => (long)x),
        _ => throw new SalientException($"tensor '{Name}' of type {Type} has no integer value"),
    };

    public static float BFloat16ToFloat(ushort v) => BitConverter.Int32BitsToSingle(v << 16);

    /// <summary>Allocates a typed array of <paramref name="n"/> elements for <paramref name="type"/>.</summary>
    public static Array NewArray(DataType type, long n) => n < 0 || n > Array.MaxLength
        ? throw new SalientException($"a tensor of {n} elements cannot be allocated")
        : type switch
    {
        DataType.Float => new float[n],
        DataType.Double => new double[n],
        DataType.Int64 => new long[n],
        DataType.Int32 => new int[n],
        DataType.Int16 => new short[n],
        DataType.UInt16 or DataType.BFloat16 => new ushort[n],
        DataType.Int8 => new sbyte[n],
        DataType.UInt8 => new byte[n],
        DataType.Bool => new bool[n],
        DataType.Float16 => new Half[n],
        DataType.UInt32 => new uint[n],
        DataType.UInt64 => new ulong[n],
        _ => throw new SalientException($"tensor element type {type} is not supported"),
    };

    /// <summary>A tensor of <paramref name="type"/> holding <paramref name="values"/> converted from float.</summary>
    public static Tensor FromFloatsAs(string name, DataType type, long[] dims, float[] values)
    {
        Array a = NewArray(type, values.Length);
        switch (a)
        {
            case float[] f: values.CopyTo(f, 0); break;
            case double[] d: for (int i = 0; i < values.Length; i++) d[i] = values[i]; break;
            case Half[] h: for (int i = 0; i < values.Length; i++) h[i] = (Half)values[i]; break;
            case long[] l: for (int i = 0; i < values.Length; i++) l[i] = (long)values[i]; break;
            case int[] n: for (int i = 0; i < values.Length; i++) n[i] = (int)values[i]; break;
            case sbyte[] sb: for (int i = 0; i < values.Length; i++) sb[i] = (sbyte)values[i]; break;
            case byte[] b: for (int i = 0; i < values.Length; i++) b[i] = (byte)values[i]; break;
            case bool[] bo: for (int i = 0; i < values.Length; i++) bo[i] = values[i] != 0; break;
            case short[] s: for (int i = 0; i < values.Length; i++) s[i] = (short)values[i]; break;
            case ushort[] u when type == DataType.BFloat16:
                for (int i = 0; i < values.Length; i++) u[i] = (ushort)(BitConverter.SingleToInt32Bits(values[i]) >> 16);
                break;
            case ushort[] u: for (int i = 0; i < values.Length; i++) u[i] = (ushort)values[i]; break;
            case uint[] ui: for (int i = 0; i < values.Length; i++) ui[i] = (uint)values[i]; break;
            case ulong[] ul: for (int i = 0; i < values.Length; i++) ul[i] = (ulong)values[i]; break;
        }
        return new Tensor(name, type, dims, a);
    }

    /// <summary>The raw little-endian bytes of the data (not for strings).</summary>
    public byte[] ToRawBytes()
    {
        int size = DataTypes.SizeOf(Type);
        var bytes = new byte[Data.Length * size];
        switch (Data)
        {
            case bool[] bo:
                for (int i = 0; i < bo.Length; i++) bytes[i] = bo[i] ? (byte)1 : (byte)0;
                break;
            default:
                var handle = GCHandle.Alloc(Data, GCHandleType.Pinned);
                try { Marshal.Copy(handle.AddrOfPinnedObject(), bytes, 0, bytes.Length); }
                finally { handle.Free(); }
                break;
        }
        return bytes;
    }

    public override string ToString() => $"{Name}: {Type}{Shapes.Format(Dims)}";
}
