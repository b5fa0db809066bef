using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Onnx;

namespace Salient.Tests.Perturbation;

/// <summary>
/// Hand-built ONNX models whose attributions are known in closed form, written with Salient's own
/// Graph API and <see cref="OnnxWriter"/> into a temporary folder (nothing binary is committed).
/// Input "input" [N,3,8,8] NCHW, dynamic batch, raw preprocessing; output "logits" [N,classes].
/// </summary>
internal static class TinyModels
{
    public const int C = 3, H = 8, W = 8;

    internal static Graph NewGraph(string name)
    {
        var g = new Graph { Name = name, IrVersion = 8 };
        g.Opsets[""] = 13;
        g.Inputs.Add(new ValueInfo("input", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(C), Dim.Fixed(H), Dim.Fixed(W)]));
        return g;
    }

    internal static string Save(Graph g)
    {
        var dir = Directory.CreateTempSubdirectory("salient-tiny").FullName;
        var path = Path.Combine(dir, g.Name + ".onnx");
        OnnxWriter.WriteFile(g, path);
        return path;
    }

    public static float[] Random(int n, int seed, float lo = -1, float hi = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(lo + (hi - lo) * r.NextDouble())).ToArray();
    }

    /// <summary>logits = W·flatten(x) + b, W [classes, 3·8·8]. <paramref name="weights"/> overrides the random W.</summary>
    public static (string Path, float[] W, float[] B) Linear(int classes, int seed, float[]? weights = null)
    {
        var g = NewGraph("linear");
        int n = C * H * W;
        var w = weights ?? Random(classes * n, seed);
        var b = Random(classes, seed + 1);
        g.Initializers["W"] = Tensor.FromFloats("W", [classes, n], w);
        g.Initializers["B"] = Tensor.FromFloats("B", [classes], b);
        g.Nodes.Add(new Node("Flatten", ["input"], ["flat"], "flatten").Set("axis", 1L));
        g.Nodes.Add(new Node("Gemm", ["flat", "W", "B"], ["logits"], "fc").Set("transB", 1L));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(classes)]));
        return (Save(g), w, b);
    }

    /// <summary>
    /// x → Conv(k channels, 2×2, stride 2) [→ Relu] = "layer" [N,k,4,4] [+ "skip" = Conv'(x)] → GlobalAveragePool → Flatten →
    /// Gemm(W2 [classes,k], b2) = logits. The head after "layer" is linear: y_c = Σ_k W2[c,k]·mean(layer_k) (+ skip terms) + b2_c.
    /// </summary>
    public static (string Path, float[] W2, float[] B2) ConvHead(int k, int classes, bool relu, bool skip, int seed)
    {
        var g = NewGraph($"convhead{k}{(relu ? "r" : "")}{(skip ? "s" : "")}");
        g.Initializers["Wc"] = Tensor.FromFloats("Wc", [k, C, 2, 2], Random(k * C * 4, seed));
        g.Initializers["Bc"] = Tensor.FromFloats("Bc", [k], Random(k, seed + 1, 0, 0.5f));
        var w2 = Random(classes * k, seed + 2);
        var b2 = Random(classes, seed + 3);
        g.Initializers["W2"] = Tensor.FromFloats("W2", [classes, k], w2);
        g.Initializers["B2"] = Tensor.FromFloats("B2", [classes], b2);
        string conv = relu ? "conv" : "layer";
        g.Nodes.Add(new Node("Conv", ["input", "Wc", "Bc"], [conv], "conv").Set("kernel_shape", new long[] { 2, 2 }).Set("strides", new long[] { 2, 2 }));
        if (relu) g.Nodes.Add(new Node("Relu", ["conv"], ["layer"], "relu"));
        string pooled = "layer";
        if (skip)
        {
            g.Initializers["Ws"] = Tensor.FromFloats("Ws", [k, C, 2, 2], Random(k * C * 4, seed + 4));
            g.Nodes.Add(new Node("Conv", ["input", "Ws"], ["skip"], "skipconv").Set("kernel_shape", new long[] { 2, 2 }).Set("strides", new long[] { 2, 2 }));
            g.Nodes.Add(new Node("Add", ["layer", "skip"], ["sum"], "add"));
            pooled = "sum";
        }
        g.Nodes.Add(new Node("GlobalAveragePool", [pooled], ["pool"], "pool"));
        g.Nodes.Add(new Node("Flatten", ["pool"], ["flat"], "flatten").Set("axis", 1L));
        g.Nodes.Add(new Node("Gemm", ["flat", "W2", "B2"], ["logits"], "fc").Set("transB", 1L));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, [Dim.Dynamic("N"), Dim.Fixed(classes)]));
        return (Save(g), w2, b2);
    }

    public static SalientModel Load(string path) =>
        TestPaths.Load(path, new ModelOptions { Preprocessing = Preprocessing.Raw });

    /// <summary>A model input made directly from tensor values (no image decoding).</summary>
    public static PreparedInput Item(float[] tensor) =>
        new(tensor, W, H, C, TensorLayout.Nchw, CropGeometry.Whole(W, H), new RgbImage(W, H, new float[W * H * 3]));

    public static PreparedInput RandomItem(int seed, float lo = -1, float hi = 1) => Item(Random(C * H * W, seed, lo, hi));

    public static ExplainResult Explain(SalientModel m, PreparedInput item, string method, string[] classes, Dictionary<string, string>? p = null, string layer = "layer") =>
        Explainer.Explain(m, [item], new ExplainRequest { Methods = [method], Layers = [layer], Classes = classes, Parameters = p ?? new() });
}
