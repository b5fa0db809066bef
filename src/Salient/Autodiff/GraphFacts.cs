using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Salient.Models;
using Salient.Onnx;
using Salient.Runtime;
using Tensor = Salient.Onnx.Tensor;

namespace Salient.Autodiff;

/// <summary>
/// Concrete facts about every tensor of a graph at one input shape, from one probe run with every
/// intermediate exposed: element type and shape, plus the VALUES of small tensors (≤ 64 elements).
/// The small values let rules read Slice starts, Pad amounts, Resize scales or Gather indices
/// that the model computes from shapes (Shape → Gather → Concat …) as if they were constants;
/// that is exact as long as those values depend only on the input shape, which is what every
/// program here is specialized to anyway.
/// </summary>
internal sealed class GraphFacts
{
    private const int SmallLimit = 64;

    private GraphFacts(Dictionary<string, TensorShape> shapes, Dictionary<string, Tensor> small, TimeSpan time)
    {
        Shapes = shapes;
        Small = small;
        ProbeTime = time;
    }

    public Dictionary<string, TensorShape> Shapes { get; }
    public Dictionary<string, Tensor> Small { get; }
    public TimeSpan ProbeTime { get; }

    public static GraphFacts Probe(Graph graph, string inputName, DataType inputType, long[] inputShape, RuntimeOptions options)
    {
        var sw = Stopwatch.StartNew();
        var g = graph.Clone();
        g.Outputs.Clear();
        var seen = new HashSet<string>();
        foreach (var name in graph.IntermediateNames())
            if (seen.Add(name)) g.Outputs.Add(new ValueInfo(name, DataType.Undefined, null));
        var shapes = new Dictionary<string, TensorShape>();
        var small = new Dictionary<string, Tensor>();
        foreach (var kv in graph.Initializers) shapes[kv.Key] = new TensorShape(kv.Value.Type, kv.Value.Dims);
        shapes[inputName] = new TensorShape(inputType, inputShape);
        if (g.Outputs.Count > 0)
        {
            using var so = options.CreateSessionOptions();
            InferenceSession session;
            try { session = new InferenceSession(OnnxWriter.ToBytes(g), so); }
            catch (OnnxRuntimeException e) { throw new SalientException($"ONNX Runtime cannot load the model: {GraphSession.FirstLine(e.Message)}", e); }
            using (session)
            {
                using var input = CreateProbeInput(inputType, inputShape);
                using var ro = new RunOptions();
                var names = g.Outputs.Select(o => o.Name).ToArray();
                IDisposableReadOnlyCollection<OrtValue> results;
                try { results = session.Run(ro, [inputName], [input], names); }
                catch (OnnxRuntimeException e) { throw new SalientException($"ONNX Runtime failed to run the model at input shape {Salient.Onnx.Shapes.Format(inputShape)}: {GraphSession.FirstLine(e.Message)}", e); }
                using (results)
                {
                    for (int i = 0; i < names.Length; i++)
                    {
                        var v = results[i];
                        if (!v.IsTensor) continue;
                        var info = v.GetTensorTypeAndShape();
                        var type = GraphSession.MapType(info.ElementDataType);
                        shapes[names[i]] = new TensorShape(type, info.Shape);
                        if (info.ElementCount <= SmallLimit && ReadSmall(names[i], v, info) is { } t) small[names[i]] = t;
                    }
                }
            }
        }
        return new GraphFacts(shapes, small, sw.Elapsed);
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
            _ => throw new SalientException($"the model input has element type {type}, which the gradient engine cannot feed"),
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
