using Salient.Autodiff;
using Salient.Imaging;
using Salient.Runtime;

namespace Salient.Methods;

/// <summary>One row of a gradient run: an input tensor (one image, model layout) and the class whose logit is differentiated.</summary>
internal sealed record GradientRow(float[] Input, int ClassIndex);

/// <summary>Per-row results: gradients and forward values of the requested tensors, one row's slice each.</summary>
internal sealed record GradientRowResult(IReadOnlyDictionary<string, float[]> Gradients, IReadOnlyDictionary<string, float[]> Forward, float Logit);

/// <summary>
/// Runs rows through the gradient engine in batches: the seed is one class index per row on the
/// pre-softmax logits (an index seed), so several classes and many noisy/interpolated inputs go through one ORT call per batch.
/// </summary>
internal static class GradientRuns
{
    public const int DefaultBatch = 16;

    public static List<GradientRowResult> Run(MethodContext ctx, IReadOnlyList<GradientRow> rows, IReadOnlyList<string> wrt, ReluMode relu, IReadOnlyList<string>? alsoFetch = null)
    {
        var model = ctx.Model;
        var logits = ctx.Structure.LogitsName;
        int classes = ctx.Structure.ClassCount;
        int batch = model.Input.DynamicBatch ? Math.Max(1, BatchSize(ctx)) : model.Input.FixedBatch;
        var request = new GradientRequest { ScoreTensor = logits, Wrt = wrt, Relu = relu, AlsoFetch = alsoFetch ?? [], SeedIndices = true };
        var results = new List<GradientRowResult>(rows.Count);
        int per = rows[0].Input.Length;
        for (int start = 0; start < rows.Count; start += batch)
        {
            Core.AmbientCancellation.ThrowIfRequested();
            int n = Math.Min(batch, rows.Count - start);
            if (!model.Input.DynamicBatch && n != batch) n = batch; // fixed batch: rows.Count is a multiple (batch is 1 in practice)
            var data = new float[per * n];
            var cls = new long[n];
            for (int i = 0; i < n; i++)
            {
                rows[start + i].Input.CopyTo(data, i * per);
                cls[i] = rows[start + i].ClassIndex;
            }
            var input = new InputValue(model.Input.Name, model.Input.ShapeFor(n, model.InputSize.Height, model.InputSize.Width), data);
            using var pass = model.Gradients.Build(request, input.Shape).Forward(input);
            var grads = pass.Backward(cls);
            var forward = wrt.Concat(request.AlsoFetch).Append(logits).Distinct().ToDictionary(t => t, pass.Value);
            for (int i = 0; i < n; i++)
            {
                var g = wrt.ToDictionary(w => w, w => Slice(grads[w], i, n));
                var f = forward.Keys.ToDictionary(k => k, k => Slice(forward[k], i, n));
                results.Add(new GradientRowResult(g, f, forward[logits].Data[i * classes + cls[i]]));
            }
        }
        return results;
    }

    private static float[] Slice(TensorValue t, int row, int rows)
    {
        int per = (int)(t.Length / rows);
        return t.Data.AsSpan(row * per, per).ToArray();
    }

    /// <summary>The <c>batch-size</c> parameter, else as many rows (at most <see cref="DefaultBatch"/>) as fit the memory budget.</summary>
    public static int BatchSize(MethodContext ctx) =>
        ctx.Get(CommonParameters.BatchSize) ?? Perturbation.BatchSizing.ForGradients(ctx.Model, ctx.MemoryBudget, DefaultBatch);

    /// <summary>
    /// Backward runs on one batch's forward values, one per class slot: slot j seeds each item with
    /// its j-th class (an index seed; items with fewer classes repeat class 0 and their row is not
    /// used). <paramref name="take"/> extracts item i's result from a slot's gradients. Results come
    /// in <see cref="ItemClassPairs"/> order.
    /// </summary>
    public static List<T> PerClassSlot<T>(MethodContext ctx, Func<long[], Dictionary<string, TensorValue>> backward,
        Func<Dictionary<string, TensorValue>, int, int, T> take)
    {
        int n = ctx.Items.Count;
        var byPair = new Dictionary<(int, int), T>();
        int slots = ctx.Classes.Max(c => c.Length);
        for (int j = 0; j < slots; j++)
        {
            var seed = new long[n];
            for (int i = 0; i < n; i++)
                if (j < ctx.Classes[i].Length) seed[i] = ctx.Classes[i][j];
            var grads = backward(seed);
            for (int i = 0; i < n; i++)
                if (j < ctx.Classes[i].Length) byPair[(i, ctx.Classes[i][j])] = take(grads, i, ctx.Classes[i][j]);
        }
        return ItemClassPairs(ctx).Select(p => byPair[(p.Item, p.Class)]).ToList();
    }

    /// <summary>(item, class) rows for every item of the context and each of its classes.</summary>
    public static List<(int Item, int Class)> ItemClassPairs(MethodContext ctx)
    {
        var pairs = new List<(int, int)>();
        for (int i = 0; i < ctx.Items.Count; i++)
            foreach (int c in ctx.Classes[i]) pairs.Add((i, c));
        return pairs;
    }

    /// <summary>A gradient/activation tensor row of a 4-D layer as C×H×W.</summary>
    public static Activation AsChw(float[] row, long[] shape, TensorLayout layout) =>
        Activation.FromTensor(new TensorValue("", Onnx.DataType.Float, [1, .. shape[1..]], row), 0, layout);

    /// <summary>A gradient/activation tensor row of a target layer (4-D map or token layer) as C×H×W.</summary>
    public static Activation AsChw(float[] row, Models.LayerInfo layer) =>
        Activation.FromLayer(new TensorValue(layer.Name, Onnx.DataType.Float, [1, .. layer.Shape[1..]], row), 0, layer);

    /// <summary>The names of the ReLU backward modes (the choices of the <c>relu</c> parameter).</summary>
    public static IReadOnlyList<string> ReluNames => ReluMode.All.Select(m => m.Name).ToList();

    /// <summary>The ReLU backward mode of a (validated) <c>relu</c> parameter value.</summary>
    public static ReluMode Relu(string name) => ReluMode.Parse(name, ReluMode.Standard);
}
