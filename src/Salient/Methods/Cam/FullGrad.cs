using Salient.Autodiff;
using Salient.Onnx;

namespace Salient.Methods;

/// <summary>
/// FullGrad (Srinivas &amp; Fleuret 2019), as pytorch-grad-cam computes it: the input-gradient term
/// |x ⊙ ∂y^c/∂x| plus, for every layer with a bias, the bias-gradient term |b ⊙ ∂y^c/∂z| (z the layer's
/// output, b its bias broadcast over positions). Each channel of each term is min–max scaled on its own
/// ((v − min) / (max − min + 10⁻⁷)), brought to the input grid (bilinear, half-pixel) and summed; the map
/// is the sum over the input's channels and every layer. Bias layers are those of the reference: 2-D
/// Conv nodes with a constant bias, and BatchNormalization nodes, whose bias is the effective
/// β − μγ/√(σ² + ε). An exporter that folds a BatchNorm into a bias-free convolution gives that Conv
/// exactly this bias, so the map is the reference's; one that folds it into a convolution that had its
/// own bias merges two of the reference's terms into one (FullGrad depends on how the network is
/// parametrized). Gemm/MatMul biases are not included (the reference skips linear layers). All the
/// gradients come from one backward run per (item, class). Not a layer method: it uses every layer.
/// </summary>
internal sealed class FullGrad : PixelGradientMethod
{
    public override string Name => "fullgrad";
    public override string Summary => "FullGrad: |x ⊙ ∂y/∂x| plus |bias ⊙ ∂y/∂z| of every Conv/BatchNorm, each channel scaled, summed (Srinivas & Fleuret 2019)";
    public override MapNormalization Normalization => MapNormalization.MinMax;

    /// <summary>A layer output z with the bias (one per channel) that it adds.</summary>
    internal sealed record BiasSite(string Tensor, float[] Bias);

    public override IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        var sites = Sites(ctx.Model.Graph, ctx.Structure.LogitsName, ctx.Structure.Shapes);
        string input = ctx.Model.Input.Name;
        var pairs = GradientRuns.ItemClassPairs(ctx);
        var rows = pairs.Select(p => new GradientRow(ctx.Items[p.Item].Tensor, p.Class)).ToList();
        var relu = GradientRuns.Relu(ctx.Get(CommonParameters.Relu));
        var results = GradientRuns.Run(ctx, rows, [input, .. sites.Select(s => s.Tensor)], relu);
        int h = H(ctx), w = W(ctx), c = C(ctx), plane = h * w;
        var maps = new List<RawMap>(pairs.Count);
        for (int r = 0; r < pairs.Count; r++)
        {
            var map = new float[plane];
            var x = ToChw(ctx, ctx.Items[pairs[r].Item].Tensor);
            var g = ToChw(ctx, results[r].Gradients[input]);
            var term = new float[x.Length];
            for (int i = 0; i < term.Length; i++) term[i] = Math.Abs(x[i] * g[i]);
            AddScaledChannels(term, c, h, w, map, h, w);
            foreach (var s in sites)
            {
                var shape = ctx.Structure.Shapes[s.Tensor];
                int sc = (int)shape.Dims[1], sh = (int)shape.Dims[2], sw = (int)shape.Dims[3];
                var gz = results[r].Gradients[s.Tensor];
                var bz = new float[gz.Length];
                int sp = sh * sw;
                for (int k = 0; k < sc; k++)
                    for (int p = 0; p < sp; p++) bz[k * sp + p] = Math.Abs(s.Bias[k] * gz[k * sp + p]);
                AddScaledChannels(bz, sc, sh, sw, map, h, w);
            }
            maps.Add(new RawMap(pairs[r].Item, pairs[r].Class, map, h, w));
        }
        return maps;
    }

    /// <summary>Adds Σ_k resize(scale(v_k)) to <paramref name="map"/>: each channel min–max scaled as the reference does, the sum resized once (resizing is linear).</summary>
    internal static void AddScaledChannels(float[] chw, int channels, int h, int w, float[] map, int mapH, int mapW)
    {
        int plane = h * w;
        var sum = new float[plane];
        for (int k = 0; k < channels; k++)
        {
            var v = chw.AsSpan(k * plane, plane);
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (var e in v) { min = Math.Min(min, e); max = Math.Max(max, e); }
            float scale = 1f / (1e-7f + (max - min));
            for (int p = 0; p < plane; p++) sum[p] += (v[p] - min) * scale;
        }
        var up = h == mapH && w == mapW ? sum : MapMath.ResizeBilinear(sum, h, w, mapH, mapW);
        for (int p = 0; p < map.Length; p++) map[p] += up[p];
    }

    /// <summary>
    /// The bias layers the score depends on: 4-D outputs of Conv nodes with a constant bias input, and of
    /// BatchNormalization nodes with constant parameters (effective bias β − μγ/√(σ² + ε)).
    /// </summary>
    internal static List<BiasSite> Sites(Graph graph, string score, IReadOnlyDictionary<string, Models.TensorShape> shapes)
    {
        var needed = new HashSet<string>(StringComparer.Ordinal) { score };
        for (int k = graph.Nodes.Count - 1; k >= 0; k--)
            if (graph.Nodes[k].Outputs.Any(needed.Contains))
                foreach (var i in graph.Nodes[k].Inputs) needed.Add(i);
        var sites = new List<BiasSite>();
        foreach (var n in graph.Nodes)
        {
            if (n.Outputs.Count == 0 || !needed.Contains(n.Outputs[0])) continue;
            var z = n.Outputs[0];
            if (!shapes.TryGetValue(z, out var shape) || shape.Dims.Length != 4) continue;
            float[]? bias = null;
            if (n.OpType == "Conv" && n.Inputs.Count > 2 && n.Inputs[2] != "" && graph.Initializers.TryGetValue(n.Inputs[2], out var b))
                bias = b.ToFloats();
            else if (n.OpType == "BatchNormalization" && n.Inputs.Skip(1).Take(4).All(graph.Initializers.ContainsKey))
            {
                var gamma = graph.Initializers[n.Inputs[1]].ToFloats();
                var beta = graph.Initializers[n.Inputs[2]].ToFloats();
                var mean = graph.Initializers[n.Inputs[3]].ToFloats();
                var variance = graph.Initializers[n.Inputs[4]].ToFloats();
                double eps = n.GetFloat("epsilon", 1e-5f);
                bias = new float[gamma.Length];
                for (int k = 0; k < bias.Length; k++) bias[k] = (float)(beta[k] - mean[k] * gamma[k] / Math.Sqrt(variance[k] + eps));
            }
            if (bias is not null && bias.Length == shape.Dims[1]) sites.Add(new BiasSite(z, bias));
        }
        return sites;
    }
}
