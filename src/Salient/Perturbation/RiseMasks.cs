using System.Numerics;
using System.Runtime.InteropServices;

namespace Salient.Perturbation;

/// <summary>
/// The random masks of RISE (Petsiuk et al. 2018): for mask i, a low-resolution grid of cells that
/// are kept (1) with probability p or dropped (0), smoothed bilinearly to the input size and
/// shifted by a random offset of less than one cell, so mask edges fall anywhere.
/// <para>Here the grid has ⌈H/cell⌉ + 1 × ⌈W/cell⌉ + 1 cells of exactly <c>cell</c> pixels; pixel
/// (y, x) of mask i reads the grid bilinearly (cell centres, edges clamped) at
/// ((y + dy_i + ½)/cell − ½, (x + dx_i + ½)/cell − ½) with dy_i, dx_i uniform in 0 … cell − 1. This is the
/// paper's "upsample an s×s grid to (s+1)·cell and crop at a random offset" with the extra cell made
/// explicit.</para>
/// <para>Everything random is drawn up front, mask after mask, from <c>new Random(seed)</c> (a
/// seeded <see cref="Random"/> is the same sequence on every platform and .NET version): the masks
/// depend only on (count, size, cell, p, seed), never on batching or threads. A mask is rebuilt from
/// its grid whenever it is needed.</para>
/// </summary>
internal sealed class RiseMasks
{
    private readonly byte[] _grids;
    private readonly int[] _dy, _dx;

    public RiseMasks(int count, int height, int width, int cell, double p, int seed)
    {
        if (count < 1) throw new SalientException($"the mask count {count} must be at least 1");
        if (cell < 1) throw new SalientException($"the mask cell {cell} must be at least 1 pixel");
        if (!(p > 0 && p <= 1)) throw new SalientException($"the keep probability {p} must be in (0, 1]");
        Count = count;
        Height = height;
        Width = width;
        Cell = cell;
        Probability = p;
        GridH = (height + cell - 1) / cell + 1;
        GridW = (width + cell - 1) / cell + 1;
        int g = GridH * GridW;
        _grids = new byte[checked(count * g)];
        _dy = new int[count];
        _dx = new int[count];
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < g; j++) _grids[i * g + j] = rng.NextDouble() < p ? (byte)1 : (byte)0;
            _dy[i] = rng.Next(cell);
            _dx[i] = rng.Next(cell);
        }
    }

    public int Count { get; }
    public int Height { get; }
    public int Width { get; }
    public int Cell { get; }
    public double Probability { get; }
    public int GridH { get; }
    public int GridW { get; }
    /// <summary>Floats of scratch <see cref="Write"/> needs.</summary>
    public int ScratchLength => GridH * Width;

    /// <summary>Writes mask <paramref name="index"/> (H × W, values in [0, 1]) into <paramref name="mask"/>.</summary>
    public void Write(int index, Span<float> mask, Span<float> scratch)
    {
        int g = GridH * GridW;
        var grid = _grids.AsSpan(index * g, g);
        int dy = _dy[index], dx = _dx[index];
        // Along x, for every grid row.
        for (int r = 0; r < GridH; r++)
        {
            var gr = grid.Slice(r * GridW, GridW);
            var o = scratch.Slice(r * Width, Width);
            for (int x = 0; x < Width; x++)
            {
                var (i0, i1, f) = Tap((x + dx + 0.5) / Cell - 0.5, GridW);
                float a = gr[i0];
                o[x] = a + (gr[i1] - a) * f;
            }
        }
        // Along y.
        for (int y = 0; y < Height; y++)
        {
            var (i0, i1, f) = Tap((y + dy + 0.5) / Cell - 0.5, GridH);
            var r0 = scratch.Slice(i0 * Width, Width);
            var r1 = scratch.Slice(i1 * Width, Width);
            var o = mask.Slice(y * Width, Width);
            int x = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var a0 = MemoryMarshal.Cast<float, Vector<float>>(r0);
                var a1 = MemoryMarshal.Cast<float, Vector<float>>(r1);
                var ov = MemoryMarshal.Cast<float, Vector<float>>(o);
                var vf = new Vector<float>(f);
                for (int v = 0; v < ov.Length; v++) ov[v] = a0[v] + (a1[v] - a0[v]) * vf;
                x = ov.Length * Vector<float>.Count;
            }
            for (; x < Width; x++)
            {
                float a = r0[x];
                o[x] = a + (r1[x] - a) * f;
            }
        }
    }

    private static (int I0, int I1, float F) Tap(double s, int n)
    {
        if (s <= 0) return (0, 0, 0f);
        if (s >= n - 1) return (n - 1, n - 1, 0f);
        int i0 = (int)s;
        return (i0, i0 + 1, (float)(s - i0));
    }
}
