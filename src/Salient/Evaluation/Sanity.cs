using Salient.Explain;
using Salient.Imaging;
using Salient.Models;
using Salient.Onnx;

namespace Salient.Evaluation;

/// <summary>One step of the cascade: how many parametric layers (from the logits down) are randomized, and the lowest of them.</summary>
internal sealed record SanityStep(int Step, int Randomized, string LowestLayer);

/// <summary>One method's map after one cascade step (step 0 = the original model), compared with the original map.</summary>
internal sealed record SanityValue(string Method, int Step, int Randomized, string LowestLayer, double Spearman, double Ssim, float[] Map);

/// <summary>
/// Adebayo et al. 2018, "Sanity Checks for Saliency Maps": cascading model-parameter randomization. The
/// parametric layers (Conv, Gemm, MatMul with a constant float weight) are re-initialized from the top
/// (logits side) down, cumulatively, in <c>steps</c> evenly sized groups; each weight and bias tensor is
/// replaced by seeded Gaussian values N(0, σ²) with σ the tensor's own standard deviation. After each
/// step every method's map is recomputed for the same image and the original model's class, and compared
/// with the original map by Spearman rank correlation and SSIM (both maps in [0, 1] on the input grid).
/// </summary>
internal static class Sanity
{
    /// <summary>The nodes whose constant float weights the cascade re-initializes, top (nearest the logits) first.</summary>
    public static List<Node> ParametricLayers(Graph g)
    {
        var list = new List<Node>();
        foreach (var n in g.Nodes)
            if (n.OpType is "Conv" or "Gemm" or "MatMul" && WeightInputs(g, n).Count > 0) list.Add(n);
        list.Reverse();
        return list;
    }

    /// <summary>The constant float inputs of a parametric node: Conv's W and B, Gemm's B and C, MatMul's constant operand.</summary>
    private static List<string> WeightInputs(Graph g, Node n)
    {
        var result = new List<string>();
        for (int i = 0; i < n.Inputs.Count; i++)
        {
            if (n.OpType == "Conv" && i == 0 || n.OpType == "Gemm" && i == 0) continue;
            if (g.Constant(n.Inputs[i]) is { Type: DataType.Float } t && t.Length > 0 && !result.Contains(n.Inputs[i])) result.Add(n.Inputs[i]);
        }
        return result;
    }

    /// <summary>Cumulative count of randomized layers after each of <paramref name="steps"/> steps (the last = all).</summary>
    public static int[] StepCounts(int layers, int steps)
    {
        steps = Math.Clamp(steps, 1, Math.Max(1, layers));
        var counts = new int[steps];
        for (int k = 1; k <= steps; k++) counts[k - 1] = (int)Math.Ceiling((double)k * layers / steps);
        return counts;
    }

    /// <summary>A copy of the graph with the weights of the first <paramref name="count"/> of <paramref name="layers"/> re-initialized (seeded per tensor).</summary>
    public static Graph Randomize(Graph g, IReadOnlyList<Node> layers, int count, int seed)
    {
        var copy = g.Clone();
        for (int l = 0; l < count; l++)
            foreach (var name in WeightInputs(g, layers[l]))
            {
                var t = g.Initializers[name];
                var v = t.ToFloats();
                double mean = 0, sq = 0;
                foreach (var x in v) mean += x;
                mean /= v.Length;
                foreach (var x in v) sq += (x - mean) * (x - mean);
                double std = Math.Sqrt(sq / v.Length);
                var r = new Random(unchecked(seed * 1000003 + StableHash(name))); // not HashCode: it is randomized per process
                var fresh = new float[v.Length];
                for (int i = 0; i < fresh.Length; i++) fresh[i] = (float)(std * Gaussian(r));
                copy.Initializers[name] = Tensor.FromFloats(name, (long[])t.Dims.Clone(), fresh);
            }
        return copy;
    }

    private static int StableHash(string s)
    {
        int h = 17;
        foreach (var c in s) h = unchecked(h * 31 + c);
        return h;
    }

