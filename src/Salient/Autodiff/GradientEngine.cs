using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;
using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;

namespace Salient.Autodiff;

/// <summary>
/// Reverse-mode differentiation of an ONNX model, written as a backward graph in standard ONNX ops
/// and run with ONNX Runtime. <see cref="Run"/> computes d(Σ seed ⊙ S)/d(w) for a score tensor S
/// and tensors w; programs are built once per (S, wrt set, ReLU rule, AlsoFetch, input shape) and
/// cached, so the seed (class, channel, …) costs nothing to change. Thread-safe.
/// See docs/autodiff.md.
/// </summary>
public sealed class GradientEngine : IDisposable
{
    private readonly Graph _graph;
    private readonly InputSpec _input;
    private readonly RuntimeOptions _options;
    private readonly ConcurrentDictionary<string, Lazy<GraphFacts>> _facts = new();
    private readonly ConcurrentDictionary<string, Lazy<BackwardProgram>> _programs = new();
    private readonly ConcurrentDictionary<string, Lazy<InferenceSession>> _forwardSessions = new();
    private volatile bool _disposed;

    private readonly SharedWeights? _weights;
    private readonly Func<long[], ProbeResult>? _probe;

    internal GradientEngine(Graph graph, InputSpec input, RuntimeOptions options, SharedWeights? weights = null, Func<long[], ProbeResult>? probe = null)
    {
        _graph = graph;
        _input = input;
        _options = options;
        _weights = weights;
        _probe = probe;
        _linearBatch = new Lazy<bool>(() => GraphFacts.BatchArithmeticIsLinear(graph, input.Name));
    }

    private readonly Lazy<bool> _linearBatch;

    /// <summary>For a model's engine: takes the model's lease for one call (so the model's Dispose waits for it).</summary>
    internal Func<IDisposable>? Lease { get; init; }

    public GradientEngine(SalientModel model) : this(model.Graph, model.Input, model.Runtime, model.Weights, model.Probe) { }

    /// <summary>The ops that have a gradient rule.</summary>
    public static IEnumerable<string> SupportedOps => Rules.RuleRegistry.SupportedOps;

    /// <summary>
    /// Runs the model on <paramref name="input"/>, calls <paramref name="seed"/> with the forward value
    /// of the score tensor, and returns d(Σ seed ⊙ S)/d(w) for every requested w.
    /// </summary>
    public GradientResult Run(InputValue input, GradientRequest request, Func<TensorValue, float[]> seed)
    {
        if (input.Name != _input.Name)
            throw new SalientException($"the model input is '{_input.Name}', not '{input.Name}'");
        using var lease = Lease?.Invoke();
        return Build(request, input.Shape).Run(input, seed);
    }

    /// <summary>The (cached) forward and backward programs of a request at one input shape.</summary>
    public BackwardProgram Build(GradientRequest request, long[] inputShape)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var shape = (long[])inputShape.Clone();
        var lazy = _programs.GetOrAdd(request.CacheKey(shape), _ => new Lazy<BackwardProgram>(() => Create(request, shape)));
        try { return lazy.Value; }
        catch
        {
            _programs.TryRemove(new KeyValuePair<string, Lazy<BackwardProgram>>(request.CacheKey(shape), lazy));
            throw;
        }
    }

    private BackwardProgram Create(GradientRequest request, long[] shape)
    {
        var probeTime = TimeSpan.Zero;
        var facts = Facts(shape, ref probeTime);
        var built = new BackwardBuilder(_graph, facts, _input.Name, request).Build();
        return new BackwardProgram(request, shape, _input.Name, _input.Type, built, probeTime,
            _options, _graph.Initializers, ForwardSession, _weights);
    }

    /// <summary>
    /// Shapes (and small shape-derived values) of every tensor at an input shape. Batches above 2 of a
    /// dynamic-batch model are extrapolated from probes at batch 1 and 2 (see
    /// <see cref="GraphFacts.Extrapolate"/>), so a large batch never runs with every intermediate exposed.
    /// </summary>
    private GraphFacts Facts(long[] shape, ref TimeSpan probeTime)
    {
        if (_input.DynamicBatch && shape[0] > 2 && _linearBatch.Value)
        {
            string key = string.Join(",", shape);
            if (_facts.TryGetValue(key, out var known)) return known.Value;
            long[] At(long n) { var s = (long[])shape.Clone(); s[0] = n; return s; }
            GraphFacts? extrapolated;
            try { extrapolated = GraphFacts.Extrapolate(Probed(At(1), ref probeTime), Probed(At(2), ref probeTime), shape[0]); }
            catch (SalientException) { extrapolated = null; }   // a model that cannot run at batch 1 or 2: probe at N
            catch (OverflowException) { extrapolated = null; }
            if (extrapolated is not null) return _facts.GetOrAdd(key, new Lazy<GraphFacts>(extrapolated)).Value;
        }
        return Probed(shape, ref probeTime);
    }

    private GraphFacts Probed(long[] shape, ref TimeSpan probeTime)
    {
        bool fresh = false;
        var lazy = _facts.GetOrAdd(string.Join(",", shape), _ => new Lazy<GraphFacts>(() =>
        {
            fresh = true;
            return _probe is { } p ? GraphFacts.From(p(shape)) : GraphFacts.Probe(_graph, _input.Name, _input.Type, shape, _options);
        }));
        GraphFacts facts;
        try { facts = lazy.Value; }
        catch
        {
            _facts.TryRemove(new KeyValuePair<string, Lazy<GraphFacts>>(string.Join(",", shape), lazy));   // a failure is not cached
            throw;
        }
        if (fresh) probeTime += facts.ProbeTime;
        return facts;
    }

    /// <summary>Forward sessions are shared by programs whose forward graphs are identical (same outputs).</summary>
    private InferenceSession ForwardSession(Graph forward)
    {
        string key = BackwardProgram.ForwardKey(forward);
        var lazy = _forwardSessions.GetOrAdd(key, _ => new Lazy<InferenceSession>(() => BackwardProgram.CreateSession(forward, _options, "the forward program", _weights)));
        try { return lazy.Value; }
        catch
        {
            _forwardSessions.TryRemove(new KeyValuePair<string, Lazy<InferenceSession>>(key, lazy));
            throw;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var p in _programs.Values)
            if (p.IsValueCreated) p.Value.Release();
        _programs.Clear();
        foreach (var s in _forwardSessions.Values)
            if (s.IsValueCreated) s.Value.Dispose();
        _forwardSessions.Clear();
    }
}
