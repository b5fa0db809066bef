using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Salient.Onnx;
using Salient.Runtime;
using Tensor = Salient.Onnx.Tensor;

namespace Salient.Models;

/// <summary>Concrete element type and shape of one tensor for a given input shape.</summary>
internal sealed record TensorShape(DataType Type, long[] Dims)
{
    public int Rank => Dims.Length;
    public long Count => Tensor.ElementCount(Dims);
    public override string ToString() => Shapes.Format(Dims);
}

/// <summary>What one probe run found: every tensor's type and shape, the values of small tensors, and the time it took.</summary>
internal sealed record ProbeResult(Dictionary<string, TensorShape> Shapes, Dictionary<string, Tensor> Small, TimeSpan Time)
{
    /// <summary>How many tensors ORT had to be asked for (0: static inference resolved everything, no session was created).</summary>
    public int OrtOutputs { get; init; }
    /// <summary>How many nodes the ORT probe ran: only those the open tensors need (0 when no session was created).</summary>
    public int OrtNodes { get; init; }
}

/// <summary>
/// Concrete shapes of every tensor: static inference (<see cref="ShapeInference"/>) for the ops it
/// knows, and for whatever it leaves open one ORT run in which those tensors are graph outputs (ORT
/// computes exact shapes for any dynamic batch or spatial size). Constants come from the initializers. The one probe implementation: the
/// model structure uses <see cref="Run"/>, the gradient engine <see cref="Probe"/> (with the values
/// of small tensors).
/// </summary>
internal static class ShapeProbe
{
    /// <summary>Tensors with at most this many elements have their values recorded (shape arithmetic the gradient rules read).</summary>
    public const int SmallLimit = 64;

    public static Dictionary<string, TensorShape> Run(Graph graph, InputSpec input, int batch, int height, int width, RuntimeOptions options, SharedWeights? weights = null) =>
        Probe(graph, input.Name, input.Type, input.ShapeFor(batch, height, width), options, 0, weights).Shapes;

    /// <summary>
    /// Activations a model may need for one run before ORT is asked to run it: at most half the memory
    /// this process may use (a mutated or hostile model whose shapes explode is refused with one line
    /// instead of ORT allocating tens of gigabytes).
    /// </summary>
    internal static long ActivationLimitBytes { get; set; } = Math.Max(1L << 30, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2);

    /// <summary>Refuses tensors whose statically known sizes add up past <see cref="ActivationLimitBytes"/> (checked arithmetic).</summary>
    internal static void CheckActivationMemory(Graph graph, IEnumerable<(string Name, DataType Type, long[] Dims)> tensors, long[] inputShape)
    {
        long total = 0;
        string largest = "";
        long largestBytes = 0;
        foreach (var (name, type, dims) in tensors)
        {
            if (graph.Initializers.ContainsKey(name)) continue;
            long bytes;
            try { bytes = checked(Tensor.CheckedElementCount(dims, $"tensor '{name}'") * Math.Max(1, DataTypes.SizeOf(type))); }
            catch (OverflowException) { bytes = long.MaxValue; }
            if (bytes > largestBytes) (largest, largestBytes) = (name, bytes);
            total = bytes > long.MaxValue - total ? long.MaxValue : total + bytes;
        }
        if (total > ActivationLimitBytes)
            throw new SalientException($"the model would need {Gb(total)} of activations for an input of shape {Shapes.Format(inputShape)} " +
                $"(tensor '{largest}' alone {Gb(largestBytes)}), over the {Gb(ActivationLimitBytes)} limit (half of this machine's memory); is the model corrupt?");
    }

    private static string Gb(long bytes) => bytes == long.MaxValue ? "more than 9 EB" : $"{bytes / 1e9:0.0} GB";

    /// <summary>
    /// Runs <paramref name="graph"/> once on a constant input of <paramref name="inputShape"/> with every
    /// intermediate as an output; records each tensor's type and shape, and the values of tensors with at
    /// most <paramref name="smallLimit"/> elements (0: none).
    /// </summary>
    internal static ProbeResult Probe(Graph graph, string inputName, DataType inputType, long[] inputShape, RuntimeOptions options, int smallLimit = 0, SharedWeights? weights = null)
    {
        var sw = Stopwatch.StartNew();
        var shapes = new Dictionary<string, TensorShape>();
        var small = new Dictionary<string, Tensor>();
        foreach (var kv in graph.Initializers) shapes[kv.Key] = new TensorShape(kv.Value.Type, kv.Value.Dims);
        shapes[inputName] = new TensorShape(inputType, inputShape);

        // Static inference first; ORT only for what it leaves open: tensors it cannot shape, and small
        // integer tensors (shape arithmetic the gradient rules read) whose value it did not compute.
        var inferred = ShapeInference.Infer(graph, inputName, inputType, inputShape);
        CheckActivationMemory(graph, inferred.Select(kv => (kv.Key, kv.Value.Type, kv.Value.Dims)), inputShape);
        var open = new List<string>();
        var seen = new HashSet<string>();
        foreach (var name in graph.IntermediateNames())
        {
            if (!seen.Add(name)) continue;
            if (!inferred.TryGetValue(name, out var t)) { open.Add(name); continue; }
            shapes[name] = new TensorShape(t.Type, t.Dims);
            long count = Tensor.ElementCount(t.Dims);
            if (count <= smallLimit && t.Value is { } v) small[name] = new Tensor(name, v.Type, v.Dims, v.Data);
            else if (count <= smallLimit && t.Type is DataType.Int64 or DataType.Int32) open.Add(name);
        }
        int ortNodes = open.Count > 0 ? RunOrt(graph, open, inputName, inputType, inputShape, options, smallLimit, weights, shapes, small) : 0;
        return new ProbeResult(shapes, small, sw.Elapsed) { OrtOutputs = open.Count, OrtNodes = ortNodes };
    }

