using Salient.Onnx;
using Salient.Tests.Perturbation;

namespace Salient.Tests.Targets;

/// <summary>
/// Tiny models for the target tests, one per output kind, on <see cref="TinyModels"/>' input "input"
/// [N,3,8,8] (raw preprocessing): a trunk "layer" = Tanh(Conv 2×2 stride 2, k channels) [N,k,4,4] feeds
/// a head. Tanh keeps everything smooth, so finite differences are exact to O(ε²).
/// </summary>
internal static class TargetModels
{
    private static Graph Trunk(string name, int k, int seed)
    {
        var g = TinyModels.NewGraph(name);
        g.Initializers["Wc"] = Tensor.FromFloats("Wc", [k, TinyModels.C, 2, 2], TinyModels.Random(k * TinyModels.C * 4, seed));
        g.Initializers["Bc"] = Tensor.FromFloats("Bc", [k], TinyModels.Random(k, seed + 1, -0.3f, 0.3f));
        g.Nodes.Add(new Node("Conv", ["input", "Wc", "Bc"], ["conv"], "conv").Set("kernel_shape", new long[] { 2, 2 }).Set("strides", new long[] { 2, 2 }));
        g.Nodes.Add(new Node("Tanh", ["conv"], ["layer"], "tanh"));
        return g;
    }

    private static void Dense(Graph g, string input, string output, int inFeatures, int outFeatures, int seed)
    {
        g.Initializers["W_" + output] = Tensor.FromFloats("W_" + output, [outFeatures, inFeatures], TinyModels.Random(outFeatures * inFeatures, seed));
        g.Initializers["B_" + output] = Tensor.FromFloats("B_" + output, [outFeatures], TinyModels.Random(outFeatures, seed + 1));
        g.Nodes.Add(new Node("Gemm", [input, "W_" + output, "B_" + output], [output], "fc_" + output).Set("transB", 1L));
    }

    private static void Pooled(Graph g) 
    {
        g.Nodes.Add(new Node("GlobalAveragePool", ["layer"], ["pool"], "pool"));
        g.Nodes.Add(new Node("Flatten", ["pool"], ["flat"], "flatten").Set("axis", 1L));
    }

