using Salient.Imaging;
using Salient.Models;
using Salient.Onnx;

namespace Salient.Tests.Autodiff;

/// <summary>Builds small ONNX graphs in C# for the gradient tests: input "x", output "y".</summary>
internal sealed class TinyGraph
{
    private int _n;

    public TinyGraph(long opset, long[] inputShape, string input = "x")
    {
        Opset = opset;
        InputShape = inputShape;
        Input = input;
        G.Opsets[""] = opset;
        G.IrVersion = opset <= 8 ? 3 : opset <= 12 ? 7 : opset <= 18 ? 8 : 9;
        G.Inputs.Add(new ValueInfo(input, DataType.Float, inputShape.Select(Dim.Fixed).ToArray()));
    }

    public Graph G { get; } = new();
    public long Opset { get; }
    public long[] InputShape { get; }
    public string Input { get; }

    /// <summary>Adds a node; its output is named <paramref name="output"/> (or a fresh name).</summary>
    public Node Node(string op, string[] inputs, string? output = null)
    {
        var n = new Node(op, inputs, [output ?? $"t{_n++}"], $"{op}_{_n++}");
        G.Nodes.Add(n);
        return n;
    }

    public string Op(string op, params string[] inputs) => Node(op, inputs).Outputs[0];

    public Node MultiOut(string op, string[] inputs, int outputs)
    {
        var outs = Enumerable.Range(0, outputs).Select(i => $"t{_n++}").ToArray();
        var n = new Node(op, inputs, outs, $"{op}_{_n++}");
        G.Nodes.Add(n);
        return n;
    }

    public string Floats(long[] dims, float[] data, string? name = null)
    {
        name ??= $"c{_n++}";
        G.Initializers[name] = Tensor.FromFloats(name, dims, data);
        return name;
    }

    public string Random(long[] dims, Random rng, float lo = -1f, float hi = 1f, string? name = null) =>
        Floats(dims, GradCheck.Uniform(rng, (int)Tensor.ElementCount(dims), lo, hi), name);

    public string Scalar(float v) => Floats([], [v]);

    public string Ints(params long[] v)
    {
        string name = $"i{_n++}";
        G.Initializers[name] = Tensor.Vector(name, v);
        return name;
    }

    /// <summary>Finishes: <paramref name="output"/> becomes the graph output (renamed "y" by an Identity unless it already is).</summary>
    public Graph Done(string output)
    {
        if (output != "y") Node("Identity", [output], "y");
        G.Outputs.Add(new ValueInfo("y", DataType.Float, null));
        G.SortTopologically();
        return G;
    }

    public InputSpec Spec() => new(Input, DataType.Float, TensorLayout.Nchw, InputShape.Length > 1 ? (int)InputShape[1] : 1,
        InputShape.Length > 2 ? (int)InputShape[2] : 1, InputShape.Length > 3 ? (int)InputShape[3] : 1, false, (int)InputShape[0]);
}
