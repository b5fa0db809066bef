using System.Globalization;
using Salient.Imaging;
using Salient.Models;

namespace Salient.Visualization;

/// <summary>
/// What one synthesized image should maximize: a class logit (pre-softmax; never the softmax), the
/// spatial mean of one channel of a layer, one neuron (channel, y, x) of a layer, or a weighted sum of
/// those. Build with <see cref="Class"/>, <see cref="Channel"/>, <see cref="Neuron"/> and
/// <see cref="Sum"/>; layer names are resolved like <c>--layer</c> (exact tensor or node name, or a
/// unique substring).
/// </summary>
public abstract record Objective
{
    /// <summary>The pre-softmax logit of a class.</summary>
    public static Objective Class(int classIndex) => new ClassObjective(classIndex);

    /// <summary>The spatial mean of channel <paramref name="channel"/> of a layer.</summary>
    public static Objective Channel(string layer, int channel) => new ChannelObjective(layer, channel);

    /// <summary>One activation (channel, y, x) of a 4-D layer (for a 2-D layer y = x = 0).</summary>
    public static Objective Neuron(string layer, int channel, int y, int x) => new NeuronObjective(layer, channel, y, x);

    /// <summary>Σ weight · term.</summary>
    public static Objective Sum(params (Objective Term, float Weight)[] terms) => new WeightedObjective(terms);

    /// <summary>A short human-readable label, e.g. "class 99", "features.8 ch 12".</summary>
    public abstract string Label { get; }

    /// <summary>A file-name friendly label, e.g. "class-099", "features.8-ch012".</summary>
    public abstract string FileStem { get; }

    internal abstract IEnumerable<(Objective Leaf, float Weight)> Leaves(float weight);
}

/// <summary>The pre-softmax logit of one class.</summary>
internal sealed record ClassObjective(int ClassIndex) : Objective
{
    public override string Label => $"class {ClassIndex}";
    public override string FileStem => $"class-{ClassIndex:000}";
    internal override IEnumerable<(Objective, float)> Leaves(float weight) => [(this, weight)];
}

/// <summary>The spatial mean of one channel of a layer.</summary>
internal sealed record ChannelObjective(string Layer, int ChannelIndex) : Objective
{
    public override string Label => $"{Layer} ch {ChannelIndex}";
    public override string FileStem => $"{Names.Safe(Layer)}-ch{ChannelIndex:000}";
    internal override IEnumerable<(Objective, float)> Leaves(float weight) => [(this, weight)];
}

/// <summary>One activation (channel, y, x) of a layer.</summary>
internal sealed record NeuronObjective(string Layer, int ChannelIndex, int Y, int X) : Objective
{
    public override string Label => $"{Layer} ch {ChannelIndex} ({Y},{X})";
    public override string FileStem => $"{Names.Safe(Layer)}-ch{ChannelIndex:000}-y{Y}x{X}";
    internal override IEnumerable<(Objective, float)> Leaves(float weight) => [(this, weight)];
}