    /// <summary>Classifier: logits [N, classes] = Gemm(GAP(layer)); with <paramref name="sigmoid"/> the output is "probs" = Sigmoid(logits) (multi-label).</summary>
    public static string Classifier(int k, int classes, bool sigmoid, int seed)
    {
        var g = Trunk(sigmoid ? "multilabel" : "classifier", k, seed);
        Pooled(g);
        Dense(g, "flat", "logits", k, classes, seed + 2);
        string output = "logits";
        if (sigmoid)
        {
            g.Nodes.Add(new Node("Sigmoid", ["logits"], ["probs"], "sigmoid"));
            output = "probs";
        }
        g.Outputs.Add(new ValueInfo(output, DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(classes)]));
        return TinyModels.Save(g);
    }

    /// <summary>Embedding: "embedding" [N, d] = Tanh(Gemm(GAP(layer))).</summary>
    public static string Embedding(int k, int d, int seed)
    {
        var g = Trunk("embedding", k, seed);
        Pooled(g);
        Dense(g, "flat", "fc", k, d, seed + 2);
        g.Nodes.Add(new Node("Tanh", ["fc"], ["embedding"], "tanh2"));
        g.Outputs.Add(new ValueInfo("embedding", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(d)]));
        return TinyModels.Save(g);
    }

    /// <summary>Segmentation: "seg" [N, classes, 8, 8] = Resize×2 (linear) of a 1×1 Conv of layer — a fully-convolutional head like the README's.</summary>
    public static string Segmentation(int k, int classes, int seed)
    {
        var g = Trunk("segmentation", k, seed);
        g.Initializers["Ws"] = Tensor.FromFloats("Ws", [classes, k, 1, 1], TinyModels.Random(classes * k, seed + 2));
        g.Initializers["Bs"] = Tensor.FromFloats("Bs", [classes], TinyModels.Random(classes, seed + 3));
        g.Nodes.Add(new Node("Conv", ["layer", "Ws", "Bs"], ["low"], "classifier").Set("kernel_shape", new long[] { 1, 1 }));
        g.Initializers["scales"] = Tensor.FromFloats("scales", [4], [1, 1, 2, 2]);
        g.Nodes.Add(new Node("Resize", ["low", "", "scales"], ["seg"], "up").Set("mode", "linear"));
        g.Outputs.Add(new ValueInfo("seg", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(classes), Dim.Fixed(TinyModels.H), Dim.Fixed(TinyModels.W)]));
        return TinyModels.Save(g);
    }

    /// <summary>YOLO-style head: "det" [N, 16, 5+classes] = Sigmoid(Transpose(Reshape(Conv1×1(layer)))) — one row per cell of the 4×4 grid.</summary>
    public static string Yolo(int k, int classes, int seed)
    {
        var g = Trunk("yolo", k, seed);
        int c = 5 + classes;
        g.Initializers["Wy"] = Tensor.FromFloats("Wy", [c, k, 1, 1], TinyModels.Random(c * k, seed + 2, -2, 2));
        g.Initializers["By"] = Tensor.FromFloats("By", [c], TinyModels.Random(c, seed + 3));
        g.Nodes.Add(new Node("Conv", ["layer", "Wy", "By"], ["raw"], "head").Set("kernel_shape", new long[] { 1, 1 }));
        g.Initializers["shape"] = Tensor.FromInt64s("shape", [3], [0, c, 16]);
        g.Nodes.Add(new Node("Reshape", ["raw", "shape"], ["flat"], "reshape"));
        g.Nodes.Add(new Node("Transpose", ["flat"], ["rows"], "transpose").Set("perm", new long[] { 0, 2, 1 }));
        g.Nodes.Add(new Node("Sigmoid", ["rows"], ["det"], "sigmoid"));
        g.Outputs.Add(new ValueInfo("det", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(16), Dim.Fixed(c)]));
        return TinyModels.Save(g);
    }

    /// <summary>Scores + boxes: "boxes" [N, 16, 4] and "scores" [N, 16, classes] = Softmax over classes (SSD-like, post-processing removed).</summary>
    public static string ScoresAndBoxes(int k, int classes, int seed)
    {
        var g = Trunk("ssd", k, seed);
        void Head(string name, int c, int s)
        {
            g.Initializers["W" + name] = Tensor.FromFloats("W" + name, [c, k, 1, 1], TinyModels.Random(c * k, s, -2, 2));
            g.Nodes.Add(new Node("Conv", ["layer", "W" + name], [name + "_raw"], name + "_conv").Set("kernel_shape", new long[] { 1, 1 }));
            g.Initializers[name + "_shape"] = Tensor.FromInt64s(name + "_shape", [3], [0, c, 16]);
            g.Nodes.Add(new Node("Reshape", [name + "_raw", name + "_shape"], [name + "_flat"], name + "_reshape"));
            g.Nodes.Add(new Node("Transpose", [name + "_flat"], [name + "_rows"], name + "_transpose").Set("perm", new long[] { 0, 2, 1 }));
        }
        Head("b", 4, seed + 2);
        Head("s", classes, seed + 4);
        g.Nodes.Add(new Node("Identity", ["b_rows"], ["boxes"], "boxes"));
        g.Nodes.Add(new Node("Softmax", ["s_rows"], ["scores"], "softmax").Set("axis", -1L));
        g.Outputs.Add(new ValueInfo("boxes", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(16), Dim.Fixed(4)]));
        g.Outputs.Add(new ValueInfo("scores", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(16), Dim.Fixed(classes)]));
        return TinyModels.Save(g);
    }
}
