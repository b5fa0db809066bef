using System.Globalization;
using Google.Protobuf;
using Salient.Onnx.Proto;

namespace Salient.Onnx;

/// <summary>Reads an ONNX model file into a <see cref="Graph"/> (constant folding is separate: <see cref="ConstantFolder"/>).</summary>
internal static class OnnxReader
{
    public static Graph ReadFile(string path)
    {
        // Only a regular file is read (a device, FIFO or folder is refused before opening), never more
        // than its size. External data may come from the folder the model was named in, or from the
        // folder of the file a linked model resolves to — both with links resolved.
        SafeFiles.RequireRegularFile(path, "model file");
        string named = SafeFiles.RealPath(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string resolved = Path.GetDirectoryName(SafeFiles.RealPath(path))!;
        // One pass over the file, big weights straight into their arrays (see ModelFileScanner);
        // anything unusual falls back to reading the whole file, whose parser words the errors.
        (ModelProto Model, List<Tensor> Big)? scanned;
        var dirs = new ExternalDirs(named, resolved);
        try { scanned = ModelFileScanner.TryRead(path, path, dirs); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new SalientException($"cannot read model file '{path}': {e.Message}", e); }
        if (scanned is { } sc) return FromProto(sc.Model, path, dirs, sc.Big);
        byte[] bytes = SafeFiles.ReadRegularFile(path, "model file");
        return Read(bytes, path, named, resolved);
    }

    public static Graph Read(byte[] bytes, string nameForMessages = "model", string? externalDataDir = null, string? alternateDataDir = null)
    {
        var dirs = externalDataDir is null ? null : new ExternalDirs(externalDataDir, alternateDataDir);
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidOperationException or ArgumentException)
        { throw new SalientException($"'{nameForMessages}' is not a valid ONNX model (protobuf parse failed: {e.Message.TrimEnd('.')}); is the file truncated?", e); }
        return FromProto(model, nameForMessages, dirs, []);
    }

