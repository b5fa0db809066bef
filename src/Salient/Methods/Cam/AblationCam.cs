using Salient.Imaging;
using Salient.Perturbation;

namespace Salient.Methods;

/// <summary>
/// Ablation-CAM (Desai &amp; Ramaswamy 2020): w_k = (y_c − y_c^k) / y_c, where y_c is the target logit
/// and y_c^k the logit with channel k of the layer set to zero. Only the part of the network after the
/// layer runs: the graph is cut at the layer (<see cref="GraphCut"/>) and the ablated activations go
/// through that head in batches, with any other tensor the head reads (skip connections) fed from
/// the forward run. The first row of the first batch is the activation left intact; its logits must
/// reproduce the forward pass (a check of the cut), and they are the y_c of the formula.
/// Channels that are zero everywhere are not run: zeroing them changes nothing, so w_k = 0.
/// Map = ReLU(Σ_k w_k A_k) (or its principal component with eigen-smooth).
/// </summary>
internal sealed class AblationCam : WeightedCam
{
    public override IReadOnlyList<Parameter> Parameters => [.. base.Parameters, CommonParameters.BatchSize];
    public bool ManyForwardPasses => true;

    public override string Name => "ablationcam";
    public override string Summary => "Ablation-CAM: weight = relative logit drop when the channel is zeroed; runs only the graph after the layer (Desai & Ramaswamy 2020)";

    protected override IReadOnlyList<CamTerms> ComputeTerms(MethodContext ctx)
    {
        var layer = ctx.RequireLayer(Name);
        var model = ctx.Model;
        var target = ctx.Target;
        // The graph after the layer, up to the tensor the target reads (the logits: the model's shared cut).
        var cut = target.ScoreTensor == ctx.Structure.LogitsName ? Head.Of(CutSession.For(model, layer.Name)) : TargetCuts.For(model, layer.Name, target.ScoreTensor);
        int batch = ctx.Get(CommonParameters.BatchSize) ?? cut.DefaultBatch;
        var layerTensor = ctx.Forward(layer.Name);
        int n = ctx.Items.Count;
        int rowLength = (int)(layerTensor.Length / n);
        var layout = layer.Layout ?? TensorLayout.Nchw;
        // A token layer [N, T, C] is channels-last over all T tokens: channel k is zeroed in every token, the
        // class token included, as pytorch-grad-cam's AblationLayerVit does — the channel is a feature of the
        // layer, and after the last attention the class token is the only route to the output.
        bool channelsLast = layout == TensorLayout.Nhwc || layer.Tokens is not null;
        var extras = cut.Cut.ExtraInputs.Select(e => e == model.Input.Name ? null : ctx.Forward(e)).ToList();

        var terms = new List<CamTerms>();
        for (int item = 0; item < n; item++)
        {
            var a = ctx.LayerActivation(item);
            var row = layerTensor.Data.AsMemory(item * rowLength, rowLength);
            int plane = a.Plane, channelCount = a.C, positions = layer.Tokens is null ? plane : (int)layer.Shape[1];
            var channels = Enumerable.Range(0, a.C).Where(k => layer.Tokens is not null || !IsZero(a.Data.AsSpan(k * plane, plane))).ToArray();

            // Every buffer row starts as a copy of the intact activation; a batch then only restores the
            // channel its row zeroed last time and zeroes its new one (no full copy per row).
            void Patch(int start, int count, int previousStart, int previousCount, Span<float> dst)
            {
                var src = row.Span;
                for (int r = 0; r < previousCount && previousStart >= 0; r++)
                    if (previousStart + r > 0) SetChannel(dst.Slice(r * rowLength, rowLength), src, channels[previousStart + r - 1], restore: true);
                for (int r = 0; r < count; r++)
                    if (start + r > 0) SetChannel(dst.Slice(r * rowLength, rowLength), src, channels[start + r - 1], restore: false);
            }
            void SetChannel(Span<float> d, ReadOnlySpan<float> src, int k, bool restore)
            {
                if (!channelsLast)
                {
                    if (restore) src.Slice(k * plane, plane).CopyTo(d.Slice(k * plane, plane));
                    else d.Slice(k * plane, plane).Clear();
                }
                else
                    for (int p = 0; p < positions; p++) d[p * channelCount + k] = restore ? src[p * channelCount + k] : 0;
            }

            var inputs = new List<BatchInput> { new(layer.Name, layerTensor.Shape[1..], Repeated: row.ToArray(), Patch: Patch) };
            for (int e = 0; e < cut.Cut.ExtraInputs.Count; e++)
            {
                string name = cut.Cut.ExtraInputs[e];
                if (extras[e] is not { } t)
                {
                    // The head reads the image input itself.
                    inputs.Add(new BatchInput(name, InputMasking.RowShape(model, ctx.Items[item]), Repeated: ctx.Items[item].Tensor));
                }
                else if (cut.Cut.PerRowExtras.Contains(name))
                {
                    int len = (int)(t.Length / n);
                    inputs.Add(new BatchInput(name, t.Shape[1..], Repeated: t.Data.AsSpan(item * len, len).ToArray()));
                }
                else inputs.Add(new BatchInput(name, t.Shape, Repeated: t.Data, Unbatched: true));
            }
            var runner = new BatchRunner(cut.Session, inputs, cut.Cut.Output, batch, model.Input.DynamicBatch ? null : model.Input.FixedBatch);
            float[] logits;
            int per;
            try { logits = target.IsClassLogit ? runner.Run(1 + channels.Length, out per) : runner.Run(1 + channels.Length, per = target.SlotCount, target.ScoreAll); }
            catch (SalientException e)
            {
                throw new SalientException($"Ablation-CAM could not run the graph after layer '{layer.Name}' on its own ({e.Message}); use scorecam or gradcam for this layer", e);
            }
            per = logits.Length / (1 + channels.Length);

            foreach (int cls in ctx.Classes[item])
            {
                float y = logits[cls];
                float forward = ctx.Logit(item, cls);
                if (!(Math.Abs(y - forward) <= 1e-3f * (1 + Math.Abs(forward))))
                    throw new SalientException($"the graph cut after layer '{layer.Name}' gives score {y} for {(target.IsClassLogit ? $"class {cls}" : $"target '{target.Spec}'")} where the whole model gives {forward}; Ablation-CAM cannot be used at this layer (try scorecam)");
                // (y − y_k) / y; a logit of exactly zero would make every weight infinite.
                float denom = Math.Abs(y) < 1e-12f ? 1e-12f : y;
                var w = new float[a.C];
                for (int j = 0; j < channels.Length; j++)
                    w[channels[j]] = (y - logits[(j + 1) * per + cls]) / denom;
                terms.Add(new CamTerms(item, cls, a, w));
            }
        }
        return terms;
    }

