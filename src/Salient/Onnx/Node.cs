using Salient.Onnx.Proto;

namespace Salient.Onnx;

internal enum AttributeKind { Float, Int, String, Tensor, Floats, Ints, Strings, Other }

/// <summary>A node attribute. Graph-valued and other rare kinds are kept as their protobuf message.</summary>
internal sealed class NodeAttribute
{
    public required string Name { get; init; }
    public AttributeKind Kind { get; init; }
    public float Float { get; init; }
    public long Int { get; init; }
    public string String { get; init; } = "";
    public Tensor? Tensor { get; init; }
    public float[] Floats { get; init; } = [];
    public long[] Ints { get; init; } = [];
    public string[] Strings { get; init; } = [];
    internal AttributeProto? Raw { get; init; }

    public override string ToString() => Kind switch
    {
        AttributeKind.Float => $"{Name}={Float}",
        AttributeKind.Int => $"{Name}={Int}",
        AttributeKind.String => $"{Name}='{String}'",
        AttributeKind.Ints => $"{Name}=[{string.Join(",", Ints)}]",
        AttributeKind.Floats => $"{Name}=[{string.Join(",", Floats)}]",
        _ => $"{Name}=<{Kind}>",
    };
}

/// <summary>
/// One operator application. Inputs may contain "" for an omitted optional input. Attributes are
/// read with typed getters that take the ONNX default.
/// </summary>
internal sealed class Node
{
    public Node(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string name = "", string domain = "")
    {
        OpType = opType;
        Inputs = inputs.ToList();
        Outputs = outputs.ToList();
        Name = name;
        Domain = domain;
    }

    public string OpType { get; set; }
    public string Domain { get; set; }
    public string Name { get; set; }
    public List<string> Inputs { get; }
    public List<string> Outputs { get; }
    public Dictionary<string, NodeAttribute> Attributes { get; } = new();

    /// <summary>True for the default ONNX domain ("" or "ai.onnx").</summary>
    public bool IsDefaultDomain => Domain is "" or "ai.onnx";

    /// <summary>"Conv 'name'" — how errors refer to a node.</summary>
    public string Describe() => string.IsNullOrEmpty(Name) ? $"{OpType} node producing '{Outputs.FirstOrDefault()}'" : $"{OpType} node '{Name}'";

    public string Input(int i) => i < Inputs.Count ? Inputs[i] : "";
    public bool HasInput(int i) => i < Inputs.Count && Inputs[i] != "";
    public bool Has(string attr) => Attributes.ContainsKey(attr);

    public long GetInt(string name, long dflt) => Attributes.TryGetValue(name, out var a) ? a.Int : dflt;
    public float GetFloat(string name, float dflt) => Attributes.TryGetValue(name, out var a) ? a.Float : dflt;
    public string GetString(string name, string dflt) => Attributes.TryGetValue(name, out var a) ? a.String : dflt;
    public long[]? GetInts(string name) => Attributes.TryGetValue(name, out var a) ? a.Ints : null;
    public float[]? GetFloats(string name) => Attributes.TryGetValue(name, out var a) ? a.Floats : null;
    public Tensor? GetTensor(string name) => Attributes.TryGetValue(name, out var a) ? a.Tensor : null;

    public Node Set(string name, long v) { Attributes[name] = new NodeAttribute { Name = name, Kind = AttributeKind.Int, Int = v }; return this; }
    public Node Set(string name, float v) { Attributes[name] = new NodeAttribute { Name = name, Kind = AttributeKind.Float, Float = v }; return this; }
    public Node Set(string name, string v) { Attributes[name] = new NodeAttribute { Name = name, Kind = AttributeKind.String, String = v }; return this; }
    public Node Set(string name, long[] v) { Attributes[name] = new NodeAttribute { Name = name, Kind = AttributeKind.Ints, Ints = v }; return this; }
    public Node Set(string name, float[] v) { Attributes[name] = new NodeAttribute { Name = name, Kind = AttributeKind.Floats, Floats = v }; return this; }
    public Node Set(string name, Tensor v) { Attributes[name] = new NodeAttribute { Name = name, Kind = AttributeKind.Tensor, Tensor = v }; return this; }

    /// <summary>A copy with the same attributes and new input/output lists.</summary>
    public Node Clone()
    {
        var n = new Node(OpType, Inputs, Outputs, Name, Domain);
        foreach (var kv in Attributes) n.Attributes[kv.Key] = kv.Value;
        return n;
    }

    public override string ToString() =>
        $"{OpType}({string.Join(", ", Inputs)}) -> {string.Join(", ", Outputs)}" +
        (Attributes.Count > 0 ? " {" + string.Join(", ", Attributes.Values) + "}" : "");
}
