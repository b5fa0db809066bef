using Salient.Imaging;
using Salient.Perturbation;

namespace Salient.Methods;

/// <summary>
/// Deep Feature Factorization (Collins et al. 2018), as pytorch-grad-cam's <c>dff</c>: the layer's
/// activation of one image as a channels × positions matrix, each channel shifted by its minimum over the
/// positions (so it is ≥ 0), is factorized by NMF into k concepts, X ≈ W·H: column j of W (plus the
/// shifts) is concept j's channel vector, row j of H its map over the positions. A concept's classes are
/// the softmax of the logits of the network after the layer run on a map that is the concept's vector at
/// every position (the reference's <c>computation_on_concepts</c>; for a GAP → linear head that is the
/// classifier applied to the vector).
/// <para>
/// Fit to the pipeline (one map per image × class): the map is the concept whose softmax gives the class
/// the highest probability — the part of the image the network files under that class; all k concept
/// maps travel along as the explanation's channels (k × h × w; the CLI's <c>--raw</c> writes them as
/// <c>…_channels.npy</c>). NMF: scikit-learn's defaults as the reference calls them (random
/// initialization from numpy's <c>RandomState(seed)</c>, coordinate descent, 200 iterations, tol 10⁻⁴),
/// or <c>solver=mu</c> for multiplicative updates (<see cref="Nmf"/>). The reference factorizes a batch
/// jointly; Salient factorizes each image on its own (a batch never changes an image's explanation).
/// </para>
/// </summary>
internal sealed class DeepFeatureFactorization : IExplanationMethod
{
    public static readonly IntParameter Concepts = new("concepts", 5, "number of NMF concepts k", 1, 256);
    public static readonly IntParameter TopClasses = new("concept-classes", 3, "how many top classes are reported for each concept", 1, 20);
    public static readonly ChoiceParameter Solver = new("solver", "cd",
        "NMF solver: cd (coordinate descent, scikit-learn's default as the reference uses it) or mu (multiplicative updates)", "cd", "mu");

    public string Name => "dff";
    public string Summary => "Deep Feature Factorization: NMF of the activations into concepts; the map is the concept the class scores best (Collins et al. 2018); concepts, solver, seed";
    public bool UsesLayer => true;
    public MapNormalization Normalization => MapNormalization.MinMax;
    public IReadOnlyList<Parameter> Parameters => [Concepts, TopClasses, Solver, CommonParameters.Seed, CommonParameters.BatchSize];

    /// <summary>One image's factorization: concept vectors (k × channels), concept maps (k × positions), the concepts' logits (k × classes).</summary>
    internal sealed record Factorization(int K, double[][] Vectors, float[][] Maps, float[][] ConceptLogits);

    public IReadOnlyList<RawMap> Compute(MethodContext ctx)
    {
        var layer = ctx.RequireLayer(Name);
        int k = ctx.Get(Concepts) ?? 5;
        var maps = new List<RawMap>();
        for (int item = 0; item < ctx.Items.Count; item++)
        {
            var a = ctx.LayerActivation(item);
            var f = Factorize(a, k, ctx.Get(Solver) == "mu", (uint)(ctx.Get(CommonParameters.Seed) ?? 0));
            var logits = ConceptLogits(ctx, item, f.Vectors, a);
            f = f with { ConceptLogits = logits };
            var channels = f.Maps.SelectMany(m => m).ToArray();
            var conceptClasses = ConceptTopClasses(ctx.Model, f, ctx.Get(TopClasses) ?? 3);
            foreach (int cls in ctx.Classes[item])
            {
                int best = BestConcept(f, cls);
                maps.Add(new RawMap(item, cls, (float[])f.Maps[best].Clone(), a.H, a.W, channels, k) { Concept = best, ConceptClasses = conceptClasses });
            }
        }
        return maps;
    }

    /// <summary>Each concept's <paramref name="top"/> classes by the softmax of its logits, best first.</summary>
    internal static IReadOnlyList<IReadOnlyList<Models.Prediction>> ConceptTopClasses(Models.SalientModel model, Factorization f, int top) =>
        f.ConceptLogits.Select(logits =>
        {
            var p = Statistics.SoftmaxPrecise(logits);
            return (IReadOnlyList<Models.Prediction>)Enumerable.Range(0, logits.Length).OrderByDescending(i => p[i]).ThenBy(i => i).Take(top)
                .Select(i => new Models.Prediction(i, model.ClassName(i), logits[i], (float)p[i])).ToList();
        }).ToList();

