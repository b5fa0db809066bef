using Google.Protobuf;
using Salient.Onnx.Proto;

namespace Salient.Onnx;

/// <summary>Reads an ONNX model file into a <see cref="Graph"/> (constant folding is separate: <see cref="ConstantFolder"/>).</summary>
internal static class OnnxReader
{
    public static Graph ReadFile(string path)
    {
        if (!File.Exists(path))
            throw new SalientException(Directory.Exists(path) ? $"model path '{path}' is a folder, not an .onnx file" : $"model file '{path}' not found");
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        // One pass over the file, big weights straight into their arrays (see ModelFileScanner);
        // anything unusual falls back to reading the whole file, whose parser words the errors.
        (ModelProto Model, List<Tensor> Big)? scanned;
        try { scanned = ModelFileScanner.TryRead(path, path, dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new SalientException($"cannot read model file '{path}': {e.Message}", e); }
        if (scanned is { } sc) return FromProto(sc.Model, path, dir, sc.Big);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new SalientException($"cannot read model file '{path}': {e.Message}", e); }
        return Read(bytes, path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    public static Graph Read(byte[] bytes, string nameForMessages = "model", string? externalDataDir = null)
    {
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidOperationException or ArgumentException)
        { throw new SalientException($"'{nameForMessages}' is not a valid ONNX model (protobuf parse failed: {e.Message.TrimEnd('.')}); is the file truncated?", e); }
        return FromProto(model, nameForMessages, externalDataDir, []);
    }

    /// <summary>The graph of a parsed model; <paramref name="big"/>: initializers read apart from the model message (already converted).</summary>
    private static Graph FromProto(ModelProto model, string nameForMessages, string? externalDataDir, List<Tensor> big)
    {
        if (model.Graph is null || model.Graph.Node.Count == 0 || model.IrVersion <= 0)
            throw new SalientException($"'{nameForMessages}' is not a valid ONNX model (no graph, no nodes or no IR version); is it really an .onnx file?");
        if (model.IrVersion < 3)
            throw new SalientException($"'{nameForMessages}' has ONNX IR version {model.IrVersion}; Salient reads IR 3 and later");

        var g = new Graph { IrVersion = model.IrVersion, ProducerName = model.ProducerName, Name = model.Graph.Name };
        foreach (var op in model.OpsetImport) g.Opsets[op.Domain == "ai.onnx" ? "" : op.Domain] = op.Version;
        if (!g.Opsets.ContainsKey("")) g.Opsets[""] = 1;

        foreach (var t in model.Graph.Initializer)
            g.Initializers[t.Name] = ConvertTensor(t, nameForMessages, externalDataDir);
        foreach (var t in big) g.Initializers[t.Name] = t;
        foreach (var vi in model.Graph.Input)
            if (!g.Initializers.ContainsKey(vi.Name)) g.Inputs.Add(ConvertValueInfo(vi));
        foreach (var vi in model.Graph.Output) g.Outputs.Add(ConvertValueInfo(vi));
        foreach (var vi in model.Graph.ValueInfo) g.ValueInfos[vi.Name] = ConvertValueInfo(vi);
        int index = 0;
        foreach (var n in model.Graph.Node)
        {
            var node = new Node(n.OpType, n.Input, n.Output, n.Name, n.Domain);
            foreach (var a in n.Attribute) node.Attributes[a.Name] = ConvertAttribute(a, nameForMessages, externalDataDir);
            if (node.Outputs.Count == 0) throw new SalientException($"'{nameForMessages}': node #{index} ({n.OpType}) has no outputs");
            g.Nodes.Add(node);
            index++;
        }
        if (g.Inputs.Count == 0) throw new SalientException($"'{nameForMessages}' has no graph input (every input is an initializer)");
        if (g.Outputs.Count == 0) throw new SalientException($"'{nameForMessages}' has no graph output");
        g.SortTopologically();
        return g;
    }

    internal static ValueInfo ConvertValueInfo(ValueInfoProto vi)
    {
        if (vi.Type?.TensorType is not { } tt) return new ValueInfo(vi.Name, DataType.Undefined, null);
        Dim[]? shape = tt.Shape is null ? null : tt.Shape.Dim.Select(d =>
            d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue > 0
                ? Dim.Fixed(d.DimValue)
                : Dim.Dynamic(d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : null)).ToArray();
        return new ValueInfo(vi.Name, (DataType)tt.ElemType, shape);
    }

    internal static NodeAttribute ConvertAttribute(AttributeProto a, string model, string? dir)
    {
        var type = a.Type;
        // Very old files may leave 'type' unset; infer it from the populated field.
        if (type == AttributeProto.Types.AttributeType.Undefined)
            type = a.Ints.Count > 0 ? AttributeProto.Types.AttributeType.Ints
                : a.Floats.Count > 0 ? AttributeProto.Types.AttributeType.Floats
                : a.Strings.Count > 0 ? AttributeProto.Types.AttributeType.Strings
                : a.T is not null ? AttributeProto.Types.AttributeType.Tensor
                : a.G is not null ? AttributeProto.Types.AttributeType.Graph
                : !a.S.IsEmpty ? AttributeProto.Types.AttributeType.String
                : a.F != 0 ? AttributeProto.Types.AttributeType.Float
                : AttributeProto.Types.AttributeType.Int;
        return type switch
        {
            AttributeProto.Types.AttributeType.Float => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Float, Float = a.F, Raw = a },
            AttributeProto.Types.AttributeType.Int => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Int, Int = a.I, Raw = a },
            AttributeProto.Types.AttributeType.String => new NodeAttribute { Name = a.Name, Kind = AttributeKind.String, String = a.S.ToStringUtf8(), Raw = a },
            AttributeProto.Types.AttributeType.Tensor => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Tensor, Tensor = ConvertTensor(a.T ?? new TensorProto(), model, dir), Raw = a },
            AttributeProto.Types.AttributeType.Floats => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Floats, Floats = a.Floats.ToArray(), Raw = a },
            AttributeProto.Types.AttributeType.Ints => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Ints, Ints = a.Ints.ToArray(), Raw = a },
            AttributeProto.Types.AttributeType.Strings => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Strings, Strings = a.Strings.Select(s => s.ToStringUtf8()).ToArray(), Raw = a },
            _ => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Other, Raw = a },
        };
    }

    internal static Tensor ConvertTensor(TensorProto t, string model, string? dir)
    {
        var type = (DataType)t.DataType;
        long[] dims = t.Dims.ToArray();
        long n = Tensor.ElementCount(dims);
        if (dims.Any(d => d < 0) || n > int.MaxValue)
            throw new SalientException($"'{model}': tensor '{t.Name}' has an invalid shape {Shapes.Format(dims)}");
        if (type == DataType.String)
            throw new SalientException($"'{model}': tensor '{t.Name}' holds strings; Salient handles numeric image models only");

        ReadOnlySpan<byte> raw = default;
        byte[]? external = null;
        FileSlice? source = null;
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            (external, source) = ReadExternal(t, model, dir);
            raw = external;
        }
        else if (!t.RawData.IsEmpty) raw = t.RawData.Span;

        Array data = Tensor.NewArray(type, n);
        if (raw.Length > 0 || external is not null)
        {
            int size = DataTypes.SizeOf(type);
            if (raw.Length != n * size)
                throw new SalientException($"'{model}': tensor '{t.Name}' has {raw.Length} bytes of data but shape {Shapes.Format(dims)} of {type} needs {n * size}; the file is truncated or corrupt");
            if (data is bool[] bo) for (int i = 0; i < n; i++) bo[i] = raw[i] != 0;
            else raw.CopyTo(AsSpan(data));
            // External data keeps where it came from: sessions point ORT at it instead of copying it.
            return new Tensor(t.Name, type, dims, data) { Source = data is bool[] || !BitConverter.IsLittleEndian ? null : source };
        }

        void Check(int count)
        {
            if (count != n)
                throw new SalientException($"'{model}': tensor '{t.Name}' has {count} values but shape {Shapes.Format(dims)} needs {n}; the file is corrupt");
        }
        switch (type)
        {
            case DataType.Float: Check(t.FloatData.Count); t.FloatData.CopyTo((float[])data, 0); break;
            case DataType.Double: Check(t.DoubleData.Count); t.DoubleData.CopyTo((double[])data, 0); break;
            case DataType.Int64: Check(t.Int64Data.Count); t.Int64Data.CopyTo((long[])data, 0); break;
            case DataType.UInt64 or DataType.UInt32:
                Check(t.Uint64Data.Count);
                for (int i = 0; i < n; i++)
                    if (data is ulong[] ul) ul[i] = t.Uint64Data[i]; else ((uint[])data)[i] = (uint)t.Uint64Data[i];
                break;
            default:
                Check(t.Int32Data.Count);
                for (int i = 0; i < n; i++)
                {
                    int v = t.Int32Data[i];
                    switch (data)
                    {
                        case int[] a: a[i] = v; break;
                        case short[] a: a[i] = (short)v; break;
                        case ushort[] a: a[i] = (ushort)v; break;
                        case sbyte[] a: a[i] = (sbyte)v; break;
                        case byte[] a: a[i] = (byte)v; break;
                        case bool[] a: a[i] = v != 0; break;
                        case Half[] a: a[i] = BitConverter.UInt16BitsToHalf((ushort)v); break;
                    }
                }
                break;
        }
        return new Tensor(t.Name, type, dims, data);
    }

    internal static Span<byte> AsSpan(Array data) => data switch
    {
        float[] a => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()),
        double[] a => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()),
        long[] a => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()),
        int[] a => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()),
        short[] a => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()),
        ushort[] a => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()),
        sbyte[] a => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()),
        byte[] a => a.AsSpan(),
        Half[] a => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()),
        uint[] a => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()),
        ulong[] a => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()),
        _ => throw new SalientException("unsupported tensor element type"),
    };

    private static (byte[], FileSlice) ReadExternal(TensorProto t, string model, string? dir)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var kv in t.ExternalData)
        {
            if (kv.Key == "location") location = kv.Value;
            else if (kv.Key == "offset") offset = long.Parse(kv.Value);
            else if (kv.Key == "length") length = long.Parse(kv.Value);
        }
        if (location is null || dir is null)
            throw new SalientException($"'{model}': tensor '{t.Name}' is stored in an external data file that cannot be located");
        string full = Path.GetFullPath(Path.Combine(dir, location));
        if (!full.StartsWith(Path.GetFullPath(dir), StringComparison.Ordinal))
            throw new SalientException($"'{model}': external data location '{location}' points outside the model's folder");
        if (!File.Exists(full))
            throw new SalientException($"'{model}': external data file '{location}' for tensor '{t.Name}' not found next to the model");
        using var fs = File.OpenRead(full);
        if (length < 0) length = fs.Length - offset;
        if (offset + length > fs.Length)
            throw new SalientException($"'{model}': external data file '{location}' is shorter than tensor '{t.Name}' needs");
        var buf = new byte[length];
        fs.Seek(offset, SeekOrigin.Begin);
        fs.ReadExactly(buf);
        return (buf, new FileSlice(full, offset, length));
    }
}
