using System.Numerics;

namespace Salient.Evaluation;

/// <summary>
/// One perturbed input of an evaluation run. Rows are built into the batch runner's reused buffers, and
/// a buffer row still holds what was built there last (<c>previous</c>; null: the unperturbed input, the
/// buffers' template), so a row close to that one writes only the difference.
/// </summary>
internal abstract class PerturbedRow
{
    public abstract void Build(Span<float> destination, PerturbedRow? previous);

    /// <summary>The <c>previous</c> of a buffer row whose content is not known: the row must be written whole.</summary>
    public static readonly PerturbedRow Unknown = new WholeRow(_ => throw new InvalidOperationException("the unknown row is never built"));
}

/// <summary>A row written whole by a function (the baseline image, an imputed or a map-multiplied input).</summary>
internal sealed class WholeRow(SpanAction write) : PerturbedRow
{
    public override void Build(Span<float> destination, PerturbedRow? previous) => write(destination);
}

/// <summary>Writes one whole input row.</summary>
internal delegate void SpanAction(Span<float> destination);

/// <summary>
/// The inputs of one deletion or insertion curve: the step that changes <c>n</c> pixels shows
/// <paramref name="to"/> at the first n pixels of <paramref name="order"/> and <paramref name="from"/>
/// elsewhere (every channel).
/// </summary>
internal sealed class PixelCurve(float[] from, float[] to, int[] order, int channels, int plane, TensorLayout layout, bool fromIsInput)
{
    private readonly int[] _rank = RankOf(order);

    /// <summary>Whether <c>from</c> is the unperturbed input (deletion), which a fresh buffer row already holds.</summary>
    public bool FromIsInput => fromIsInput;

    private static int[] RankOf(int[] order)
    {
        var rank = new int[order.Length];
        for (int i = 0; i < order.Length; i++) rank[order[i]] = i;
        return rank;
    }

    /// <summary>Pixels order[first..end) of <paramref name="dst"/> set to <c>to</c>.</summary>
    public void Change(int first, int end, Span<float> dst)
    {
        for (int k = first; k < end; k++)
        {
            int p = order[k];
            if (layout == TensorLayout.Nchw) for (int c = 0; c < channels; c++) dst[c * plane + p] = to[c * plane + p];
            else for (int c = 0; c < channels; c++) dst[p * channels + c] = to[p * channels + c];
        }
    }

    /// <summary>The whole row of the step that changes <paramref name="changed"/> pixels.</summary>
    public void Write(int changed, Span<float> dst)
    {
        if (layout == TensorLayout.Nhwc)
        {
            for (int p = 0; p < plane; p++)
            {
                var src = _rank[p] < changed ? to : from;
                for (int c = 0; c < channels; c++) dst[p * channels + c] = src[p * channels + c];
            }
            return;
        }
        var limit = new Vector<int>(changed);
        int width = Vector<int>.Count;
        for (int c = 0; c < channels; c++)
        {
            var f = from.AsSpan(c * plane, plane);
            var t = to.AsSpan(c * plane, plane);
            var d = dst.Slice(c * plane, plane);
            int p = 0;
            for (; p <= plane - width; p += width)
            {
                var take = Vector.AsVectorSingle(Vector.LessThan(new Vector<int>(_rank.AsSpan(p, width)), limit));
                Vector.ConditionalSelect(take, new Vector<float>(t.Slice(p, width)), new Vector<float>(f.Slice(p, width))).CopyTo(d.Slice(p, width));
            }
            for (; p < plane; p++) d[p] = _rank[p] < changed ? t[p] : f[p];
        }
    }
}

/// <summary>One step of a <see cref="PixelCurve"/>: from the same curve's earlier step only the newly changed pixels are written.</summary>
internal sealed class CurveStep(PixelCurve curve, int changed) : PerturbedRow
{
    public override void Build(Span<float> destination, PerturbedRow? previous)
    {
        if (previous is CurveStep p && p.Curve == curve && p.Changed <= changed) curve.Change(p.Changed, changed, destination);
        else if (previous is null && curve.FromIsInput) curve.Change(0, changed, destination);
        else curve.Write(changed, destination);
    }

    private PixelCurve Curve => curve;
    private int Changed => changed;
}
