using Salient.Onnx;
using Xunit;

namespace Salient.Tests.Autodiff;

/// <summary>
/// Every gradient rule against finite differences on tiny graphs (see <see cref="GradCheck"/> for
/// the method and tolerance). One case per op variant; the case name says what it covers.
/// </summary>
public class OpGradientTests
{
    internal sealed record Case(TinyGraph T, Graph Graph, float[] X, double Eps, double Tol);

    private delegate string Body(TinyGraph t, Random r);

    private static Func<Case> C(long opset, long[] shape, Body body, Func<Random, int, float[]>? input = null, double eps = 1e-2, double tol = 1e-2) => () =>
    {
        var rng = new Random(12345);
        var t = new TinyGraph(opset, shape);
        string y = body(t, rng);
        var g = t.Done(y);
        int n = (int)Tensor.ElementCount(shape);
        var x = (input ?? ((r, k) => GradCheck.Uniform(r, k)))(new Random(54321), n);
        return new Case(t, g, x, eps, tol);
    };

    private static readonly Func<Random, int, float[]> AwayFromZero = (r, n) => GradCheck.AwayFrom(r, n, -3, 3, 0.05f, 0f);
    private static readonly Func<Random, int, float[]> Relu6Range = (r, n) => GradCheck.AwayFrom(r, n, -2, 8, 0.05f, 0f, 6f);
    private static readonly Func<Random, int, float[]> DistinctValues = (r, n) => GradCheck.Distinct(r, n);
    private static readonly Func<Random, int, float[]> Positive = (r, n) => GradCheck.Uniform(r, n, 0.5f, 2f);
    private static readonly long[] S4 = [2, 3, 4, 5];

    private static Node Attrs(Node n, params (string Name, object Value)[] attrs)
    {
        foreach (var (name, v) in attrs)
            switch (v)
            {
                case long l: n.Set(name, l); break;
                case int i: n.Set(name, (long)i); break;
                case float f: n.Set(name, f); break;
                case double d: n.Set(name, (float)d); break;
                case string s: n.Set(name, s); break;
                case long[] ls: n.Set(name, ls); break;
                case float[] fs: n.Set(name, fs); break;
                default: throw new ArgumentException(name);
            }
        return n;
    }

    private static string N(TinyGraph t, string op, string[] inputs, params (string, object)[] attrs) => Attrs(t.Node(op, inputs), attrs).Outputs[0];

    /// <summary>A constant bool `true`: Dropout's training_mode input.</summary>
    private static string TrainingMode(TinyGraph t)
    {
        string name = "training_mode_true";
        t.G.Initializers[name] = new Tensor(name, DataType.Bool, [], new[] { true });
        return name;
    }

    private static Body Conv(long[] w, params (string, object)[] attrs) => (t, r) =>
        N(t, "Conv", ["x", t.Random(w, r, -0.5f, 0.5f)], attrs);

    private static Body Unary(string op, params (string, object)[] attrs) => (t, r) => N(t, op, ["x"], attrs);

    /// <summary>Two broadcasting operands derived from x: a [2,1,4,1] and b [1,3,1,5], both on the path.</summary>
    private static (string A, string B) BothSides(TinyGraph t, bool positiveB = false)
    {
        string a = N(t, "ReduceMean", ["x"], ("axes", new long[] { 1, 3 }));
        string b = t.Op("ReduceSum", "x", t.Ints(0, 2));
        if (positiveB) b = t.Op("Add", t.Op("Mul", b, b), t.Scalar(1f));
        return (a, b);
    }

