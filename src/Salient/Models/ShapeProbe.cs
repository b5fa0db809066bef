using Salient.Onnx;
using Salient.Runtime;

namespace Salient.Models;

/// <summary>Concrete element type and shape of one tensor for a given input shape.</summary>
public sealed record TensorShape(DataType Type, long[] Dims)
{
    public int Rank => Dims.Length;
    public long Count => Tensor.ElementCount(Dims);
    public override string ToString() => Shapes.Format(Dims);
}

/// <summary>
/// Concrete shapes of every tensor, found with one probe run in which every intermediate is a graph
/// output (ORT computes exact shapes for any dynamic batch or spatial size; there is no ONNX shape
/// inference in .NET). Constants come from the initializers.
/// </summary>
public static class ShapeProbe
{
    public static Dictionary<string, TensorShape> Run(Graph graph, InputSpec input, int batch, int height, int width, RuntimeOptions options)
    {
        var g = graph.Clone();
        var existing = new HashSet<string>(g.Outputs.Select(o => o.Name));
        foreach (var name in graph.IntermediateNames())
            if (existing.Add(name)) g.Outputs.Add(new ValueInfo(name, DataType.Undefined, null));
        var shape = input.ShapeFor(batch, height, width);
        var data = new float[Tensor.ElementCount(shape)];
        Array.Fill(data, 0.25f);
        using var session = new GraphSession(g, options);
        var outs = session.Run([new InputValue(input.Name, shape, data)]);
        var result = new Dictionary<string, TensorShape>();
        foreach (var kv in outs) result[kv.Key] = new TensorShape(kv.Value.Type, kv.Value.Shape);
        foreach (var kv in graph.Initializers) result[kv.Key] = new TensorShape(kv.Value.Type, kv.Value.Dims);
        result[input.Name] = new TensorShape(input.Type, shape);
        return result;
    }
}