    /// <summary>The concept whose softmax over the classes gives <paramref name="cls"/> the highest probability (the first on a tie).</summary>
    internal static int BestConcept(Factorization f, int cls)
    {
        int best = 0;
        double bestP = double.NegativeInfinity;
        for (int j = 0; j < f.K; j++)
        {
            double p = Statistics.SoftmaxPrecise(f.ConceptLogits[j])[cls];
            if (p > bestP) (best, bestP) = (j, p);
        }
        return best;
    }

    /// <summary>NMF of the min-shifted channels × positions matrix (no concept logits yet).</summary>
    internal static Factorization Factorize(Activation a, int k, bool multiplicative, uint seed)
    {
        int n = a.C, m = a.Plane;
        var x = new double[n * m];
        var offset = new double[n];
        for (int c = 0; c < n; c++)
        {
            float min = float.PositiveInfinity;
            foreach (var v in a.Data.AsSpan(c * m, m)) if (!float.IsNaN(v)) min = Math.Min(min, v);
            offset[c] = float.IsPositiveInfinity(min) ? 0 : min;
            for (int p = 0; p < m; p++)
            {
                float v = a.Data[c * m + p];
                x[c * m + p] = float.IsNaN(v) ? 0 : v - offset[c];
            }
        }
        var (w, h) = Nmf.RandomInit(x, n, m, k, seed);
        if (multiplicative) Nmf.MultiplicativeUpdate(x, w, h, n, m, k);
        else Nmf.CoordinateDescent(x, w, h, n, m, k);
        var vectors = new double[k][];
        var maps = new float[k][];
        for (int j = 0; j < k; j++)
        {
            vectors[j] = new double[n];
            for (int c = 0; c < n; c++) vectors[j][c] = w[c * k + j] + offset[c];
            maps[j] = new float[m];
            for (int p = 0; p < m; p++) maps[j][p] = (float)h[j * m + p];
        }
        return new Factorization(k, vectors, maps, []);
    }

    /// <summary>The logits of the network after the layer on maps that hold one concept's vector at every position.</summary>
    private static float[][] ConceptLogits(MethodContext ctx, int item, double[][] vectors, Activation a)
    {
        var layer = ctx.Layer!;
        var model = ctx.Model;
        var cut = CutSession.For(model, layer.Name);
        var layerTensor = ctx.Forward(layer.Name);
        int n = ctx.Items.Count, rowLength = (int)(layerTensor.Length / n);
        bool nhwc = (layer.Layout ?? TensorLayout.Nchw) == TensorLayout.Nhwc;
        int channels = a.C, plane = a.Plane;
        void Fill(int start, int count, Span<float> dst)
        {
            for (int r = 0; r < count; r++)
            {
                var v = vectors[start + r];
                var row = dst.Slice(r * rowLength, rowLength);
                for (int c = 0; c < channels; c++)
                    for (int p = 0; p < plane; p++) row[nhwc ? p * channels + c : c * plane + p] = (float)v[c];
            }
        }
        var inputs = new List<BatchInput> { new(layer.Name, layerTensor.Shape[1..], Fill) };
        foreach (var name in cut.Cut.ExtraInputs)
        {
            if (name == model.Input.Name)
                inputs.Add(new BatchInput(name, InputMasking.RowShape(model, ctx.Items[item]), Repeated: ctx.Items[item].Tensor));
            else
            {
                var t = ctx.Forward(name);
                if (cut.Cut.PerRowExtras.Contains(name))
                {
                    int len = (int)(t.Length / n);
                    inputs.Add(new BatchInput(name, t.Shape[1..], Repeated: t.Data.AsSpan(item * len, len).ToArray()));
                }
                else inputs.Add(new BatchInput(name, t.Shape, Repeated: t.Data, Unbatched: true));
            }
        }
        int batch = ctx.Get(CommonParameters.BatchSize) ?? cut.DefaultBatch;
        var runner = new BatchRunner(cut.Session, inputs, cut.Cut.Output, batch, model.Input.DynamicBatch ? null : model.Input.FixedBatch);
        float[] logits;
        try { logits = runner.Run(vectors.Length, out _); }
        catch (SalientException e)
        {
            throw new SalientException($"Deep Feature Factorization could not run the graph after layer '{layer.Name}' on its own ({e.Message}); choose another layer", e);
        }
        int per = logits.Length / vectors.Length;
        return Enumerable.Range(0, vectors.Length).Select(j => logits.AsSpan(j * per, per).ToArray()).ToArray();
    }
}