/// <summary>A weighted sum of objectives.</summary>
internal sealed record WeightedObjective(IReadOnlyList<(Objective Term, float Weight)> Terms) : Objective
{
    public override string Label => string.Join(" + ", Terms.Select(t => t.Weight == 1f ? t.Term.Label : $"{t.Weight.ToString("0.###", CultureInfo.InvariantCulture)}·{t.Term.Label}"));
    public override string FileStem => string.Join("+", Terms.Select(t => t.Term.FileStem));
    internal override IEnumerable<(Objective, float)> Leaves(float weight) => Terms.SelectMany(t => t.Term.Leaves(weight * t.Weight));
}

internal static class Names
{
    public static string Safe(string s)
    {
        var chars = s.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray();
        var r = new string(chars).Trim('.');
        return r.Length == 0 ? "layer" : r;
    }
}

/// <summary>One leaf of an objective resolved against a model: the score tensor and where to seed it.</summary>
internal sealed record ResolvedTerm(string Tensor, TensorLayout? Layout, int Channels, int Height, int Width, int Channel, int Y, int X, bool Mean, float Weight)
{
    /// <summary>Elements of the tensor per batch item.</summary>
    public int PerItem => Channels * Height * Width;

    private int Index(int c, int y, int x) => Layout == TensorLayout.Nhwc ? (y * Width + x) * Channels + c : (c * Height + y) * Width + x;

    /// <summary>The term's value for item b of a batch tensor.</summary>
    public float Value(ReadOnlySpan<float> tensor, int b)
    {
        var t = tensor.Slice(b * PerItem, PerItem);
        if (!Mean) return Weight * t[Index(Channel, Y, X)];
        double s = 0;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++) s += t[Index(Channel, y, x)];
        return (float)(Weight * s / (Height * Width));
    }

    /// <summary>Adds d(value)/d(tensor) for item b to a seed.</summary>
    public void AddSeed(Span<float> seed, int b)
    {
        var t = seed.Slice(b * PerItem, PerItem);
        if (!Mean) { t[Index(Channel, Y, X)] += Weight; return; }
        float v = Weight / (Height * Width);
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++) t[Index(Channel, y, x)] += v;
    }

    public static IReadOnlyList<ResolvedTerm> Resolve(Objective objective, ModelStructure structure)
    {
        var terms = new List<ResolvedTerm>();
        foreach (var (leaf, weight) in objective.Leaves(1f))
        {
            switch (leaf)
            {
                case ClassObjective c:
                {
                    int classes = structure.ClassCount;
                    if (classes <= 0) throw new SalientException("the model's logits have no class dimension, so a class cannot be visualized; use the `layer` option and the `channel` option");
                    if (c.ClassIndex < 0 || c.ClassIndex >= classes)
                        throw new SalientException($"class {c.ClassIndex} is out of range: the model has {classes} classes (0–{classes - 1})");
                    terms.Add(new ResolvedTerm(structure.LogitsName, null, classes, 1, 1, c.ClassIndex, 0, 0, false, weight));
                    break;
                }
                case ChannelObjective ch:
                {
                    var (layer, channels, h, w) = Layer(structure, ch.Layer);
                    CheckChannel(ch.ChannelIndex, channels, layer.Name);
                    terms.Add(new ResolvedTerm(layer.Name, layer.Layout, channels, h, w, ch.ChannelIndex, 0, 0, true, weight));
                    break;
                }
                case NeuronObjective n:
                {
                    var (layer, channels, h, w) = Layer(structure, n.Layer);
                    CheckChannel(n.ChannelIndex, channels, layer.Name);
                    if (n.Y < 0 || n.Y >= h || n.X < 0 || n.X >= w)
                        throw new SalientException($"neuron ({n.Y},{n.X}) is outside layer '{layer.Name}', whose spatial size is {h}×{w} (rows 0–{h - 1}, columns 0–{w - 1})");
                    terms.Add(new ResolvedTerm(layer.Name, layer.Layout, channels, h, w, n.ChannelIndex, n.Y, n.X, false, weight));
                    break;
                }
                default:
                    throw new SalientException($"unsupported objective {leaf.GetType().Name}");
            }
        }
        if (terms.Count == 0) throw new SalientException("the objective has no terms");
        return terms;
    }

    internal static (LayerInfo Layer, int Channels, int H, int W) Layer(ModelStructure structure, string name)
    {
        var layer = structure.ResolveLayer(name);
        var shape = layer.Shape;
        if (shape.Length == 4 && layer.Layout is not null) return (layer, layer.Channels, layer.Spatial.H, layer.Spatial.W);
        if (shape.Length == 2) return (layer, (int)shape[1], 1, 1);
        throw new SalientException($"layer '{layer.Name}' has shape [{string.Join(",", shape)}]; channels and neurons need a 4-D [N,C,H,W] / [N,H,W,C] or a 2-D [N,C] tensor");
    }

    private static void CheckChannel(int c, int channels, string layer)
    {
        if (c < 0 || c >= channels) throw new SalientException($"channel {c} is out of range: layer '{layer}' has {channels} channels (0–{channels - 1})");
    }
}
