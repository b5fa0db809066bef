using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Salient.Evaluation;

/// <summary>
/// Solves the noisy-linear-imputation system of <see cref="Imputation"/> for up to four channels at
/// once: conjugate gradients, one independent recurrence per channel (a lane of a
/// <see cref="Vector256{T}"/> of doubles, so the shared matrix is read once for all channels),
/// preconditioned by one geometric multigrid V-cycle.
/// <para>
/// The unknowns live on the pixel grid (padded by one inactive pixel on every side, so a 3×3 stencil
/// never leaves the array); a pixel is <i>active</i> when it is removed. Level 0 is the system itself:
/// (A x)ₚ = Σₖ aₚₖ x₍ₚ₊ₒₖ₎ over the 3×3 neighbourhood, a nonzero aₚₖ only between active pixels. Each
/// coarser level keeps every other grid line (coarse point (i, j) sits on fine point (2i, 2j)); P is
/// bilinear interpolation restricted to the active fine points, R = Pᵀ, and the coarse operator is
/// Galerkin's Pᵀ A P — again a 3×3 stencil, computed point by point, so irregular removed regions need
/// no special treatment. The smoother is Gauss–Seidel in row-major order before the coarse correction
/// and in reverse order after it, which keeps the preconditioner symmetric; the coarsest grid (at most
/// 4×4 points) gets a few such sweep pairs.
/// </para>
/// </summary>
internal sealed class ImputationSolver
{
    /// <summary>Stop when every channel's residual norm is at most this fraction of its right-hand side's.</summary>
    public const double RelativeTolerance = 1e-10;

    private readonly List<Level> _levels = [];

    /// <summary>Iterations of the last <see cref="Solve"/> (for tests and benchmarks).</summary>
    public int Iterations { get; private set; }

    private sealed class Level
    {
        public required int Nx, Ny;
        public int S => Nx + 3;
        /// <summary>Stencil coefficients, 9 per padded point, direction k = (dy + 1)·3 + (dx + 1).</summary>
        public required double[] A;
        public required double[] InvDiag;
        /// <summary>Padded indices of the active points, ascending.</summary>
        public required int[] Active;
        public required Vector256<double>[] X, B, R;

        public int Index(int y, int x) => (y + 1) * S + x + 1;
    }

