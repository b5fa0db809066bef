using Google.Protobuf;
using Salient.Onnx.Proto;

namespace Salient.Onnx;

/// <summary>Writes a <see cref="Graph"/> back to ONNX protobuf bytes (what ORT loads).</summary>
internal static class OnnxWriter
{
    public static byte[] ToBytes(Graph g) => ToModelProto(g).ToByteArray();

    /// <summary>
    /// The model bytes with the initializers for which <paramref name="external"/> gives a slice written
    /// as external data (file name relative to the folder the session is told, offset, length) instead
    /// of as bytes: ORT reads them from the file when it needs the values at all.
    /// </summary>
    public static byte[] ToBytes(Graph g, Func<Tensor, FileSlice?> external) => ToModelProto(g, external).ToByteArray();

    public static void WriteFile(Graph g, string path) => File.WriteAllBytes(path, ToBytes(g));

    internal static ModelProto ToModelProto(Graph g, Func<Tensor, FileSlice?>? external = null)
    {
        var model = new ModelProto { IrVersion = g.IrVersion, ProducerName = "salient", ProducerVersion = "0.1", Graph = new GraphProto { Name = g.Name } };
        foreach (var kv in g.Opsets) model.OpsetImport.Add(new OperatorSetIdProto { Domain = kv.Key, Version = kv.Value });
        var gp = model.Graph;
        foreach (var t in g.Initializers.Values)
            gp.Initializer.Add(external?.Invoke(t) is { } slice ? ToExternalTensorProto(t, slice) : ToTensorProto(t));
        foreach (var i in g.Inputs) gp.Input.Add(ToValueInfoProto(i));
        if (g.IrVersion < 4)
            foreach (var t in g.Initializers.Values)
                gp.Input.Add(ToValueInfoProto(new ValueInfo(t.Name, t.Type, t.Dims.Select(Dim.Fixed).ToArray())));
        foreach (var o in g.Outputs) gp.Output.Add(ToValueInfoProto(o));
        foreach (var vi in g.ValueInfos.Values) if (vi.Type != DataType.Undefined) gp.ValueInfo.Add(ToValueInfoProto(vi));
        foreach (var n in g.Nodes) gp.Node.Add(ToNodeProto(n));
        return model;
    }

    internal static NodeProto ToNodeProto(Node n)
    {
        var p = new NodeProto { OpType = n.OpType, Name = n.Name, Domain = n.Domain };
        p.Input.AddRange(n.Inputs);
        p.Output.AddRange(n.Outputs);
        foreach (var a in n.Attributes.Values) p.Attribute.Add(ToAttributeProto(a));
        return p;
    }

    internal static AttributeProto ToAttributeProto(NodeAttribute a)
    {
        if (a.Raw is not null && a.Kind == AttributeKind.Other) return a.Raw;
        var p = new AttributeProto { Name = a.Name };
        switch (a.Kind)
        {
            case AttributeKind.Float: p.Type = AttributeProto.Types.AttributeType.Float; p.F = a.Float; break;
            case AttributeKind.Int: p.Type = AttributeProto.Types.AttributeType.Int; p.I = a.Int; break;
            case AttributeKind.String: p.Type = AttributeProto.Types.AttributeType.String; p.S = ByteString.CopyFromUtf8(a.String); break;
            case AttributeKind.Tensor: p.Type = AttributeProto.Types.AttributeType.Tensor; p.T = ToTensorProto(a.Tensor!); break;
            case AttributeKind.Floats: p.Type = AttributeProto.Types.AttributeType.Floats; p.Floats.AddRange(a.Floats); break;
            case AttributeKind.Ints: p.Type = AttributeProto.Types.AttributeType.Ints; p.Ints.AddRange(a.Ints); break;
            case AttributeKind.Strings: p.Type = AttributeProto.Types.AttributeType.Strings; p.Strings.AddRange(a.Strings.Select(ByteString.CopyFromUtf8)); break;
        }
        return p;
    }

    internal static TensorProto ToTensorProto(Tensor t)
    {
        var p = new TensorProto { Name = t.Name, DataType = (int)t.Type };
        p.Dims.AddRange(t.Dims);
        p.RawData = UnsafeByteOperations.UnsafeWrap(t.ToRawBytes());
        return p;
    }

    internal static TensorProto ToExternalTensorProto(Tensor t, FileSlice slice)
    {
        var p = new TensorProto { Name = t.Name, DataType = (int)t.Type, DataLocation = TensorProto.Types.DataLocation.External };
        p.Dims.AddRange(t.Dims);
        // A relative path is the location as given (relative to the folder the session is told); an absolute one, its file name.
        string location = Path.IsPathRooted(slice.Path) ? Path.GetFileName(slice.Path) : slice.Path.Replace(Path.DirectorySeparatorChar, '/');
        p.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        p.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = slice.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        p.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = slice.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return p;
    }

    internal static ValueInfoProto ToValueInfoProto(ValueInfo v)
    {
        var p = new ValueInfoProto { Name = v.Name };
        if (v.Type == DataType.Undefined) return p;
        var tt = new TypeProto.Types.Tensor { ElemType = (int)v.Type };
        if (v.Shape is not null)
        {
            tt.Shape = new TensorShapeProto();
            foreach (var d in v.Shape)
                tt.Shape.Dim.Add(d.IsFixed
                    ? new TensorShapeProto.Types.Dimension { DimValue = d.Value }
                    : d.Param is { } s && s != "?" ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension());
        }
        p.Type = new TypeProto { TensorType = tt };
        return p;
    }
}