    /// <summary>
    /// The ORT probe: one run of the smallest subgraph that yields <paramref name="names"/> (every
    /// intermediate, before static inference existed; now only what inference left open), with them as
    /// its outputs. Returns how many nodes it ran.
    /// </summary>
    internal static int RunOrt(Graph graph, IReadOnlyList<string> names, string inputName, DataType inputType, long[] inputShape, RuntimeOptions options,
        int smallLimit, SharedWeights? weights, Dictionary<string, TensorShape> shapes, Dictionary<string, Tensor> small)
    {
        var g = graph.Clone();
        g.Outputs.Clear();
        foreach (var name in names) g.Outputs.Add(new ValueInfo(name, DataType.Undefined, null));
        g.KeepOnlyWhatOutputsNeed();
        using var so = options.CreateSessionOptions();
        so.AddSessionConfigEntry("session.disable_prepacking", "1");   // one run: packing weights would cost more than it saves
        InferenceSession session;
        try { session = weights is null ? new InferenceSession(OnnxWriter.ToBytes(g), so) : weights.CreateSession(g, so); }
        catch (OnnxRuntimeException e) { throw new SalientException($"ONNX Runtime cannot load the model: {GraphSession.FirstLine(e.Message)}", e); }
        using (session)
        {
            using var input = CreateProbeInput(inputType, inputShape);
            using var ro = new RunOptions();
            var outNames = g.Outputs.Select(o => o.Name).ToArray();
            IDisposableReadOnlyCollection<OrtValue> results;
            try { results = session.Run(ro, [inputName], [input], outNames); }
            catch (OnnxRuntimeException e) { throw new SalientException($"ONNX Runtime failed to run the model at input shape {Shapes.Format(inputShape)}: {GraphSession.FirstLine(e.Message)}", e); }
            using (results)
            {
                for (int i = 0; i < outNames.Length; i++)
                {
                    var v = results[i];
                    if (!v.IsTensor) continue;
                    var info = v.GetTensorTypeAndShape();
                    var type = GraphSession.MapType(info.ElementDataType);
                    shapes[outNames[i]] = new TensorShape(type, info.Shape);
                    if (info.ElementCount <= smallLimit && ReadSmall(outNames[i], v, info) is { } t) small[outNames[i]] = t;
                }
            }
        }
        return g.Nodes.Count;
    }

    /// <summary>The old probe, kept for the tests that hold static inference against it: ORT with every intermediate exposed.</summary>
    internal static ProbeResult ProbeWithOrtOnly(Graph graph, string inputName, DataType inputType, long[] inputShape, RuntimeOptions options, int smallLimit = 0)
    {
        var sw = Stopwatch.StartNew();
        var shapes = new Dictionary<string, TensorShape>();
        var small = new Dictionary<string, Tensor>();
        foreach (var kv in graph.Initializers) shapes[kv.Key] = new TensorShape(kv.Value.Type, kv.Value.Dims);
        shapes[inputName] = new TensorShape(inputType, inputShape);
        var names = graph.IntermediateNames().Distinct().ToList();
        if (names.Count > 0) RunOrt(graph, names, inputName, inputType, inputShape, options, smallLimit, null, shapes, small);
        return new ProbeResult(shapes, small, sw.Elapsed) { OrtOutputs = names.Count };
    }

    private static OrtValue CreateProbeInput(DataType type, long[] shape)
    {
        long n = Tensor.ElementCount(shape);
        return type switch
        {
            DataType.Float => OrtValue.CreateTensorValueFromMemory(Filled(n, 0.25f), shape),
            DataType.Double => OrtValue.CreateTensorValueFromMemory(Filled(n, 0.25), shape),
            DataType.UInt8 => OrtValue.CreateTensorValueFromMemory(Filled(n, (byte)64), shape),
            DataType.Int8 => OrtValue.CreateTensorValueFromMemory(Filled(n, (sbyte)16), shape),
            DataType.Float16 => OrtValue.CreateTensorValueFromMemory(Filled(n, new Float16(BitConverter.HalfToUInt16Bits((Half)0.25f))), shape),
            DataType.Int64 => OrtValue.CreateTensorValueFromMemory(Filled(n, 1L), shape),
            DataType.Int32 => OrtValue.CreateTensorValueFromMemory(Filled(n, 1), shape),
            _ => throw new SalientException($"the model input has element type {type}, which Salient cannot feed"),
        };
    }

    private static T[] Filled<T>(long n, T v)
    {
        var a = new T[n];
        Array.Fill(a, v);
        return a;
    }

    private static Tensor? ReadSmall(string name, OrtValue v, OrtTensorTypeAndShapeInfo info) => info.ElementDataType switch
    {
        TensorElementType.Float => new Tensor(name, DataType.Float, info.Shape, v.GetTensorDataAsSpan<float>().ToArray()),
        TensorElementType.Double => new Tensor(name, DataType.Double, info.Shape, v.GetTensorDataAsSpan<double>().ToArray()),
        TensorElementType.Int64 => new Tensor(name, DataType.Int64, info.Shape, v.GetTensorDataAsSpan<long>().ToArray()),
        TensorElementType.Int32 => new Tensor(name, DataType.Int32, info.Shape, v.GetTensorDataAsSpan<int>().ToArray()),
        TensorElementType.Bool => new Tensor(name, DataType.Bool, info.Shape, v.GetTensorDataAsSpan<bool>().ToArray()),
        _ => null,
    };
}
