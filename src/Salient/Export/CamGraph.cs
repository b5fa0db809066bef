using Salient.Autodiff;
using Salient.Onnx;

namespace Salient.Export;

/// <summary>
/// The gradient-CAM family in ONNX ops (opset 18), from the layer A and its gradient G, both NCHW —
/// the same formulas as <c>Methods/Cam/*.cs</c>: Grad-CAM (spatial mean of G), Grad-CAM++
/// (closed-form α), XGrad-CAM (A-weighted G sums), HiResCAM (G ⊙ A), LayerCAM (ReLU(G) ⊙ A);
/// Σ over channels, then ReLU.
/// </summary>
internal sealed class CamGraph(Graph g, BackwardGraphWriter names)
{
    public static readonly IReadOnlyList<string> Methods = ["gradcam", "gradcam++", "xgradcam", "hirescam", "layercam"];

    private static readonly long[] Spatial = [2, 3];

    public string Op(string op, string[] inputs, params (string Name, object Value)[] attributes)
    {
        string output = names.Fresh(op);
        var n = new Node(op, inputs, [output], output);
        foreach (var (name, value) in attributes)
            switch (value)
            {
                case long l: n.Set(name, l); break;
                case long[] ls: n.Set(name, ls); break;
                case string s: n.Set(name, s); break;
                case float f: n.Set(name, f); break;
                default: throw new ArgumentException($"attribute {name}: unsupported value type");
            }
        g.Nodes.Add(n);
        return output;
    }

    public string Ints(long[] values)
    {
        string name = names.Fresh("const");
        g.Initializers[name] = Tensor.FromInt64s(name, [values.Length], values);
        return name;
    }

    public string Float(float value)
    {
        string name = names.Fresh("const");
        g.Initializers[name] = Tensor.Scalar(name, value);
        return name;
    }

    private string ReduceSum(string x, long[] axes) => Op("ReduceSum", [x, Ints(axes)], ("keepdims", 1L));

    /// <summary>x / d where d ≠ 0, else 0 (no NaN is ever formed).</summary>
    private string SafeDivide(string x, string d)
    {
        string zero = Float(0f);
        string isZero = Op("Equal", [d, zero]);
        string safe = Op("Where", [isZero, Float(1f), d]);
        return Op("Where", [isZero, zero, Op("Div", [x, safe])]);
    }

    /// <summary>The method's map [N, 1, h, w] after its ReLU.</summary>
    public string Map(string method, string a, string gr)
    {
        string weighted = method switch
        {
            "gradcam" => Op("Mul", [Op("ReduceMean", [gr, Ints(Spatial)], ("keepdims", 1L)), a]),
            "gradcam++" => Op("Mul", [PlusPlusWeights(a, gr), a]),
            "xgradcam" => Op("Mul", [SafeDivide(ReduceSum(Op("Mul", [a, gr]), Spatial), ReduceSum(a, Spatial)), a]),
            "hirescam" => Op("Mul", [gr, a]),
            "layercam" => Op("Mul", [Op("Relu", [gr]), a]),
            _ => throw new SalientException($"method '{method}' cannot be exported"),
        };
        return Op("Relu", [ReduceSum(weighted, [1])]);
    }

    /// <summary>w_k = Σ_ij α_kij ReLU(g_kij), α = g² / (2g² + Σ_ab A_kab g³) (0 where the denominator is 0).</summary>
    private string PlusPlusWeights(string a, string gr)
    {
        string g2 = Op("Mul", [gr, gr]);
        string g3 = Op("Mul", [g2, gr]);
        string denom = Op("Add", [Op("Mul", [g2, Float(2f)]), Op("Mul", [ReduceSum(a, Spatial), g3])]);
        string alpha = SafeDivide(g2, denom);
        return ReduceSum(Op("Mul", [alpha, Op("Relu", [gr])]), Spatial);
    }

    /// <summary>÷ the per-item maximum when it is positive (the pipeline's normalization of ReLU'd maps).</summary>
    public string DivideByMax(string map)
    {
        string max = Op("ReduceMax", [map, Ints([1, 2, 3])], ("keepdims", 1L));
        string positive = Op("Greater", [max, Float(0f)]);
        return Op("Div", [map, Op("Where", [positive, max, Float(1f)])]);
    }

    /// <summary>
    /// Rows [N, n] of non-negative values ÷ their q-quantile, clipped to 1 (the order statistic
    /// ⌈q·n⌉−1 of the ascending order, i.e. the (n−k)-th largest: TopK); ÷ the maximum where it is 0,
    /// all zeros where that is 0 too — exactly <c>MapMath.NormalizeByPercentile</c>.
    /// </summary>
    public string DivideByPercentile(string rows, long n, double q)
    {
        long k = Math.Clamp((long)Math.Ceiling(q * n) - 1, 0, n - 1);
        long largest = n - k;
        var top = new Node("TopK", [rows, Ints([largest])], [names.Fresh("TopK"), names.Fresh("TopK_indices")], names.Fresh("TopK_node"))
            .Set("axis", 1L).Set("largest", 1L).Set("sorted", 1L);
        g.Nodes.Add(top);
        string p = Op("Gather", [top.Outputs[0], Ints([largest - 1])], ("axis", 1L));
        string max = Op("Gather", [top.Outputs[0], Ints([0])], ("axis", 1L));
        string zero = Float(0f);
        string chosen = Op("Where", [Op("Greater", [p, zero]), p, max]);
        string safe = Op("Where", [Op("Greater", [chosen, zero]), chosen, Float(1f)]);
        return Op("Min", [Op("Div", [rows, safe]), Float(1f)]);
    }

    /// <summary>Linear resize with half-pixel centres (edges clamped) to <paramref name="sizes"/>.</summary>
    public string Resize(string x, long[] sizes) =>
        Op("Resize", [x, "", "", Ints(sizes)], ("mode", "linear"), ("coordinate_transformation_mode", "half_pixel"));
}