    private static bool IsZero(ReadOnlySpan<float> s)
    {
        foreach (var v in s) if (v != 0) return false;
        return true;
    }

    /// <summary>A head to run: the graph after the layer, its session and batch.</summary>
    private sealed record Head(GraphCut Cut, Runtime.GraphSession Session, int DefaultBatch)
    {
        public static Head Of(CutSession c) => new(c.Cut, c.Session, c.DefaultBatch);
    }

    /// <summary>Heads up to another tensor than the logits (a target's score tensor), by (layer, tensor): a part of the model, disposed with it.</summary>
    private sealed class TargetCuts : IDisposable
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), Lazy<Head>> _heads = new();

        public static Head For(Models.SalientModel model, string layer, string output) =>
            model.Part(_ => new TargetCuts())._heads.GetOrAdd((layer, output), k => new Lazy<Head>(() =>
            {
                var s = model.Structure();
                int probe = model.Input.DynamicBatch ? 1 : model.Input.FixedBatch;
                var cut = GraphCut.After(model.Graph, s.Shapes, k.Item1, k.Item2, probe);
                var session = new Runtime.GraphSession(cut.Head, model.Runtime, model.Weights);
                var tensors = cut.Head.IntermediateNames().Concat(cut.Head.Inputs.Select(i => i.Name));
                return new Head(cut, session, BatchSizing.Choose(BatchSizing.BytesPerRow(cut.Head, s.Shapes, probe, tensors)));
            })).Value;

        public void Dispose()
        {
            foreach (var h in _heads.Values) if (h.IsValueCreated) h.Value.Session.Dispose();
            _heads.Clear();
        }
    }
}
