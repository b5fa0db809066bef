using Salient.Imaging;
using Salient.Onnx;

namespace Salient.Models;

/// <summary>What the model's image input looks like.</summary>
public sealed record InputSpec(
    string Name, DataType Type, TensorLayout Layout, int Channels,
    int? Height, int? Width, bool DynamicBatch, int FixedBatch)
{
    public bool DynamicSpatial => Height is null || Width is null;

    public string Describe() =>
        $"{Name}: {Type.ToString().ToLowerInvariant()} {(Layout == TensorLayout.Nchw ? "NCHW" : "NHWC")} " +
        $"[{(DynamicBatch ? "N" : FixedBatch.ToString())},{(Layout == TensorLayout.Nchw ? $"{Channels},{H},{W}" : $"{H},{W},{Channels}")}]";

    private string H => Height?.ToString() ?? "H";
    private string W => Width?.ToString() ?? "W";

    public long[] ShapeFor(int batch, int height, int width) => Layout == TensorLayout.Nchw
        ? [batch, Channels, height, width]
        : [batch, height, width, Channels];

    /// <summary>Finds the image input of a graph and its layout.</summary>
    internal static InputSpec Detect(Graph g)
    {
        var candidates = g.Inputs.Where(i => i.Rank == 4 || i.Rank == -1).ToList();
        if (candidates.Count == 0)
        {
            var desc = string.Join(", ", g.Inputs.Select(i => $"{i.Name}{(i.Shape is null ? "" : Shapes.Format(i.Shape))}"));
            throw new SalientException($"the model has no 4-D image input (inputs: {desc}); Salient explains image models with one [N,C,H,W] or [N,H,W,C] input");
        }
        var input = candidates[0];
        var extra = g.Inputs.Where(i => i != input).ToList();
        if (extra.Count > 0)
            throw new SalientException($"the model has more than one input ({string.Join(", ", g.Inputs.Select(i => i.Name))}); Salient needs a single image input");
        if (input.Type is not (DataType.Float or DataType.UInt8 or DataType.Double or DataType.Float16 or DataType.Undefined))
            throw new SalientException($"input '{input.Name}' has element type {input.Type}; image inputs must be float or uint8");
        var s = input.Shape ?? [Dim.Dynamic("N"), Dim.Dynamic("C"), Dim.Dynamic("H"), Dim.Dynamic("W")];
        long D(int i) => s[i].IsFixed ? s[i].Value : -1;
        TensorLayout layout = GuessLayout(g, input.Name, D(1), D(3));
        int channels = (int)(layout == TensorLayout.Nchw ? D(1) : D(3));
        if (channels <= 0) channels = 3;
        int? h = (int?)(layout == TensorLayout.Nchw ? D(2) : D(1)) is var hh && hh > 0 ? hh : null;
        int? w = (int?)(layout == TensorLayout.Nchw ? D(3) : D(2)) is var ww && ww > 0 ? ww : null;
        return new InputSpec(input.Name, input.Type == DataType.Undefined ? DataType.Float : input.Type, layout, channels, h, w,
            !s[0].IsFixed, s[0].IsFixed ? (int)s[0].Value : 1);
    }

    private static TensorLayout GuessLayout(Graph g, string input, long d1, long d3)
    {
        static bool IsChannels(long d) => d is 1 or 3 or 4;
        if (IsChannels(d1) && !IsChannels(d3)) return TensorLayout.Nchw;
        if (IsChannels(d3) && !IsChannels(d1)) return TensorLayout.Nhwc;
        // Ambiguous or dynamic: look at how the graph uses the input.
        foreach (var c in g.Consumers(input))
        {
            if (c.OpType == "Transpose" && c.GetInts("perm") is { } p && p.SequenceEqual(new long[] { 0, 3, 1, 2 })) return TensorLayout.Nhwc;
            if (c.OpType is "Conv" or "BatchNormalization" or "MaxPool" or "AveragePool") return TensorLayout.Nchw;
        }
        return TensorLayout.Nchw;
    }
}