    private static readonly Dictionary<string, Func<Case>> Cases = new()
    {
        // ---- Conv ----
        ["conv_pads1_bias_batch2"] = C(13, [2, 3, 7, 7], (t, r) => N(t, "Conv", ["x", t.Random([4, 3, 3, 3], r, -0.5f, 0.5f), t.Random([4], r)], ("pads", new long[] { 1, 1, 1, 1 }))),
        ["conv_group2"] = C(13, [1, 4, 6, 6], Conv([6, 2, 3, 3], ("group", 2L))),
        ["conv_depthwise_stride2_odd_outpad"] = C(13, [1, 3, 10, 9], Conv([3, 1, 3, 3], ("group", 3L), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }))),
        ["conv_stride2_nopad_outpad"] = C(13, [1, 2, 8, 8], Conv([3, 2, 3, 3], ("strides", new long[] { 2, 2 }))),
        ["conv_stride3_kernel2"] = C(13, [1, 2, 8, 7], Conv([2, 2, 2, 2], ("strides", new long[] { 3, 3 }))),
        ["conv_dilation2_stride2"] = C(13, [1, 2, 9, 9], Conv([3, 2, 3, 3], ("dilations", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 2, 2, 2, 2 }))),
        ["conv_asymmetric_pads"] = C(13, [1, 2, 7, 8], Conv([3, 2, 3, 3], ("pads", new long[] { 0, 1, 2, 1 }), ("strides", new long[] { 2, 2 }))),
        ["conv_same_upper"] = C(13, [1, 2, 7, 8], Conv([3, 2, 4, 4], ("auto_pad", "SAME_UPPER"), ("strides", new long[] { 2, 2 }))),
        ["conv_same_lower"] = C(13, [1, 2, 7, 8], Conv([3, 2, 4, 4], ("auto_pad", "SAME_LOWER"), ("strides", new long[] { 2, 2 }))),
        ["conv_valid_stride2"] = C(13, [1, 2, 8, 8], Conv([3, 2, 3, 3], ("auto_pad", "VALID"), ("strides", new long[] { 2, 2 }))),
        ["conv_1d"] = C(13, [2, 3, 11], Conv([4, 3, 3], ("strides", new long[] { 2 }), ("pads", new long[] { 1, 0 }))),
        ["conv_3d"] = C(13, [1, 2, 5, 5, 4], Conv([2, 2, 3, 3, 3], ("strides", new long[] { 2, 2, 2 }), ("pads", new long[] { 1, 1, 1, 1, 1, 1 }))),
        ["conv_stride1_dilation_asym_pads"] = C(13, [1, 2, 9, 8], Conv([3, 2, 3, 2], ("dilations", new long[] { 2, 1 }), ("pads", new long[] { 1, 0, 2, 1 }))),
        ["conv_stride1_same_lower_even_kernel"] = C(13, [1, 2, 6, 7], Conv([2, 2, 4, 4], ("auto_pad", "SAME_LOWER"))),
        ["conv_stride1_same_upper_even_kernel"] = C(13, [1, 2, 6, 7], Conv([2, 2, 4, 4], ("auto_pad", "SAME_UPPER"))),
        ["conv_depthwise_stride1"] = C(13, [1, 3, 6, 6], Conv([3, 1, 3, 3], ("group", 3L), ("pads", new long[] { 1, 1, 1, 1 }))),
        ["conv_depthwise_channel_multiplier"] = C(13, [1, 2, 5, 5], Conv([4, 1, 3, 3], ("group", 2L), ("pads", new long[] { 1, 1, 1, 1 }))),
        ["conv_1d_stride1"] = C(13, [1, 2, 9], Conv([3, 2, 4], ("pads", new long[] { 2, 1 }))),
        ["conv_pads_larger_than_kernel"] = C(13, [1, 2, 5, 5], Conv([2, 2, 3, 3], ("pads", new long[] { 3, 3, 3, 3 }))),
        ["conv_1x1_stride2_even_downsample"] = C(13, [1, 4, 8, 8], Conv([6, 4, 1, 1], ("strides", new long[] { 2, 2 }))),
        ["conv_7x7_stride2_pad3_stem"] = C(13, [1, 3, 20, 20], Conv([4, 3, 7, 7], ("strides", new long[] { 2, 2 }), ("pads", new long[] { 3, 3, 3, 3 })), eps: 1e-3),
        ["conv_mixed_strides_2_1"] = C(13, [1, 2, 9, 7], Conv([3, 2, 3, 2], ("strides", new long[] { 2, 1 }), ("pads", new long[] { 1, 0, 1, 1 }))),
        ["conv_group2_stride2_kernel4"] = C(13, [1, 4, 9, 10], Conv([6, 2, 4, 4], ("group", 2L), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 2, 2, 1 }))),
        ["conv_depthwise_multiplier_stride2"] = C(13, [1, 2, 7, 8], Conv([4, 1, 3, 3], ("group", 2L), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }))),
        ["conv_stride2_pads_larger_than_kernel"] = C(13, [1, 2, 6, 5], Conv([2, 2, 3, 3], ("strides", new long[] { 2, 2 }), ("pads", new long[] { 4, 3, 4, 5 }))),
        ["conv_1d_1x1_stride3"] = C(13, [1, 3, 10], Conv([2, 3, 1], ("strides", new long[] { 3 }))),
        ["conv_3x3_stride2_pad1_even"] = C(13, [1, 4, 8, 8], Conv([4, 4, 3, 3], ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }))),
        ["convtranspose_stride2_outpad"] = C(13, [1, 3, 4, 4], (t, r) => N(t, "ConvTranspose", ["x", t.Random([3, 2, 3, 3], r, -0.5f, 0.5f)], ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }), ("output_padding", new long[] { 1, 1 }))),
        ["convtranspose_group2_asym"] = C(13, [1, 4, 5, 5], (t, r) => N(t, "ConvTranspose", ["x", t.Random([4, 1, 3, 3], r, -0.5f, 0.5f)], ("group", 2L), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 0, 1, 1, 0 }))),
        ["convtranspose_dilation"] = C(13, [1, 2, 4, 5], (t, r) => N(t, "ConvTranspose", ["x", t.Random([2, 3, 2, 2], r, -0.5f, 0.5f)], ("dilations", new long[] { 2, 2 }))),
        ["convtranspose_same_upper"] = C(13, [1, 2, 4, 5], (t, r) => N(t, "ConvTranspose", ["x", t.Random([2, 2, 4, 4], r, -0.5f, 0.5f)], ("auto_pad", "SAME_UPPER"), ("strides", new long[] { 2, 2 }))),

        // ---- Gemm / MatMul ----
        ["gemm_alpha_beta"] = C(13, [3, 5], (t, r) => N(t, "Gemm", ["x", t.Random([5, 4], r), t.Random([4], r)], ("alpha", 0.7f), ("beta", 1.3f))),
        ["gemm_transA"] = C(13, [5, 3], (t, r) => N(t, "Gemm", ["x", t.Random([5, 4], r), t.Random([1, 4], r)], ("transA", 1L))),
        ["gemm_transB"] = C(13, [3, 5], (t, r) => N(t, "Gemm", ["x", t.Random([4, 5], r)], ("transB", 1L), ("alpha", 1.5f))),
        ["gemm_transA_transB"] = C(13, [5, 3], (t, r) => N(t, "Gemm", ["x", t.Random([4, 5], r)], ("transA", 1L), ("transB", 1L))),
        ["gemm_x_is_B"] = C(13, [5, 4], (t, r) => N(t, "Gemm", [t.Random([3, 5], r), "x"], ("alpha", 0.5f))),
        ["gemm_x_is_B_transposed"] = C(13, [4, 5], (t, r) => N(t, "Gemm", [t.Random([5, 3], r), "x"], ("transA", 1L), ("transB", 1L))),
        ["gemm_C_on_path_broadcast"] = C(13, [3, 4], (t, r) => N(t, "Gemm", ["x", t.Random([4, 4], r), N(t, "ReduceMean", ["x"], ("axes", new long[] { 0 }))], ("beta", 0.5f))),
        ["matmul_2d"] = C(13, [3, 5], (t, r) => t.Op("MatMul", "x", t.Random([5, 4], r))),
        ["matmul_batched"] = C(13, [2, 3, 4, 5], (t, r) => t.Op("MatMul", "x", t.Random([5, 6], r))),
        ["matmul_broadcast_batch"] = C(13, [2, 1, 3, 4], (t, r) => t.Op("MatMul", "x", t.Random([3, 4, 5], r))),
        ["matmul_1d_left"] = C(13, [5], (t, r) => t.Op("MatMul", "x", t.Random([5, 4], r))),
        ["matmul_1d_right"] = C(13, [5], (t, r) => t.Op("MatMul", t.Random([2, 3, 5], r), "x")),
        ["matmul_both_operands"] = C(13, [2, 3, 4], (t, r) => t.Op("MatMul", "x", N(t, "Transpose", ["x"], ("perm", new long[] { 0, 2, 1 })))),

        // ---- ReLU-like ----
        ["relu"] = C(13, S4, Unary("Relu"), AwayFromZero),
        ["leakyrelu"] = C(13, S4, Unary("LeakyRelu", ("alpha", 0.1f)), AwayFromZero),
        ["prelu_per_channel"] = C(13, S4, (t, r) => t.Op("PRelu", "x", t.Random([3, 1, 1], r, 0.05f, 0.5f)), AwayFromZero),
        ["clip_relu6_inputs"] = C(13, S4, (t, r) => t.Op("Clip", "x", t.Scalar(0f), t.Scalar(6f)), Relu6Range),
        ["clip_min_only"] = C(13, S4, (t, r) => t.Op("Clip", "x", t.Scalar(-0.5f)), (r, n) => GradCheck.AwayFrom(r, n, -3, 3, 0.05f, -0.5f)),
        ["clip_attributes_opset8"] = C(8, S4, Unary("Clip", ("min", -0.5f), ("max", 0.7f)), (r, n) => GradCheck.AwayFrom(r, n, -2, 2, 0.05f, -0.5f, 0.7f)),

        // ---- smooth activations / unary math ----
        ["sigmoid"] = C(13, S4, Unary("Sigmoid"), (r, n) => GradCheck.Uniform(r, n, -3, 3)),
        ["tanh"] = C(13, S4, Unary("Tanh"), (r, n) => GradCheck.Uniform(r, n, -2, 2)),
        ["elu"] = C(13, S4, Unary("Elu", ("alpha", 0.8f)), AwayFromZero),
        ["selu"] = C(13, S4, Unary("Selu"), AwayFromZero),
        ["hardsigmoid"] = C(13, S4, Unary("HardSigmoid", ("alpha", 0.3f), ("beta", 0.4f)), (r, n) => GradCheck.AwayFrom(r, n, -3, 3, 0.05f, -4f / 3f, 2f)),
        ["hardswish"] = C(14, S4, Unary("HardSwish"), (r, n) => GradCheck.AwayFrom(r, n, -5, 5, 0.05f, -3f, 3f)),
        ["softplus"] = C(13, S4, Unary("Softplus"), (r, n) => GradCheck.Uniform(r, n, -3, 3)),
        ["softsign"] = C(13, S4, Unary("Softsign"), (r, n) => GradCheck.Uniform(r, n, -3, 3)),
        ["erf"] = C(13, S4, Unary("Erf"), (r, n) => GradCheck.Uniform(r, n, -2, 2)),
        ["gelu_exact_opset20"] = C(20, S4, Unary("Gelu"), (r, n) => GradCheck.Uniform(r, n, -3, 3)),
        ["gelu_tanh_opset20"] = C(20, S4, Unary("Gelu", ("approximate", "tanh")), (r, n) => GradCheck.Uniform(r, n, -3, 3)),
        ["mish_opset18"] = C(18, S4, Unary("Mish"), (r, n) => GradCheck.Uniform(r, n, -3, 3)),
        ["silu_mul_sigmoid"] = C(13, S4, (t, r) => t.Op("Mul", "x", t.Op("Sigmoid", "x")), (r, n) => GradCheck.Uniform(r, n, -3, 3)),
        ["exp"] = C(13, S4, Unary("Exp")),
        ["log"] = C(13, S4, Unary("Log"), Positive),
        ["sqrt"] = C(13, S4, Unary("Sqrt"), Positive),
        ["reciprocal"] = C(13, S4, Unary("Reciprocal"), Positive),
        ["neg"] = C(13, S4, Unary("Neg")),
        ["abs"] = C(13, S4, Unary("Abs"), AwayFromZero),
        ["pow_cube"] = C(13, S4, (t, r) => t.Op("Pow", "x", t.Scalar(3f))),
        ["pow_square"] = C(13, S4, (t, r) => t.Op("Pow", "x", t.Scalar(2f))),
        ["pow_base_constant"] = C(13, S4, (t, r) => t.Op("Pow", t.Random([5], r, 0.5f, 2f), "x")),

        // ---- broadcasting arithmetic ----
        ["add_x_c11_broadcast"] = C(13, [3, 1, 1], (t, r) => t.Op("Add", "x", t.Random(S4, r))),
        ["sub_x_1c11_broadcast"] = C(13, [1, 3, 1, 1], (t, r) => t.Op("Sub", t.Random(S4, r), "x")),
        ["mul_x_scalar_like"] = C(13, [1], (t, r) => t.Op("Mul", t.Random(S4, r), "x")),
        ["mul_const_scalar"] = C(13, S4, (t, r) => t.Op("Mul", "x", t.Scalar(-1.7f))),
        ["mul_const_c11"] = C(13, S4, (t, r) => t.Op("Mul", t.Random([3, 1, 1], r), "x")),
        ["div_x_numerator_c11"] = C(13, S4, (t, r) => t.Op("Div", "x", t.Random([3, 1, 1], r, 0.5f, 2f))),
        ["div_x_denominator_1c11"] = C(13, [1, 3, 1, 1], (t, r) => t.Op("Div", t.Random(S4, r), "x"), Positive),
        ["add_both_sides_broadcast"] = C(13, S4, (t, r) => { var (a, b) = BothSides(t); return t.Op("Add", a, b); }),
        ["sub_both_sides_broadcast"] = C(13, S4, (t, r) => { var (a, b) = BothSides(t); return t.Op("Sub", a, b); }),
        ["mul_both_sides_broadcast"] = C(13, S4, (t, r) => { var (a, b) = BothSides(t); return t.Op("Mul", a, b); }),
        ["div_both_sides_broadcast"] = C(13, S4, (t, r) => { var (a, b) = BothSides(t, positiveB: true); return t.Op("Div", a, b); }),
        ["mul_same_tensor_twice"] = C(13, S4, (t, r) => t.Op("Mul", "x", "x")),
        ["sum_variadic_broadcast"] = C(13, S4, (t, r) => { var (a, b) = BothSides(t); return t.Op("Sum", "x", a, b); }),
        ["mean_variadic_broadcast"] = C(13, S4, (t, r) => { var (a, b) = BothSides(t); return t.Op("Mean", "x", a, b); }),
        ["max_with_constant"] = C(13, S4, (t, r) => t.Op("Max", "x", t.Scalar(0.0125f)), DistinctValues),
        ["min_with_constant"] = C(13, S4, (t, r) => t.Op("Min", "x", t.Scalar(0.0125f)), DistinctValues),
        ["where_branches"] = C(13, S4, (t, r) => t.Op("Where", t.Op("Greater", "x", t.Scalar(0f)), t.Op("Mul", "x", t.Scalar(2f)), t.Op("Neg", "x")), AwayFromZero),

        // ---- normalization ----
        ["batchnorm"] = C(15, S4, (t, r) => t.Op("BatchNormalization", "x", t.Random([3], r), t.Random([3], r), t.Random([3], r), t.Random([3], r, 0.5f, 2f))),
        ["batchnorm_opset8_spatial1"] = C(8, S4, (t, r) => N(t, "BatchNormalization", ["x", t.Random([3], r), t.Random([3], r), t.Random([3], r), t.Random([3], r, 0.5f, 2f)], ("spatial", 1L), ("epsilon", 1e-3f))),
        ["batchnorm_opset7_spatial0"] = C(7, S4, (t, r) => N(t, "BatchNormalization", ["x", t.Random([3, 4, 5], r), t.Random([3, 4, 5], r), t.Random([3, 4, 5], r), t.Random([3, 4, 5], r, 0.5f, 2f)], ("spatial", 0L))),
        ["instancenorm"] = C(13, S4, (t, r) => t.Op("InstanceNormalization", "x", t.Random([3], r), t.Random([3], r))),
        ["layernorm_last_axis"] = C(17, S4, (t, r) => t.Op("LayerNormalization", "x", t.Random([5], r), t.Random([5], r))),
        ["layernorm_axis1"] = C(17, S4, (t, r) => N(t, "LayerNormalization", ["x", t.Random([3, 4, 5], r), t.Random([3, 4, 5], r)], ("axis", 1L), ("epsilon", 1e-3f))),
        ["lrn_size3"] = C(13, [2, 5, 3, 3], Unary("LRN", ("size", 3L), ("alpha", 0.5f), ("beta", 0.75f), ("bias", 1f))),
        ["lrn_size5"] = C(13, [1, 6, 2, 3], Unary("LRN", ("size", 5L), ("alpha", 0.8f), ("beta", 0.6f), ("bias", 2f))),

        // ---- pooling ----
        ["maxpool_k3s2_ceil_pads_overlapping"] = C(13, [1, 2, 9, 10], Unary("MaxPool", ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }), ("ceil_mode", 1L)), DistinctValues),
        ["maxpool_dilation"] = C(13, [1, 2, 7, 7], Unary("MaxPool", ("kernel_shape", new long[] { 2, 2 }), ("dilations", new long[] { 2, 2 })), DistinctValues),
        ["maxpool_storage_order1"] = C(11, [2, 2, 7, 6], Unary("MaxPool", ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("storage_order", 1L)), DistinctValues),
        ["maxpool_1d"] = C(13, [1, 3, 11], Unary("MaxPool", ("kernel_shape", new long[] { 3 }), ("strides", new long[] { 2 })), DistinctValues),
        ["maxpool_opset8_same_upper"] = C(8, [1, 2, 7, 7], Unary("MaxPool", ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("auto_pad", "SAME_UPPER")), DistinctValues),
        ["avgpool_cip0_pads_ceil"] = C(13, [1, 2, 9, 10], Unary("AveragePool", ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }), ("ceil_mode", 1L))),
        ["avgpool_cip1_pads_ceil"] = C(13, [1, 2, 9, 10], Unary("AveragePool", ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }), ("ceil_mode", 1L), ("count_include_pad", 1L))),
        ["avgpool_cip1_asym_pads"] = C(13, [1, 2, 8, 7], Unary("AveragePool", ("kernel_shape", new long[] { 2, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 0, 1, 1, 2 }), ("count_include_pad", 1L))),
        ["avgpool_same_upper"] = C(13, [1, 2, 7, 8], Unary("AveragePool", ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("auto_pad", "SAME_UPPER"))),
        ["avgpool_same_lower_cip1"] = C(13, [1, 2, 7, 8], Unary("AveragePool", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("auto_pad", "SAME_LOWER"), ("count_include_pad", 1L))),
        ["avgpool_1d_ceil"] = C(13, [1, 2, 10], Unary("AveragePool", ("kernel_shape", new long[] { 3 }), ("strides", new long[] { 3 }), ("ceil_mode", 1L))),
        ["globalaveragepool"] = C(13, S4, Unary("GlobalAveragePool")),
        ["globalmaxpool"] = C(13, S4, Unary("GlobalMaxPool"), DistinctValues),

        // ---- reductions ----
        ["reducesum_axes_input_opset13"] = C(13, S4, (t, r) => N(t, "ReduceSum", ["x", t.Ints(1, 3)], ("keepdims", 0L))),
        ["reducesum_axes_attr_opset11"] = C(11, S4, Unary("ReduceSum", ("axes", new long[] { -1 }))),
        ["reducemean_axes_input_opset18"] = C(18, S4, (t, r) => N(t, "ReduceMean", ["x", t.Ints(2)], ("keepdims", 0L))),
        ["reducemean_axes_attr_opset13"] = C(13, S4, Unary("ReduceMean", ("axes", new long[] { 1, 2 }))),
        ["reducemean_all_axes"] = C(13, S4, Unary("ReduceMean", ("keepdims", 0L))),
        ["reducemax"] = C(13, S4, Unary("ReduceMax", ("axes", new long[] { 3 })), DistinctValues),
        ["reducemin_opset18"] = C(18, S4, (t, r) => N(t, "ReduceMin", ["x", t.Ints(1)], ("keepdims", 0L)), DistinctValues),
        ["reducesumsquare"] = C(13, S4, Unary("ReduceSumSquare", ("axes", new long[] { 0, 2 }))),
        ["reducel2"] = C(13, S4, Unary("ReduceL2", ("axes", new long[] { 1 }))),
        ["reducel1"] = C(13, S4, Unary("ReduceL1", ("axes", new long[] { 2 })), AwayFromZero),
        ["reducelogsumexp"] = C(13, S4, Unary("ReduceLogSumExp", ("axes", new long[] { 3 }))),

        // ---- shape ops ----
        ["concat_with_constant"] = C(13, S4, (t, r) => N(t, "Concat", ["x", t.Op("Mul", "x", t.Scalar(2f)), t.Random([2, 2, 4, 5], r)], ("axis", 1L))),
        ["split_input_opset13"] = C(13, S4, (t, r) => { var s = Attrs(t.MultiOut("Split", ["x", t.Ints(1, 2)], 2), ("axis", 1L)); return t.Op("Add", s.Outputs[0], t.Op("Mul", s.Outputs[1], s.Outputs[1])); }),
        ["split_num_outputs_opset18_unused_output"] = C(18, [2, 3, 4, 6], (t, r) => { var s = Attrs(t.MultiOut("Split", ["x"], 3), ("axis", 3L), ("num_outputs", 3L)); return t.Op("Mul", s.Outputs[0], s.Outputs[2]); }),
        ["split_attr_opset11"] = C(11, S4, (t, r) => { var s = Attrs(t.MultiOut("Split", ["x"], 2), ("axis", 2L), ("split", new long[] { 2, 2 })); return t.Op("Sub", s.Outputs[0], t.Op("Mul", s.Outputs[1], t.Scalar(3f))); }),
        ["slice_negative_steps"] = C(13, [2, 3, 7, 8], (t, r) => t.Op("Slice", "x", t.Ints(6, -2), t.Ints(0, -9), t.Ints(2, 3), t.Ints(-2, -3))),
        ["slice_positive_steps"] = C(13, [2, 3, 7, 8], (t, r) => t.Op("Slice", "x", t.Ints(1, 0), t.Ints(100, 8), t.Ints(1, 3), t.Ints(1, 3))),
        ["slice_negative_axis_step1"] = C(13, [2, 3, 7, 8], (t, r) => t.Op("Slice", "x", t.Ints(2), t.Ints(-1), t.Ints(-1))),
        ["slice_attr_opset9"] = C(9, [2, 3, 7, 8], Unary("Slice", ("starts", new long[] { 1, -3 }), ("ends", new long[] { 100, -1 }), ("axes", new long[] { 1, 2 }))),
        ["pad_constant"] = C(13, [1, 2, 5, 6], (t, r) => t.Op("Pad", "x", t.Ints(0, 0, 1, 2, 0, 0, 2, 0))),
        ["pad_constant_negative_crop"] = C(13, [1, 2, 5, 6], (t, r) => t.Op("Pad", "x", t.Ints(0, 0, 1, -1, 0, 0, -2, 2))),
        ["pad_attr_opset10"] = C(10, [1, 2, 5, 6], Unary("Pad", ("pads", new long[] { 0, 1, 1, 0, 0, 0, 2, 1 }), ("value", 0.5f))),
        ["pad_axes_opset18"] = C(18, [1, 2, 5, 6], (t, r) => t.Op("Pad", "x", t.Ints(1, 2, 0, 1), t.Scalar(0f), t.Ints(2, 3))),
        ["pad_edge"] = C(13, [1, 2, 5, 6], (t, r) => N(t, "Pad", ["x", t.Ints(0, 0, 2, 1, 0, 0, 1, 3)], ("mode", "edge"))),
        ["pad_reflect"] = C(13, [1, 2, 5, 6], (t, r) => N(t, "Pad", ["x", t.Ints(0, 0, 2, 1, 0, 0, 1, 3)], ("mode", "reflect"))),
        ["gather_constant_indices_repeats_negatives"] = C(13, [2, 5, 3], (t, r) => { string idx = "gidx"; t.G.Initializers[idx] = new Tensor(idx, DataType.Int64, [3, 2], new long[] { 0, 4, -1, 2, 0, 0 }); return N(t, "Gather", ["x", idx], ("axis", 1L)); }),
        ["gather_scalar_index"] = C(13, [2, 5, 3], (t, r) => { string idx = "gidx"; t.G.Initializers[idx] = new Tensor(idx, DataType.Int64, [], new long[] { 2 }); return N(t, "Gather", ["x", idx], ("axis", 2L)); }),
        ["gather_elements"] = C(13, [3, 4], (t, r) => { string idx = "gidx"; t.G.Initializers[idx] = new Tensor(idx, DataType.Int64, [3, 5], new long[] { 0, 3, 3, -1, 2, 1, 1, 0, 2, 2, 3, 0, 0, 0, 1 }); return N(t, "GatherElements", ["x", idx], ("axis", 1L)); }),
        ["transpose_perm"] = C(13, S4, Unary("Transpose", ("perm", new long[] { 0, 2, 3, 1 }))),
        ["transpose_default_reverse"] = C(13, S4, Unary("Transpose")),
        ["reshape_opset13"] = C(13, S4, (t, r) => t.Op("Mul", t.Op("Reshape", "x", t.Ints(2, -1, 10)), t.Random([10], r))),
        ["reshape_shape_attr_opset4"] = C(4, S4, (t, r) => t.Op("MatMul", N(t, "Reshape", ["x"], ("shape", new long[] { 2, -1, 10 })), t.Random([10, 3], r))),
        ["flatten_axis2"] = C(13, S4, (t, r) => t.Op("Mul", N(t, "Flatten", ["x"], ("axis", 2L)), t.Random([20], r))),
        ["squeeze_unsqueeze_opset13"] = C(13, [2, 1, 4, 1], (t, r) => t.Op("Mul", t.Op("Unsqueeze", t.Op("Squeeze", "x", t.Ints(1, 3)), t.Ints(0, 3)), t.Random([1, 2, 4, 1], r))),
        ["squeeze_unsqueeze_attr_opset11"] = C(11, [2, 1, 4, 1], (t, r) => t.Op("Mul", N(t, "Unsqueeze", [N(t, "Squeeze", ["x"], ("axes", new long[] { 1 }))], ("axes", new long[] { 0 })), t.Random([1, 2, 4, 1], r))),
        ["expand"] = C(13, [3, 1], (t, r) => t.Op("Expand", "x", t.Ints(2, 3, 4))),
        ["tile"] = C(13, [2, 3], (t, r) => t.Op("Tile", "x", t.Ints(2, 3))),
        ["depthtospace_dcr"] = C(13, [1, 8, 2, 3], Unary("DepthToSpace", ("blocksize", 2L))),
        ["depthtospace_crd"] = C(13, [1, 8, 2, 3], Unary("DepthToSpace", ("blocksize", 2L), ("mode", "CRD"))),
        ["spacetodepth"] = C(13, [1, 2, 4, 6], Unary("SpaceToDepth", ("blocksize", 2L))),
        ["cast_float_to_float"] = C(13, S4, (t, r) => t.Op("Mul", N(t, "Cast", ["x"], ("to", (long)DataType.Float)), t.Random(S4, r))),
        ["castlike_float_opset15"] = C(15, S4, (t, r) => t.Op("Mul", t.Op("CastLike", "x", t.Scalar(0f)), t.Random(S4, r))),
        ["dropout_identity_inference"] = C(13, S4, (t, r) => t.Op("Mul", t.Op("Identity", t.Op("Dropout", "x")), t.Random(S4, r))),
        ["dropout_training_ratio0_opset13"] = C(13, S4, (t, r) => t.Op("Mul", t.Op("Dropout", "x", t.Scalar(0f), TrainingMode(t)), t.Random(S4, r))),

        // ---- resize ----
        ["resize_nearest_asymmetric_floor_x2"] = C(13, [1, 2, 3, 4], (t, r) => N(t, "Resize", ["x", "", t.Floats([4], [1, 1, 2, 2])], ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor"))),
        ["resize_nearest_half_pixel_x2"] = C(13, [1, 2, 3, 4], (t, r) => N(t, "Resize", ["x", "", t.Floats([4], [1, 1, 2, 2])], ("mode", "nearest"))),
        ["resize_nearest_sizes_fractional"] = C(13, [1, 2, 3, 4], (t, r) => N(t, "Resize", ["x", "", "", t.Ints(1, 2, 5, 7)], ("mode", "nearest"))),
        ["resize_nearest_downsample"] = C(13, [1, 2, 5, 7], (t, r) => N(t, "Resize", ["x", "", "", t.Ints(1, 2, 2, 3)], ("mode", "nearest"), ("nearest_mode", "ceil"))),
        ["resize_nearest_asymmetric_prefer_ceil"] = C(13, [1, 2, 3, 4], (t, r) => N(t, "Resize", ["x", "", t.Floats([4], [1, 1, 2.5f, 1.5f])], ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "round_prefer_ceil"))),
        ["resize_linear_half_pixel_x2"] = C(13, [1, 2, 3, 4], (t, r) => N(t, "Resize", ["x", "", t.Floats([4], [1, 1, 2, 2])], ("mode", "linear"))),
        ["resize_linear_align_corners_sizes"] = C(13, [1, 2, 3, 4], (t, r) => N(t, "Resize", ["x", "", "", t.Ints(1, 2, 5, 7)], ("mode", "linear"), ("coordinate_transformation_mode", "align_corners"))),
        ["resize_linear_pytorch_half_pixel_down"] = C(13, [1, 2, 8, 9], (t, r) => N(t, "Resize", ["x", "", "", t.Ints(1, 2, 5, 4)], ("mode", "linear"), ("coordinate_transformation_mode", "pytorch_half_pixel"))),
        ["resize_linear_asymmetric_fractional_scales"] = C(13, [1, 2, 3, 4], (t, r) => N(t, "Resize", ["x", "", t.Floats([4], [1, 1, 1.5f, 2.5f])], ("mode", "linear"), ("coordinate_transformation_mode", "asymmetric"))),
        ["resize_linear_half_pixel_symmetric_opset19"] = C(19, [1, 2, 3, 4], (t, r) => N(t, "Resize", ["x", "", t.Floats([4], [1, 1, 1.7f, 2.5f])], ("mode", "linear"), ("coordinate_transformation_mode", "half_pixel_symmetric"))),
        ["resize_linear_3d_input"] = C(13, [2, 3, 4], (t, r) => N(t, "Resize", ["x", "", "", t.Ints(2, 5, 6)], ("mode", "linear"))),
        ["resize_opset10_nearest"] = C(10, [1, 2, 3, 4], (t, r) => N(t, "Resize", ["x", t.Floats([4], [1, 1, 2, 3])], ("mode", "nearest"))),
        ["upsample_opset9_nearest"] = C(9, [1, 2, 3, 4], (t, r) => N(t, "Upsample", ["x", t.Floats([4], [1, 1, 2, 2])], ("mode", "nearest"))),
        ["upsample_opset9_linear"] = C(9, [1, 2, 3, 4], (t, r) => N(t, "Upsample", ["x", t.Floats([4], [1, 1, 2, 2])], ("mode", "linear"))),
        ["upsample_opset7_scales_attr"] = C(7, [1, 2, 3, 4], Unary("Upsample", ("scales", new float[] { 1, 1, 2, 3 }), ("mode", "nearest"))),

        // ---- softmax ----
        ["softmax_axis1_opset13"] = C(13, [2, 3, 4], Unary("Softmax", ("axis", 1L)), (r, n) => GradCheck.Uniform(r, n, -2, 2)),
        ["softmax_coerced_2d_opset11"] = C(11, [2, 3, 4], Unary("Softmax", ("axis", 1L)), (r, n) => GradCheck.Uniform(r, n, -2, 2)),
        ["logsoftmax_last_axis_opset13"] = C(13, [2, 3, 4], Unary("LogSoftmax"), (r, n) => GradCheck.Uniform(r, n, -2, 2)),
        ["logsoftmax_coerced_default_axis_opset11"] = C(11, [2, 3, 4], Unary("LogSoftmax"), (r, n) => GradCheck.Uniform(r, n, -2, 2)),

        // ---- small networks ----
        ["residual_tensor_used_twice"] = C(13, [1, 2, 6, 6], (t, r) =>
        {
            string c1 = N(t, "Conv", ["x", t.Random([2, 2, 3, 3], r, -0.5f, 0.5f)], ("pads", new long[] { 1, 1, 1, 1 }));
            return t.Op("Add", t.Op("Tanh", c1), "x");
        }, eps: 1e-3, tol: 2e-2),
        ["opset8_conv_bn_relu_maxpool_reshape_matmul"] = C(8, [1, 2, 6, 6], (t, r) =>
        {
            string c1 = N(t, "Conv", ["x", t.Random([3, 2, 3, 3], r, -0.5f, 0.5f)], ("pads", new long[] { 1, 1, 1, 1 }));
            string bn = N(t, "BatchNormalization", [c1, t.Random([3], r), t.Random([3], r), t.Random([3], r), t.Random([3], r, 0.5f, 2f)], ("spatial", 1L));
            string mp = N(t, "MaxPool", [t.Op("Relu", bn)], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }));
            string flat = t.Op("Reshape", mp, t.Ints(1, 27));
            return t.Op("Add", t.Op("MatMul", flat, t.Random([27, 4], r)), t.Random([4], r));
        }, eps: 1e-3, tol: 2e-2),
        ["opset4_reshape_attr_net"] = C(4, [1, 2, 4, 4], (t, r) =>
        {
            string c1 = N(t, "Conv", ["x", t.Random([2, 2, 3, 3], r, -0.5f, 0.5f)], ("pads", new long[] { 1, 1, 1, 1 }));
            string flat = N(t, "Reshape", [c1], ("shape", new long[] { 1, 32 }));
            return t.Op("MatMul", flat, t.Random([32, 3], r));
        }, eps: 1e-3, tol: 2e-2),
    };

    /// <summary>Every case by name (RuleCoverageTests checks that each registered op has one).</summary>
    internal static IReadOnlyDictionary<string, Func<Case>> AllCases => Cases;

    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var k in Cases.Keys) d.Add(k);
        return d;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Gradient_matches_finite_differences(string name)
    {
        var c = Cases[name]();
        GradCheck.Check(c.Graph, c.T.InputShape, c.X, eps: c.Eps, tol: c.Tol);
    }
}
