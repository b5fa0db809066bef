using Salient.Models;

namespace Salient.Methods;

/// <summary>
/// <c>box:I[,C]</c> / <c>box:auto</c> for detection exports with a fixed output layout (post-processing —
/// NMS, thresholds — removed, so the output has one row per candidate box):
/// <list type="bullet">
/// <item>YOLO-style: one output [N, B, 5+K], per box (cx, cy, w, h, objectness, K class scores):
/// s = objectness_I × class_I,C (YOLOv5's confidence; both already through their sigmoid in the export).</item>
/// <item>Scores + boxes (SSD / RetinaNet / Faster R-CNN heads without their post-processing): an output
/// [N, B, K] of class scores beside one [N, B, 4] of boxes: s = scores_I,C.</item>
/// </list>
/// I is a box index or auto (the original image's best box); C a class index or label, by default the
/// box's best class on the original image — both fixed for every perturbed copy, like the
/// segmentation mask. The boxes' coordinates are not part of the score.
/// </summary>
internal sealed class BoxTarget(string detection, string? classSpec) : Target
{
    internal override string Kind => "box";

    public override string ToString() => $"box:{detection}{(classSpec is null ? "" : "," + classSpec)}";

    /// <summary>A detection layout: the scores tensor, boxes B, classes K, and whether it is YOLO-style (objectness at column 4, classes from 5).</summary>
    internal sealed record DetectionLayout(string Tensor, int Boxes, int Classes, bool Yolo)
    {
        public int Stride => Yolo ? 5 + Classes : Classes;
        public int ClassOffset => Yolo ? 5 : 0;
    }

    /// <summary>The detection layout of the model's outputs, or null.</summary>
    internal static DetectionLayout? Layout(SalientModel model, ModelStructure s)
    {
        var outs = model.Graph.Outputs.Select(o => (o.Name, Dims: s.Shapes.TryGetValue(o.Name, out var sh) && Onnx.DataTypes.IsFloating(sh.Type) ? sh.Dims : null))
            .Where(o => o.Dims is { Length: 3 }).ToList();
        foreach (var boxes in outs.Where(o => o.Dims![2] == 4))
            foreach (var scores in outs.Where(o => o.Name != boxes.Name && o.Dims![1] == boxes.Dims![1] && o.Dims[2] != 4))
                return new DetectionLayout(scores.Name, (int)scores.Dims![1], (int)scores.Dims[2], false);
        if (outs.Count > 0 && outs[0].Name == model.Graph.Outputs[0].Name && outs[0].Dims![2] >= 6)
            return new DetectionLayout(outs[0].Name, (int)outs[0].Dims![1], (int)outs[0].Dims![2] - 5, true);
        return null;
    }

    internal override TargetBinding Bind(SalientModel model, ModelStructure s)
    {
        var layout = Layout(model, s) ?? throw DoesNotFit(ToString(),
            "needs a detection output: YOLO-style [N, B, 5+K] or class scores [N, B, K] beside boxes [N, B, 4]", model, s);
        int? index = detection.Equals("auto", StringComparison.OrdinalIgnoreCase) ? null : ParseInt(detection, ToString(), "box index");
        if (index >= layout.Boxes) throw new SalientException($"target '{ToString()}': box index {index} is out of range: the output '{layout.Tensor}' has {layout.Boxes} boxes (0–{layout.Boxes - 1})");
        return new Binding(this, model, layout, index);
    }

    private sealed class Binding(BoxTarget t, SalientModel model, DetectionLayout l, int? index) : TargetBinding(t.ToString(), l.Tensor, l.Boxes * l.Stride)
    {
        private readonly List<(int Box, int Class)> _slots = [];

        public override bool Spatial => true;
        public override int SlotCount => _slots.Count;
        public override TargetSlot Describe(int slot) => new(_slots[slot].Class, $"box {_slots[slot].Box} {model.ClassName(_slots[slot].Class)}");

        private double Value(ReadOnlySpan<float> row, int box, int cls)
        {
            int o = box * l.Stride;
            return l.Yolo ? (double)row[o + 4] * row[o + 5 + cls] : row[o + cls];
        }

        public override int[][] Resolve(TargetResolution r)
        {
            var slots = new int[r.Items.Count][];
            for (int i = 0; i < slots.Length; i++)
            {
                var row = r.Rows[i];
                int box = index ?? Enumerable.Range(0, l.Boxes).MaxBy(b => Enumerable.Range(0, l.Classes).Max(c => Value(row, b, c)));
                var classScores = new float[l.Classes];
                for (int c = 0; c < l.Classes; c++) classScores[c] = (float)Value(row, box, c);
                int cls = model.ResolveClass(t.ClassSpec ?? "auto", classScores);
                slots[i] = [_slots.Count];
                _slots.Add((box, cls));
            }
            return slots;
        }

        public override float Score(ReadOnlySpan<float> row, int slot) => (float)Value(row, _slots[slot].Box, _slots[slot].Class);

        public override void Seed(ReadOnlySpan<float> row, int slot, Span<float> dst)
        {
            var (box, cls) = _slots[slot];
            int o = box * l.Stride;
            if (l.Yolo)
            {
                dst[o + 4] += row[o + 5 + cls];
                dst[o + 5 + cls] += row[o + 4];
            }
            else dst[o + cls] += 1;
        }
    }

    internal string? ClassSpec => classSpec;
}
