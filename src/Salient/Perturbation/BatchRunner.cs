using System.Diagnostics;
using Salient.Runtime;

namespace Salient.Perturbation;

/// <summary>
/// Writes rows <c>start … start + count − 1</c> of a generated input into <paramref name="destination"/>
/// (count × the input's per-row length floats, row after row).
/// </summary>
internal delegate void RowFill(int start, int count, Span<float> destination);

/// <summary>Reduces one row's output to the few values kept (<see cref="BatchRunner.Run(int, int, RowReduce)"/>).</summary>
internal delegate void RowReduce(ReadOnlySpan<float> output, Span<float> kept);

/// <summary>
/// Changes the rows of a buffer that already holds a template row in every row. The buffer's rows are
/// <c>start … start + count − 1</c> now; before, they were <c>previousStart … previousStart + previousCount − 1</c>
/// (previousStart = −1: the rows are still plain template copies). Undo the changes made for the previous
/// rows, then make those of the new ones — e.g. Ablation-CAM restores one channel and zeroes another,
/// instead of copying a whole activation per row.
/// </summary>
internal delegate void RowPatch(int start, int count, int previousStart, int previousCount, Span<float> destination);

/// <summary>
/// One input of a batched run: generated row by row (<see cref="Fill"/>); or one per-item tensor
/// repeated in every row (<see cref="Repeated"/>, e.g. a skip-connection tensor fed to a cut graph),
/// optionally changed per row by <see cref="Patch"/> (the buffers are filled with the template once and
/// only patched afterwards). With <see cref="Unbatched"/> the input has no batch axis: <see cref="Repeated"/>
/// is fed once, with <see cref="RowShape"/> as its whole shape (e.g. a shape vector computed before a cut).
/// </summary>
internal sealed record BatchInput(string Name, long[] RowShape, RowFill? Fill = null, float[]? Repeated = null, bool Unbatched = false, RowPatch? Patch = null)
{
    public int RowLength { get; } = checked((int)Onnx.Tensor.ElementCount(RowShape));
}

/// <summary>
/// Runs many generated inputs (masked, occluded, ablated…) through an ORT session in batches and
/// returns the output rows. Buffers are allocated once per run and reused for every batch; with
/// <see cref="Pipelined"/> the next batch is generated on a worker thread while ORT runs the current
/// one, so building inputs costs (almost) no wall time. The row order — and so every result — does not
/// depend on the batch size.
/// </summary>
internal sealed class BatchRunner
{
    private static long s_rows, s_runTicks, s_fillTicks, s_waitTicks;

    private readonly GraphSession _session;
    private readonly IReadOnlyList<BatchInput> _inputs;
    private readonly string _output;
    private readonly int _batchSize;
    private readonly int? _fixedBatch;

    /// <param name="session">the session to run.</param>
    /// <param name="inputs">its inputs (every graph input must be listed).</param>
    /// <param name="output">the output to return.</param>
    /// <param name="batchSize">rows per run (ignored for a fixed-batch graph).</param>
    /// <param name="fixedBatch">the graph's fixed batch size, if it has one: the last batch is padded.</param>
    public BatchRunner(GraphSession session, IReadOnlyList<BatchInput> inputs, string output, int batchSize, int? fixedBatch = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
        foreach (var i in inputs)
            if ((i.Fill is null) == (i.Repeated is null) || i.Repeated is { } r && r.Length != i.RowLength || i.Unbatched && (i.Fill ?? (object?)i.Patch) is not null)
                throw new ArgumentException($"input '{i.Name}' needs exactly one of a fill or a repeated row of {i.RowLength} values (a patch only with a repeated row, not unbatched)");
        _session = session;
        _inputs = inputs;
        _output = output;
        _batchSize = batchSize;
        _fixedBatch = fixedBatch;
    }

    /// <summary>Generate the next batch on a worker while ORT runs the current one (default: <see cref="PipelineByDefault"/>).</summary>
    public bool Pipelined { get; init; } = PipelineByDefault;

    /// <summary>Whether new runners pipeline (true; the benchmark turns it off to measure what it saves).</summary>
    internal static bool PipelineByDefault { get; set; } = true;

    /// <summary>Rows actually run (for benchmarks): all runners, since process start.</summary>
    internal static long RowsRun => Interlocked.Read(ref s_rows);
    /// <summary>Time spent in ORT runs, generating rows, and waiting for generation (Stopwatch ticks).</summary>
    internal static (long Run, long Fill, long Wait) Ticks => (Interlocked.Read(ref s_runTicks), Interlocked.Read(ref s_fillTicks), Interlocked.Read(ref s_waitTicks));

    private sealed class BufferSet
    {
        public required int Rows { get; init; }
        public required float[][] Data { get; init; }
        public required InputValue[] Values { get; init; }
        /// <summary>The rows the buffers hold (for patched inputs); −1: template copies only.</summary>
        public int Start { get; set; } = -1;
        public int Count { get; set; }
    }

