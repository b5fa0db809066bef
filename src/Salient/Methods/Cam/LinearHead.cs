using Salient.Imaging;
using Salient.Models;
using Salient.Onnx;

namespace Salient.Methods;

/// <summary>
/// The "global average pooling → linear" classifier head that CAM needs: from the layer tensor
/// through GlobalAveragePool (or ReduceMean / AveragePool over all spatial positions), optional
/// Flatten/Reshape/Squeeze/Identity/Dropout, to Gemm or MatMul (+ Add of a bias) producing the logits.
/// </summary>
internal sealed class LinearHead
{
    private readonly float[] _raw;
    private readonly bool _classMajor;
    private readonly float _scale;

    // raw: the constant weight matrix as stored — [class, feature] when classMajor, else [feature, class].
    private LinearHead(float[] raw, bool classMajor, float scale, int classes, int features)
    {
        _raw = raw;
        _classMajor = classMajor;
        _scale = scale;
        Classes = classes;
        Features = features;
    }

    public int Classes { get; }
    public int Features { get; }

    /// <summary>The class's weight row w^c (length <see cref="Features"/>), read from the model's constant on demand.</summary>
    public float[] Row(int cls)
    {
        if (cls < 0 || cls >= Classes) throw new ArgumentOutOfRangeException(nameof(cls), $"class {cls} is outside 0..{Classes - 1}");
        var w = new float[Features];
        for (int k = 0; k < Features; k++)
            w[k] = _scale * (_classMajor ? _raw[cls * Features + k] : _raw[k * Classes + cls]);
        return w;
    }

    public static LinearHead Find(Graph g, ModelStructure s, LayerInfo layer)
    {
        string Fail(string why) => throw new SalientException(
            $"CAM needs a global-average-pooling → linear head after layer '{layer.Name}', but {why}; use the method gradcam, which works on any head and any layer");

        string t = layer.Name;
        var consumers = g.Consumers(t);
        if (consumers.Count != 1) Fail($"'{t}' feeds {consumers.Count} nodes");
        var pool = consumers[0];
        bool isGap = pool.OpType switch
        {
            "GlobalAveragePool" => layer.Layout != TensorLayout.Nhwc,
            "ReduceMean" => IsSpatialReduce(g, pool, layer, s),
            "AveragePool" => pool.GetInts("kernel_shape") is { Length: 2 } k && k[0] == layer.Spatial.H && k[1] == layer.Spatial.W,
            _ => false,
        };
        if (!isGap) Fail($"it is followed by {pool.Describe()}, not by global average pooling");
        t = pool.Outputs[0];
        while (true)
        {
            var cs = g.Consumers(t);
            if (cs.Count != 1) Fail($"the pooled features '{t}' feed {cs.Count} nodes");
            var n = cs[0];
            if (n.OpType is "Flatten" or "Reshape" or "Squeeze" or "Identity" or "Dropout") { t = n.Outputs[0]; continue; }
            float[] raw; int classes, features;
            bool classMajor;
            float alpha = 1f;
            if (n.OpType == "Gemm" && n.Inputs[0] == t && g.Constant(n.Input(1)) is { Rank: 2 } b)
            {
                classMajor = n.GetInt("transB", 0) != 0;
                alpha = n.GetFloat("alpha", 1f);
                raw = b.ToFloats();
                features = (int)(classMajor ? b.Dims[1] : b.Dims[0]);
                classes = (int)(classMajor ? b.Dims[0] : b.Dims[1]);
            }
            else if (n.OpType == "MatMul" && n.Inputs[0] == t && g.Constant(n.Input(1)) is { Rank: 2 } m)
            {
                raw = m.ToFloats();
                classMajor = false;
                features = (int)m.Dims[0];
                classes = (int)m.Dims[1];
            }
            else { Fail($"the pooled features go to {n.Describe()}, not to a Gemm/MatMul with constant weights"); return null!; }
            if (features != layer.Channels) Fail($"the linear layer has {features} inputs but the layer has {layer.Channels} channels");
            // The linear output (possibly + bias, softmax) must be what we call the logits.
            string outName = n.Outputs[0];
            var next = g.Consumers(outName);
            if (outName != s.LogitsName && !(next.Count == 1 && next[0].OpType == "Add" && next[0].Outputs[0] == s.LogitsName))
            {
                // Allow shape-only wrappers between the linear layer and the logits.
                string cur = outName;
                while (cur != s.LogitsName && g.Consumers(cur) is { Count: 1 } nx && nx[0].OpType is "Add" or "Flatten" or "Reshape" or "Squeeze" or "Identity")
                    cur = nx[0].Outputs[0];
                if (cur != s.LogitsName) Fail($"the linear layer's output '{outName}' is not the model's class scores");
            }
            return new LinearHead(raw, classMajor, alpha, classes, features);
        }
    }

    private static bool IsSpatialReduce(Graph g, Node n, LayerInfo layer, ModelStructure s)
    {
        long[]? axes = n.GetInts("axes") ?? (n.HasInput(1) ? g.Constant(n.Input(1))?.ToInt64s() : null);
        if (axes is null) return false;
        var set = axes.Select(a => a < 0 ? a + 4 : a).OrderBy(a => a).ToArray();
        return layer.Layout == TensorLayout.Nhwc ? set.SequenceEqual(new long[] { 1, 2 }) : set.SequenceEqual(new long[] { 2, 3 });
    }
}
