using Salient.Imaging;
using Salient.Models;

namespace Salient.Methods;

/// <summary>
/// <c>segmentation:C[,MASK.png]</c> for [N, K, H, W] outputs (the logits when the model ends in Softmax):
/// the sum of class C's scores over a mask M, s = Σ_{p ∈ M} y[C, p]. M is the white part of MASK.png
/// (brightness &gt; ½; the image is resized and cropped like the input, then sampled at the output's grid),
/// or by default the pixels where C is the arg-max of the <em>original</em> image's output — fixed for
/// every perturbed or noisy copy of that image, so one slot per image holds its mask. C may be an index,
/// a label, or auto (the class that wins the most pixels). Linear in the output: the seed is 1 on C's
/// plane inside M.
/// </summary>
internal sealed class SegmentationTarget(string classSpec, string? maskPath) : Target
{
    internal override string Kind => "segmentation";

    public override string ToString() => $"segmentation:{classSpec}{(maskPath is null ? "" : "," + maskPath)}";

    internal override TargetBinding Bind(SalientModel model, ModelStructure s)
    {
        string tensor = s.LogitsName;
        if (!s.Shapes.TryGetValue(tensor, out var shape) || shape.Rank != 4)
            throw DoesNotFit(ToString(), $"needs a segmentation output [N, K, H, W], and '{tensor}' has shape {(shape is null ? "?" : Onnx.Shapes.Format(shape.Dims))}", model, s);
        int k = (int)shape.Dims[1], h = (int)shape.Dims[2], w = (int)shape.Dims[3];
        bool[]? fileMask = maskPath is null ? null : LoadMask(model, maskPath, h, w);
        return new Binding(this, model, tensor, k, h, w, fileMask);
    }

    /// <summary>A mask image as the model sees it (resized/cropped like an input), sampled at the centres of an h × w grid; inside = brightness &gt; ½.</summary>
    internal static bool[] LoadMask(SalientModel model, string path, int h, int w)
    {
        var img = Preprocessor.Fit(model.LoadImage(path), model.InputSize.Width, model.InputSize.Height, model.Resize, out _);
        var mask = new bool[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int sy = Math.Min(img.Height - 1, (int)((y + 0.5) * img.Height / h));
                int sx = Math.Min(img.Width - 1, (int)((x + 0.5) * img.Width / w));
                var (r, g, b) = img.GetPixel(sx, sy);
                mask[y * w + x] = (r + g + b) / 3 > 0.5f;
            }
        if (!mask.Any(m => m)) throw new SalientException($"the mask '{path}' has no white pixel (inside = brightness above one half)");
        return mask;
    }

    private sealed class Binding(SegmentationTarget t, SalientModel model, string tensor, int k, int h, int w, bool[]? fileMask)
        : TargetBinding(t.ToString(), tensor, k * h * w)
    {
        private readonly List<int[]> _masks = [];   // per slot: the pixels inside
        private int _class = -1;

        public override bool Spatial => true;
        public override int SlotCount => _masks.Count;
        public override TargetSlot Describe(int slot) => new(_class, model.ClassName(_class));

        public override int[][] Resolve(TargetResolution r)
        {
            int plane = h * w;
            // C: an index or label; auto = the class that is the arg-max at the most pixels of the first image.
            var wins = new float[k];
            var argmax = r.Rows.Select(row =>
            {
                var a = new int[plane];
                for (int p = 0; p < plane; p++)
                {
                    int best = 0;
                    for (int c = 1; c < k; c++) if (row[c * plane + p] > row[best * plane + p]) best = c;
                    a[p] = best;
                }
                return a;
            }).ToList();
            foreach (int c in argmax[0]) wins[c]++;
            _class = model.ResolveClass(t.ClassSpec, wins);
            var slots = new int[r.Items.Count][];
            if (fileMask is not null)
            {
                _masks.Add(Enumerable.Range(0, plane).Where(p => fileMask[p]).ToArray());
                for (int i = 0; i < slots.Length; i++) slots[i] = [0];
                return slots;
            }
            for (int i = 0; i < slots.Length; i++)
            {
                var inside = Enumerable.Range(0, plane).Where(p => argmax[i][p] == _class).ToArray();
                if (inside.Length == 0)
                    throw new SalientException($"target '{Spec}': class {_class} ({model.ClassName(_class)}) is the arg-max at no pixel of the output for this image; give a mask (segmentation:{_class},MASK.png)");
                slots[i] = [_masks.Count];
                _masks.Add(inside);
            }
            return slots;
        }

        public override float Score(ReadOnlySpan<float> row, int slot)
        {
            int off = _class * h * w;
            double s = 0;
            foreach (int p in _masks[slot]) s += row[off + p];
            return (float)s;
        }

        public override void Seed(ReadOnlySpan<float> row, int slot, Span<float> dst)
        {
            int off = _class * h * w;
            foreach (int p in _masks[slot]) dst[off + p] += 1;
        }
    }

    internal string ClassSpec => classSpec;

    /// <summary>
    /// When the automatic layer <paramref name="layer"/> lies on the head of a 4-D score map — reached from
    /// <paramref name="scoreTensor"/> back through Resize/Upsample, 1×1 Convs, Softmax/Sigmoid and
    /// shape-only ops — the spatial features that head starts from (for an FCN: the backbone's last
    /// feature map, not the class scores); else null.
    /// </summary>
    internal static string? FeaturesBelowHead(SalientModel model, ModelStructure s, string scoreTensor, string layer)
    {
        var g = model.Graph;
        var chain = new List<string> { scoreTensor };
        string t = scoreTensor;
        while (g.Producer(t) is { } p && p.Inputs.Count > 0)
        {
            bool head = p.OpType is "Resize" or "Upsample" or "Softmax" or "Sigmoid" or "Identity" or "Transpose" or "Reshape"
                || p.OpType == "Conv" && p.GetInts("kernel_shape") is { } k && k.All(v => v == 1);
            if (!head) break;
            t = p.Inputs[0];
            chain.Add(t);
        }
        if (chain.Count < 2 || !chain.Contains(layer) || layer == t) return null;
        return s.Layers.FirstOrDefault(l => l.Name == t && l.IsCandidate)?.Name;
    }
}