    /// <summary>
    /// Sets up the hierarchy for the removed pixels of an <paramref name="h"/>×<paramref name="w"/> image:
    /// <paramref name="weights"/>[k] is the weight of the neighbour in direction k (k = (dy + 1)·3 + (dx + 1),
    /// the centre ignored); the diagonal of a removed pixel is the sum of its in-image neighbours' weights.
    /// </summary>
    public ImputationSolver(ReadOnlySpan<bool> removed, int h, int w, ReadOnlySpan<double> weights)
    {
        var fine = NewLevel(w, h, vectors: false); // its vectors are Solve's
        var active = new List<int>();
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                if (!removed[y * w + x]) continue;
                int p = fine.Index(y, x);
                active.Add(p);
                double diag = 0;
                for (int k = 0; k < 9; k++)
                {
                    if (k == 4) continue;
                    int ny = y + k / 3 - 1, nx = x + k % 3 - 1;
                    if (ny < 0 || nx < 0 || ny >= h || nx >= w) continue;
                    diag += weights[k];
                    if (removed[ny * w + nx]) fine.A[p * 9 + k] = -weights[k];
                }
                fine.A[p * 9 + 4] = diag;
                fine.InvDiag[p] = 1 / diag;
            }
        fine.Active = [.. active];
        _levels.Add(fine);
        while (_levels[^1] is { } l && Math.Max(l.Nx, l.Ny) > 4 && l.Active.Length > 16)
            _levels.Add(Coarsen(l));
    }

    private static Level NewLevel(int nx, int ny, bool vectors = true)
    {
        // One padding line before and two after each axis: coarse points may sit one line past the image, and their 3×3 neighbourhoods too.
        int total = (ny + 3) * (nx + 3);
        return new Level
        {
            Nx = nx, Ny = ny, A = new double[total * 9], InvDiag = new double[total], Active = [],
            X = vectors ? new Vector256<double>[total] : [], B = vectors ? new Vector256<double>[total] : [], R = new Vector256<double>[total],
        };
    }

    /// <summary>The Galerkin coarse level: Pᵀ A P with P bilinear interpolation from every other grid line.</summary>
    private static Level Coarsen(Level f)
    {
        var c = NewLevel((f.Nx + 2) / 2, (f.Ny + 2) / 2);
        var isActive = new bool[f.InvDiag.Length];
        foreach (int p in f.Active) isActive[p] = true;
        var active = new List<int>();
        Span<double> acc = stackalloc double[9];
        for (int i = 0; i < c.Ny; i++)
            for (int j = 0; j < c.Nx; j++)
            {
                acc.Clear();
                bool any = false;
                for (int di = -1; di <= 1; di++)
                {
                    int my = 2 * i + di;
                    if (my < 0 || my >= f.Ny) continue;
                    for (int dj = -1; dj <= 1; dj++)
                    {
                        int mx = 2 * j + dj;
                        if (mx < 0 || mx >= f.Nx) continue;
                        int m = f.Index(my, mx);
                        if (!isActive[m]) continue;
                        any = true;
                        double pw = (di == 0 ? 1 : 0.5) * (dj == 0 ? 1 : 0.5);
                        for (int k = 0; k < 9; k++)
                        {
                            double a = f.A[m * 9 + k];
                            if (a == 0) continue;
                            // q = m + direction k, in fine coordinates; spread a·pw over the coarse points whose P-column holds q.
                            int qy = my + k / 3 - 1, qx = mx + k % 3 - 1;
                            double v = a * pw;
                            int y0 = qy >> 1, x0 = qx >> 1;
                            bool oddY = (qy & 1) != 0, oddX = (qx & 1) != 0;
                            double wy = oddY ? 0.5 : 1, wx = oddX ? 0.5 : 1;
                            int ry = y0 - i + 1, rx = x0 - j + 1;
                            acc[ry * 3 + rx] += v * wy * wx;
                            if (oddX) acc[ry * 3 + rx + 1] += v * wy * wx;
                            if (oddY)
                            {
                                acc[(ry + 1) * 3 + rx] += v * wy * wx;
                                if (oddX) acc[(ry + 1) * 3 + rx + 1] += v * wy * wx;
                            }
                        }
                    }
                }
                if (!any || acc[4] <= 0) continue;
                int p = c.Index(i, j);
                active.Add(p);
                acc.CopyTo(c.A.AsSpan(p * 9, 9));
                c.InvDiag[p] = 1 / acc[4];
            }
        c.Active = [.. active];
        return c;
    }

    /// <summary>
    /// Solves A x = b on the removed pixels, per lane; <paramref name="b"/> and <paramref name="x"/> are
    /// indexed by padded grid index (<see cref="PaddedIndex"/>), zero outside the removed pixels;
    /// <paramref name="x"/> holds the initial guess.
    /// </summary>
    public void Solve(Vector256<double>[] b, Vector256<double>[] x)
    {
        var f = _levels[0];
        var act = f.Active;
        var r = new Vector256<double>[b.Length];
        var z = new Vector256<double>[b.Length];
        var d = new Vector256<double>[b.Length];
        var q = new Vector256<double>[b.Length];
        Multiply(f, x, q);
        Vector256<double> bb = default, rr = default;
        foreach (int p in act)
        {
            var v = r[p] = b[p] - q[p];
            bb += b[p] * b[p];
            rr += v * v;
        }
        var tol = Vector256.Max(bb, Vector256.Create(1e-30)) * (RelativeTolerance * RelativeTolerance);
        Iterations = 0;
        var open = Vector256.GreaterThan(rr, tol);
        if (open == Vector256<double>.Zero) return;
        Precondition(r, z);
        Vector256<double> rz = default;
        foreach (int p in act)
        {
            d[p] = z[p];
            rz += r[p] * z[p];
        }
        for (int it = 0; it < 10 * act.Length + 100; it++)
        {
            Iterations++;
            Multiply(f, d, q);
            Vector256<double> dq = default;
            foreach (int p in act) dq += d[p] * q[p];
            // A lane stops when its residual is small enough (or its direction vanished): α = β = 0 keep it as it is.
            var go = open & Vector256.GreaterThan(dq, Vector256<double>.Zero);
            if (go == Vector256<double>.Zero) break;
            var alpha = Vector256.ConditionalSelect(go, rz / dq, Vector256<double>.Zero);
            rr = default;
            foreach (int p in act)
            {
                x[p] += alpha * d[p];
                var v = r[p] -= alpha * q[p];
                rr += v * v;
            }
            open = go & Vector256.GreaterThan(rr, tol);
            if (open == Vector256<double>.Zero) break;
            Precondition(r, z);
            Vector256<double> rzNew = default;
            foreach (int p in act) rzNew += r[p] * z[p];
            var beta = Vector256.ConditionalSelect(open, rzNew / rz, Vector256<double>.Zero);
            rz = Vector256.ConditionalSelect(open, rzNew, rz);
            foreach (int p in act) d[p] = z[p] + beta * d[p];
        }
    }

    /// <summary>The padded grid index of pixel (y, x) of the image (the index into <see cref="Solve"/>'s vectors).</summary>
    public int PaddedIndex(int y, int x) => _levels[0].Index(y, x);

    /// <summary>Length of the vectors <see cref="Solve"/> takes.</summary>
    public int VectorLength => _levels[0].InvDiag.Length;

    /// <summary>result = A v on the level's active points.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Multiply(Level l, Vector256<double>[] v, Vector256<double>[] result)
    {
        ref var v0 = ref MemoryMarshal.GetArrayDataReference(v);
        ref var r0 = ref MemoryMarshal.GetArrayDataReference(result);
        ref double a0 = ref MemoryMarshal.GetArrayDataReference(l.A);
        int s = l.S;
        foreach (int p in l.Active) Unsafe.Add(ref r0, p) = Stencil(ref Unsafe.Add(ref a0, p * 9), ref Unsafe.Add(ref v0, p), s);
    }

    /// <summary>Σₖ aₖ v₍ₚ₊ₒₖ₎ with <paramref name="a"/> at the point's 9 coefficients and <paramref name="v"/> at the point.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Stencil(ref double a, ref Vector256<double> v, int s) =>
        Vector256.Create(a) * Unsafe.Add(ref v, -s - 1) + Vector256.Create(Unsafe.Add(ref a, 1)) * Unsafe.Add(ref v, -s)
        + Vector256.Create(Unsafe.Add(ref a, 2)) * Unsafe.Add(ref v, -s + 1) + Vector256.Create(Unsafe.Add(ref a, 3)) * Unsafe.Add(ref v, -1)
        + Vector256.Create(Unsafe.Add(ref a, 4)) * v + Vector256.Create(Unsafe.Add(ref a, 5)) * Unsafe.Add(ref v, 1)
        + Vector256.Create(Unsafe.Add(ref a, 6)) * Unsafe.Add(ref v, s - 1) + Vector256.Create(Unsafe.Add(ref a, 7)) * Unsafe.Add(ref v, s)
        + Vector256.Create(Unsafe.Add(ref a, 8)) * Unsafe.Add(ref v, s + 1);

    /// <summary>z = one V-cycle applied to r (on the finest level's active points).</summary>
    private void Precondition(Vector256<double>[] r, Vector256<double>[] z)
    {
        var f = _levels[0];
        foreach (int p in f.Active) z[p] = default;
        f.B = r;
        f.X = z;
        Cycle(0);
    }

    private void Cycle(int li)
    {
        var l = _levels[li];
        if (li == _levels.Count - 1)
        {
            for (int s = 0; s < 4; s++)
            {
                Sweep(l, forward: true);
                Sweep(l, forward: false);
            }
            return;
        }
        Sweep(l, forward: true);
        Multiply(l, l.X, l.R);
        foreach (int p in l.Active) l.R[p] = l.B[p] - l.R[p];
        var c = _levels[li + 1];
        Restrict(l, c);
        foreach (int p in c.Active) c.X[p] = default;
        Cycle(li + 1);
        Prolongate(c, l);
        Sweep(l, forward: false);
    }

    /// <summary>One Gauss–Seidel sweep over the level's active points, in row-major order or its reverse.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sweep(Level l, bool forward)
    {
        int s = l.S;
        ref var x0 = ref MemoryMarshal.GetArrayDataReference(l.X);
        ref var b0 = ref MemoryMarshal.GetArrayDataReference(l.B);
        ref double a0 = ref MemoryMarshal.GetArrayDataReference(l.A);
        ref double d0 = ref MemoryMarshal.GetArrayDataReference(l.InvDiag);
        var act = l.Active;
        int n = act.Length;
        for (int i = 0; i < n; i++)
        {
            int p = forward ? act[i] : act[n - 1 - i];
            ref var xp = ref Unsafe.Add(ref x0, p);
            xp += (Unsafe.Add(ref b0, p) - Stencil(ref Unsafe.Add(ref a0, p * 9), ref xp, s)) * Vector256.Create(Unsafe.Add(ref d0, p));
        }
    }

    /// <summary>coarse.B = Pᵀ fine.R.</summary>
    private static void Restrict(Level f, Level c)
    {
        int fs = f.S;
        var r = f.R;
        var half = Vector256.Create(0.5);
        var quarter = Vector256.Create(0.25);
        foreach (int pc in c.Active)
        {
            int i = pc / c.S - 1, j = pc % c.S - 1;
            int m = f.Index(2 * i, 2 * j);
            // Fine points outside the image or inactive hold a zero residual (the padding and never-written entries).
            c.B[pc] = r[m] + half * (r[m - 1] + r[m + 1] + r[m - fs] + r[m + fs]) + quarter * (r[m - fs - 1] + r[m - fs + 1] + r[m + fs - 1] + r[m + fs + 1]);
        }
    }

    /// <summary>fine.X += P coarse.X on the fine level's active points.</summary>
    private static void Prolongate(Level c, Level f)
    {
        int fs = f.S, cs = c.S;
        var z = c.X;
        var half = Vector256.Create(0.5);
        var quarter = Vector256.Create(0.25);
        foreach (int p in f.Active)
        {
            int y = p / fs - 1, x = p % fs - 1;
            int q = c.Index(y >> 1, x >> 1);
            Vector256<double> v = ((y & 1) << 1 | (x & 1)) switch
            {
                0 => z[q],
                1 => half * (z[q] + z[q + 1]),
                2 => half * (z[q] + z[q + cs]),
                _ => quarter * (z[q] + z[q + 1] + z[q + cs] + z[q + cs + 1]),
            };
            f.X[p] += v;
        }
    }
}
