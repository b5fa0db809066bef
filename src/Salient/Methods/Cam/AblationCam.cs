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
        if (target.ScoreTensor != ctx.Structure.LogitsName)
            throw new SalientException($"Ablation-CAM runs the graph after the layer up to the model's output '{ctx.Structure.LogitsName}', and the target '{target.Spec}' reads '{target.ScoreTensor}'; use scorecam or gradcam for this target");
        var cut = CutSession.For(model, layer.Name);
        int batch = ctx.Get(CommonParameters.BatchSize) ?? cut.DefaultBatch;
        var layerTensor = ctx.Forward(layer.Name);
        int n = ctx.Items.Count;
        int rowLength = (int)(layerTensor.Length / n);
        var layout = layer.Layout ?? TensorLayout.Nchw;
        var extras = cut.Cut.ExtraInputs.Select(e => e == model.Input.Name ? null : ctx.Forward(e)).ToList();

        var terms = new List<CamTerms>();
        for (int item = 0; item < n; item++)
        {
            var a = ctx.LayerActivation(item);
            var row = layerTensor.Data.AsMemory(item * rowLength, rowLength);
            int plane = a.Plane, channelCount = a.C;
            var channels = Enumerable.Range(0, a.C).Where(k => !IsZero(a.Data.AsSpan(k * plane, plane))).ToArray();

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
                if (layout == TensorLayout.Nchw)
                {
                    if (restore) src.Slice(k * plane, plane).CopyTo(d.Slice(k * plane, plane));
                    else d.Slice(k * plane, plane).Clear();
                }
                else
                    for (int p = 0; p < plane; p++) d[p * channelCount + k] = restore ? src[p * channelCount + k] : 0;
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
            try { logits = target.ScoreRows(runner.Run(1 + channels.Length, out per), 1 + channels.Length); }
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
}