    private BufferSet Allocate(int rows)
    {
        var data = new float[_inputs.Count][];
        var values = new InputValue[_inputs.Count];
        for (int i = 0; i < _inputs.Count; i++)
        {
            var inp = _inputs[i];
            if (inp.Unbatched)
            {
                data[i] = inp.Repeated!;
                values[i] = new InputValue(inp.Name, inp.RowShape, data[i]);
                continue;
            }
            data[i] = new float[checked(rows * inp.RowLength)];
            if (inp.Repeated is { } r)
                for (int b = 0; b < rows; b++) r.CopyTo(data[i], b * inp.RowLength);
            values[i] = new InputValue(inp.Name, [rows, .. inp.RowShape], data[i]);
        }
        return new BufferSet { Rows = rows, Data = data, Values = values };
    }

    private void FillSet(BufferSet set, int start, int count)
    {
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < _inputs.Count; i++)
        {
            var inp = _inputs[i];
            if (inp.Fill is { } fill)
                fill(start, count, set.Data[i].AsSpan(0, count * inp.RowLength));
            else if (inp.Patch is { } patch)
                patch(start, count, set.Start, set.Count, set.Data[i].AsSpan(0, set.Rows * inp.RowLength));
        }
        set.Start = start;
        set.Count = count;
        Interlocked.Add(ref s_fillTicks, Stopwatch.GetTimestamp() - t0);
    }

    /// <summary>Runs rows 0 … count − 1 and returns the output, count × (output values per row).</summary>
    public float[] Run(int count) => Run(count, out _);

    /// <inheritdoc cref="Run(int)"/>
    public float[] Run(int count, out int rowLength) => Run(count, out rowLength, 0, null);

    /// <summary>
    /// Runs rows 0 … count − 1 and keeps only <paramref name="width"/> values per row, which
    /// <paramref name="reduce"/> computes from each row's output as its batch comes back (a target's
    /// scores of a big output, e.g. a segmentation map): count × width.
    /// </summary>
    public float[] Run(int count, int width, RowReduce reduce) => Run(count, out _, width, reduce);

    private float[] Run(int count, out int rowLength, int width, RowReduce? reduce)
    {
        rowLength = 0;
        if (count <= 0) return [];
        int bs = _fixedBatch ?? Math.Min(_batchSize, count);
        int batches = (count + bs - 1) / bs;
        var full = new BufferSet?[2];
        BufferSet? tail = null;
        BufferSet SetFor(int b)
        {
            int rows = Math.Min(bs, count - b * bs);
            if (rows == bs || _fixedBatch is not null) return full[b % 2] ??= Allocate(bs);
            return tail ??= Allocate(rows);
        }

        float[]? result = null;
        var current = SetFor(0);
        FillSet(current, 0, Math.Min(bs, count));
        Task? pending = null;
        try
        {
            for (int b = 0; b < batches; b++)
            {
                Core.AmbientCancellation.ThrowIfRequested();
                int start = b * bs, n = Math.Min(bs, count - start);
                BufferSet? next = null;
                if (b + 1 < batches)
                {
                    next = SetFor(b + 1);
                    int ns = (b + 1) * bs, nn = Math.Min(bs, count - ns);
                    var target = next;
                    // A thread of its own, not a thread-pool work item: the wait below would otherwise run it inline
                    // on this (pool) thread while the pool, seeing work complete, adds no thread for what queues
                    // behind it — a CancelAfter timer of the caller then never fired (minutes, on 2 cores).
                    if (Pipelined) pending = Task.Factory.StartNew(() => FillSet(target, ns, nn), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                }

                long t0 = Stopwatch.GetTimestamp();
                var outs = _session.Run(current.Values, [_output]);
                Interlocked.Add(ref s_runTicks, Stopwatch.GetTimestamp() - t0);
                Interlocked.Add(ref s_rows, n);
                var o = outs[_output];
                int per = (int)(o.Data.Length / current.Rows);
                if (result is null)
                {
                    rowLength = reduce is null ? per : width;
                    result = new float[checked((long)count * rowLength)];
                }
                if (reduce is null) Array.Copy(o.Data, 0, result, (long)start * per, (long)n * per);
                else
                    for (int r = 0; r < n; r++)
                        reduce(o.Data.AsSpan(r * per, per), result.AsSpan((start + r) * width, width));

                if (next is not null)
                {
                    if (pending is not null)
                    {
                        long w0 = Stopwatch.GetTimestamp();
                        var p = pending;
                        pending = null;
                        p.GetAwaiter().GetResult();
                        Interlocked.Add(ref s_waitTicks, Stopwatch.GetTimestamp() - w0);
                    }
                    else FillSet(next, (b + 1) * bs, Math.Min(bs, count - (b + 1) * bs));
                    current = next;
                }
            }
        }
        finally
        {
            // Never leave a worker writing into buffers after an error.
            if (pending is not null) try { pending.Wait(); } catch (AggregateException) { }
        }
        return result!;
    }
}