    /// <summary>The graph of a parsed model; <paramref name="big"/>: initializers read apart from the model message (already converted).</summary>
    private static Graph FromProto(ModelProto model, string nameForMessages, ExternalDirs? dirs, List<Tensor> big)
    {

        if (model.Graph is null || model.Graph.Node.Count == 0 || model.IrVersion <= 0)
            throw new SalientException($"'{nameForMessages}' is not a valid ONNX model (no graph, no nodes or no IR version); is it really an .onnx file?");
        if (model.IrVersion < 3)
            throw new SalientException($"'{nameForMessages}' has ONNX IR version {model.IrVersion}; Salient reads IR 3 and later");

        var g = new Graph { IrVersion = model.IrVersion, ProducerName = model.ProducerName, Name = model.Graph.Name };
        foreach (var op in model.OpsetImport) g.Opsets[op.Domain == "ai.onnx" ? "" : op.Domain] = op.Version;
        if (!g.Opsets.ContainsKey("")) g.Opsets[""] = 1;

        foreach (var t in model.Graph.Initializer)
            g.Initializers[t.Name] = ConvertTensor(t, nameForMessages, dirs);
        foreach (var t in big) g.Initializers[t.Name] = t;
        foreach (var vi in model.Graph.Input)
            if (!g.Initializers.ContainsKey(vi.Name)) g.Inputs.Add(ConvertValueInfo(vi));
        foreach (var vi in model.Graph.Output) g.Outputs.Add(ConvertValueInfo(vi));
        foreach (var vi in model.Graph.ValueInfo) g.ValueInfos[vi.Name] = ConvertValueInfo(vi);
        int index = 0;
        foreach (var n in model.Graph.Node)
        {
            var node = new Node(n.OpType, n.Input, n.Output, n.Name, n.Domain);
            foreach (var a in n.Attribute) node.Attributes[a.Name] = ConvertAttribute(a, nameForMessages, dirs);
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

    internal static NodeAttribute ConvertAttribute(AttributeProto a, string model, ExternalDirs? dir)
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

    /// <summary>The folders external data may be read from (links resolved): the model's folder and, for a linked model, its target's.</summary>
    internal sealed record ExternalDirs(string Dir, string? Alternate);

    internal static Tensor ConvertTensor(TensorProto t, string model, ExternalDirs? dir)
    {
        var type = (DataType)t.DataType;
        long[] dims = t.Dims.ToArray();
        if (type == DataType.String)
            throw new SalientException($"'{model}': tensor '{t.Name}' holds strings; Salient handles numeric image models only");
        // Checked 64-bit arithmetic, and every size compared with the data actually present before
        // anything is allocated: a count that overflows, wraps to 0 or exceeds what the file holds is refused.
        long n = Tensor.CheckedElementCount(dims, $"'{model}': tensor '{t.Name}'");
        if (n > Array.MaxLength)
            throw new SalientException($"'{model}': tensor '{t.Name}' has an invalid shape {Shapes.Format(dims)} ({n} elements)");
        int size = DataTypes.SizeOf(type);
        long needed = n * size;

        ReadOnlySpan<byte> raw = default;
        byte[]? external = null;
        FileSlice? source = null;
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            (external, source) = ReadExternal(t, model, dir, needed);
            raw = external;
        }
        else if (!t.RawData.IsEmpty) raw = t.RawData.Span;

        if (raw.Length > 0 || external is not null)
        {
            if (raw.Length != needed)
                throw new SalientException($"'{model}': tensor '{t.Name}' has {raw.Length} bytes of data but shape {Shapes.Format(dims)} of {type} needs {needed}; the file is truncated or corrupt");
            Array rawData = Tensor.NewArray(type, n);
            if (rawData is bool[] bo) for (int i = 0; i < n; i++) bo[i] = raw[i] != 0;
            else raw.CopyTo(AsSpan(rawData));
            // External data keeps where it came from: sessions point ORT at it instead of copying it.
            return new Tensor(t.Name, type, dims, rawData) { Source = rawData is bool[] || !BitConverter.IsLittleEndian ? null : source };
        }

        int present = type switch
        {
            DataType.Float => t.FloatData.Count,
            DataType.Double => t.DoubleData.Count,
            DataType.Int64 => t.Int64Data.Count,
            DataType.UInt64 or DataType.UInt32 => t.Uint64Data.Count,
            _ => t.Int32Data.Count,
        };
        if (present != n)
            throw new SalientException($"'{model}': tensor '{t.Name}' has {present} values but shape {Shapes.Format(dims)} needs {n}; the file is corrupt");
        Array data = Tensor.NewArray(type, n);

        switch (type)
        {
            case DataType.Float: t.FloatData.CopyTo((float[])data, 0); break;
            case DataType.Double: t.DoubleData.CopyTo((double[])data, 0); break;
            case DataType.Int64: t.Int64Data.CopyTo((long[])data, 0); break;
            case DataType.UInt64 or DataType.UInt32:
                for (int i = 0; i < n; i++)
                    if (data is ulong[] ul) ul[i] = t.Uint64Data[i]; else ((uint[])data)[i] = (uint)t.Uint64Data[i];
                break;
            default:
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

    private static (byte[], FileSlice) ReadExternal(TensorProto t, string model, ExternalDirs? dirs, long needed)
    {
        string? location = null, offsetText = null, lengthText = null;
        foreach (var kv in t.ExternalData)
        {
            if (kv.Key == "location") location = kv.Value;
            else if (kv.Key == "offset") offsetText = kv.Value;
            else if (kv.Key == "length") lengthText = kv.Value;
        }
        if (location is null || dirs is null)
            throw new SalientException($"'{model}': tensor '{t.Name}' is stored in an external data file that cannot be located");
        long offset = ParseNonNegative(offsetText, "offset", 0);
        long length = ParseNonNegative(lengthText, "length", -1);

        // The file actually opened (every link resolved) must lie inside the model's folder, compared by
        // whole path segments ("models_secret/" is not inside "models/").
        string full;
        try { full = SafeFiles.RealPath(Path.Combine(dirs.Dir, location)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new SalientException($"'{model}': external data location '{OneLine(location)}' cannot be resolved: {OneLine(e.Message)}", e); }
        if (Path.IsPathRooted(location) || !(SafeFiles.IsWithin(full, dirs.Dir) || dirs.Alternate is { } alt && SafeFiles.IsWithin(full, alt)))
            throw new SalientException($"'{model}': external data location '{OneLine(location)}' points outside the model's folder");
        if (!File.Exists(full))
            throw new SalientException($"'{model}': external data file '{OneLine(location)}' for tensor '{t.Name}' not found next to the model");
        SafeFiles.RequireRegularFile(full, "external data file");
        long fileSize = new FileInfo(full).Length;
        if (offset > fileSize)
            throw new SalientException($"'{model}': external data offset {offset} of tensor '{t.Name}' is past the end of '{OneLine(location)}' ({fileSize} bytes)");
        if (length < 0) length = fileSize - offset;
        if (length > fileSize - offset)
            throw new SalientException($"'{model}': external data length {length} at offset {offset} of tensor '{t.Name}' runs past the end of '{OneLine(location)}' ({fileSize} bytes)");
        if (length != needed)
            throw new SalientException($"'{model}': tensor '{t.Name}' has {length} bytes of external data (length) but its shape needs {needed}; the file is truncated or corrupt");
        try
        {
            using var fs = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            var buf = new byte[length];
            fs.Seek(offset, SeekOrigin.Begin);
            fs.ReadExactly(buf);
            return (buf, new FileSlice(full, offset, length));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new SalientException($"'{model}': cannot read external data file '{OneLine(location)}': {OneLine(e.Message)}", e); }

        long ParseNonNegative(string? text, string what, long absent)
        {
            if (text is null) return absent;
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v))
                throw new SalientException($"'{model}': external data {what} '{OneLine(text)}' of tensor '{t.Name}' is not a non-negative integer");
            return v;
        }
    }

    private static string OneLine(string s)
    {
        var line = s.Split('\n')[0].Trim();
        return line.Length > 200 ? line[..200] + "…" : line;
    }
}