    private static double Gaussian(Random r)
    {
        double u = 1 - r.NextDouble(), v = r.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    /// <summary>
    /// Runs the cascade on one image: the original maps, then after each step the maps of the randomized
    /// model, all for class <paramref name="cls"/>. Returns the steps and, per step and method, the comparison.
    /// </summary>
    public static (List<SanityStep> Steps, List<SanityValue> Values) Run(SalientModel model, PreparedInput item, int cls,
        IReadOnlyList<string> methods, int steps, int seed, IReadOnlyList<string>? layers = null, IReadOnlyDictionary<string, string>? parameters = null)
    {
        var all = ParametricLayers(model.Graph);
        if (all.Count == 0) throw new SalientException("the model has no Conv, Gemm or MatMul layer with constant float weights to randomize");
        var counts = StepCounts(all.Count, steps);
        var request = new ExplainRequest
        {
            Methods = methods, Layers = layers ?? ["auto"], Classes = [cls.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            Parameters = parameters ?? new Dictionary<string, string>(),
        };
        var original = Maps(model, item, request);
        var stepList = new List<SanityStep> { new(0, 0, "") };
        var values = methods.Select(m => new SanityValue(m, 0, 0, "", 1, 1, original[m])).ToList();
        for (int k = 0; k < counts.Length; k++)
        {
            using var randomized = model.WithGraph(Randomize(model.Graph, all, counts[k], seed));
            var maps = Maps(randomized, item, request);
            string lowest = all[counts[k] - 1].Name is { Length: > 0 } n ? n : all[counts[k] - 1].OpType;
            stepList.Add(new SanityStep(k + 1, counts[k], lowest));
            foreach (var m in methods)
                values.Add(new SanityValue(m, k + 1, counts[k], lowest, Spearman(original[m], maps[m]), Ssim(original[m], maps[m], item.Height, item.Width), maps[m]));
        }
        return (stepList, values);
    }

    /// <summary>Each method's normalized map, resized to the input grid and clamped to [0, 1].</summary>
    private static Dictionary<string, float[]> Maps(SalientModel model, PreparedInput item, ExplainRequest request)
    {
        var result = Explainer.Explain(model, [item], request);
        int h = item.Height, w = item.Width;
        return result.Explanations.GroupBy(e => e.Method).ToDictionary(g => g.Key, g =>
        {
            var e = g.First();
            var m = e.Height == h && e.Width == w ? e.Normalized : MapMath.ResizeBilinear(e.Normalized, e.Height, e.Width, h, w);
            return Array.ConvertAll(m, v => float.IsFinite(v) ? Math.Clamp(v, 0f, 1f) : 0f);
        }, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Spearman's ρ: Pearson correlation of the ranks (ties get their average rank); 0 when either map is constant (<see cref="Agreement.Spearman"/>).</summary>
    public static double Spearman(float[] a, float[] b) => Agreement.Spearman(a, b);

    internal static double[] Ranks(float[] v) => Agreement.Ranks(v);

    /// <summary>
    /// Single-scale SSIM (Wang et al. 2004) of two maps in [0, 1]: dynamic range L = 1, C1 = (0.01 L)²,
    /// C2 = (0.03 L)², local statistics under an 11×11 Gaussian window of σ = 1.5 (truncated at the border
    /// and renormalized), averaged over all pixels.
    /// </summary>
    public static double Ssim(float[] a, float[] b, int h, int w)
    {
        const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
        int plane = h * w;
        var ab = new float[plane];
        var aa = new float[plane];
        var bb = new float[plane];
        for (int i = 0; i < plane; i++) { ab[i] = a[i] * b[i]; aa[i] = a[i] * a[i]; bb[i] = b[i] * b[i]; }
        var ma = Smooth(a, h, w); var mb = Smooth(b, h, w);
        var saa = Smooth(aa, h, w); var sbb = Smooth(bb, h, w); var sab = Smooth(ab, h, w);
        double sum = 0;
        for (int i = 0; i < plane; i++)
        {
            double mua = ma[i], mub = mb[i];
            double va = Math.Max(0, saa[i] - mua * mua), vb = Math.Max(0, sbb[i] - mub * mub), cov = sab[i] - mua * mub;
            sum += (2 * mua * mub + c1) * (2 * cov + c2) / ((mua * mua + mub * mub + c1) * (va + vb + c2));
        }
        return sum / plane;
    }

    /// <summary>Separable 11-tap Gaussian (σ = 1.5) mean, weights renormalized where the window leaves the map.</summary>
    private static double[] Smooth(float[] v, int h, int w)
    {
        const int r = 5;
        var k = new double[2 * r + 1];
        for (int i = -r; i <= r; i++) k[i + r] = Math.Exp(-i * i / (2 * 1.5 * 1.5));
        var tmp = new double[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double s = 0, n = 0;
                for (int i = -r; i <= r; i++)
                {
                    int xx = x + i;
                    if (xx < 0 || xx >= w) continue;
                    s += k[i + r] * v[y * w + xx]; n += k[i + r];
                }
                tmp[y * w + x] = s / n;
            }
        var result = new double[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double s = 0, n = 0;
                for (int i = -r; i <= r; i++)
                {
                    int yy = y + i;
                    if (yy < 0 || yy >= h) continue;
                    s += k[i + r] * tmp[yy * w + x]; n += k[i + r];
                }
                result[y * w + x] = s / n;
            }
        return result;
    }
}
