using Google.Protobuf;
using Salient.Onnx.Proto;

namespace Salient.Onnx;

/// <summary>Where a constant's bytes lie in a file: ORT can read them from there (external data) instead of from a copy.</summary>
internal sealed record FileSlice(string Path, long Offset, long Length);

/// <summary>
/// Reads an ONNX file once, in one pass over a stream, without holding the whole file in memory:
/// the protobuf wire format is walked by hand down to the initializers, every big initializer's
/// <c>raw_data</c> is read straight into its typed array (no file buffer, no protobuf copy), and
/// everything else (nodes, small initializers, value infos…) is handed to the generated parser.
/// The big tensors remember their <see cref="FileSlice"/>, so sessions can point ORT at the file
/// instead of serializing their bytes again. Returns null for what it does not expect (groups, a
/// second graph field, a truncated file…): the caller then reads the file the plain way, whose
/// parser produces the error messages.
/// </summary>
internal static class ModelFileScanner
{
    /// <summary>Initializers at least this long (bytes of their serialized message) are read straight into their arrays.</summary>
    public const int BigTensorBytes = 64 * 1024;

    private const int ModelGraphField = 7, GraphInitializerField = 5, TensorRawDataField = 9;

    internal sealed record Result(ModelProto Model, List<(TensorProto Message, long Offset, long Length)> Big);

    public static (ModelProto Model, List<Tensor> Big)? TryRead(string path, string nameForMessages, OnnxReader.ExternalDirs? externalDataDirs)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        Result? r;
        try { r = Scan(fs); }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or InvalidProtocolBufferException or OverflowException or ArgumentException)
        { return null; }
        if (r is null) return null;
        var big = new List<Tensor>(r.Big.Count);
        string full = System.IO.Path.GetFullPath(path);
        foreach (var (rest, offset, length) in r.Big)
        {
            if (length == 0)
            {
                // No raw_data field (float_data or external): the generated parser's result is complete.
                big.Add(OnnxReader.ConvertTensor(rest, nameForMessages, externalDataDirs));
                continue;
            }
            if (rest.DataLocation == TensorProto.Types.DataLocation.External) return null;
            var type = (DataType)rest.DataType;
            long[] dims = rest.Dims.ToArray();
            long n;
            try { n = Tensor.CheckedElementCount(dims, rest.Name); }
            catch (SalientException) { return null; }   // the plain reader words the error
            if (dims.Any(d => d < 0) || n > int.MaxValue || type is DataType.String or DataType.Undefined) return null;
            int size = DataTypes.SizeOf(type);
            if (length != n * size) return null;   // the plain reader words the error
            Array data = Tensor.NewArray(type, n);
            fs.Seek(offset, SeekOrigin.Begin);
            if (data is bool[] bo)
            {
                var bytes = new byte[length];
                fs.ReadExactly(bytes);
                for (int i = 0; i < n; i++) bo[i] = bytes[i] != 0;
                big.Add(new Tensor(rest.Name, type, dims, data));
            }
            else
            {
                fs.ReadExactly(OnnxReader.AsSpan(data));
                big.Add(new Tensor(rest.Name, type, dims, data) { Source = BitConverter.IsLittleEndian ? new FileSlice(full, offset, length) : null });
            }
        }
        return (r.Model, big);
    }

    private static Result? Scan(FileStream fs)
    {
        long end = fs.Length;
        var modelRest = new MemoryStream();
        var graphRest = new MemoryStream();
        var big = new List<(TensorProto, long, long)>();
        bool sawGraph = false;
        var reader = new WireReader(fs);
        while (fs.Position < end)
        {
            long start = fs.Position;
            ulong tag = reader.Varint();
            int field = (int)(tag >> 3), wire = (int)(tag & 7);
            if (field == ModelGraphField && wire == 2)
            {
                if (sawGraph) return null;
                sawGraph = true;
                ulong len = reader.Varint();
                if (len > (ulong)(end - fs.Position)) return null;
                long graphEnd = fs.Position + (long)len;
                while (fs.Position < graphEnd)
                {
                    long fstart = fs.Position;
                    ulong gtag = reader.Varint();
                    int gfield = (int)(gtag >> 3), gwire = (int)(gtag & 7);
                    if (gfield == GraphInitializerField && gwire == 2)
                    {
                        ulong ulen = reader.Varint();
                        if (ulen > (ulong)(graphEnd - fs.Position)) return null;
                        long tlen = (long)ulen;
                        if (tlen >= BigTensorBytes)
                        {
                            if (ScanTensor(fs, reader, fs.Position + tlen, graphEnd) is not { } t) return null;
                            big.Add(t);
                            continue;
                        }
                        fs.Position = fstart;
                    }
                    else fs.Position = fstart;
                    if (!CopyField(fs, reader, graphRest, graphEnd)) return null;
                }
                if (fs.Position != graphEnd) return null;
                continue;
            }
            fs.Position = start;
            if (!CopyField(fs, reader, modelRest, end)) return null;
        }
        if (!sawGraph) return null;
        var model = ModelProto.Parser.ParseFrom(modelRest.ToArray());
        model.Graph = GraphProto.Parser.ParseFrom(graphRest.ToArray());
        return new Result(model, big);
    }

    /// <summary>A TensorProto message without its raw_data field, and where that field's bytes lie.</summary>
    private static (TensorProto, long, long)? ScanTensor(FileStream fs, WireReader reader, long tensorEnd, long limit)
    {
        if (tensorEnd > limit) return null;
        var rest = new MemoryStream();
        long offset = 0, length = 0;
        while (fs.Position < tensorEnd)
        {
            long fstart = fs.Position;
            ulong tag = reader.Varint();
            if ((int)(tag >> 3) == TensorRawDataField && (tag & 7) == 2)
            {
                if (length != 0) return null;   // a repeated raw_data field would concatenate: not worth handling
                ulong ulen = reader.Varint();
                offset = fs.Position;
                if (ulen > (ulong)(tensorEnd - offset)) return null;
                length = (long)ulen;
                fs.Position = offset + length;
                continue;
            }
            fs.Position = fstart;
            if (!CopyField(fs, reader, rest, tensorEnd)) return null;
        }
        if (fs.Position != tensorEnd) return null;
        return (TensorProto.Parser.ParseFrom(rest.ToArray()), offset, length);
    }

    /// <summary>Copies one whole field (tag and value) from the stream to <paramref name="to"/>.</summary>
    private static bool CopyField(FileStream fs, WireReader reader, MemoryStream to, long limit)
    {
        long start = fs.Position;
        ulong tag = reader.Varint();
        switch ((int)(tag & 7))
        {
            case 0: reader.Varint(); break;
            case 1: fs.Position += 8; break;
            case 5: fs.Position += 4; break;
            case 2:
            {
                ulong len = reader.Varint();
                if (len > (ulong)(limit - fs.Position)) return false;
                fs.Position += (long)len;
                break;
            }
            default: return false;   // groups: not in ONNX
        }
        long stop = fs.Position;
        if (stop > limit) return false;
        fs.Position = start;
        long count = stop - start;
        var buf = new byte[Math.Min(count, 1 << 20)];
        while (count > 0)
        {
            int k = (int)Math.Min(count, buf.Length);
            fs.ReadExactly(buf, 0, k);
            to.Write(buf, 0, k);
            count -= k;
        }
        return true;
    }

    private sealed class WireReader(FileStream fs)
    {
        public ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                int b = fs.ReadByte();
                if (b < 0) throw new EndOfStreamException();
                v |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return v;
            }
            throw new InvalidDataException("varint too long");
        }
    }
}
