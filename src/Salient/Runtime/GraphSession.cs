using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Salient.Onnx;

namespace Salient.Runtime;

/// <summary>A dense float/int tensor produced by a run, copied out of ORT.</summary>
public sealed record TensorValue(string Name, DataType Type, long[] Shape, float[] Data)
{
    public long Length => Data.LongLength;
}

/// <summary>An input fed to a run: float data that is converted to the graph input's element type.</summary>
public sealed record InputValue(string Name, long[] Shape, float[] Data);

/// <summary>
/// One ORT session over a <see cref="Graph"/> (serialized once). Run is thread-safe: ORT sessions
/// allow concurrent Run calls.
/// </summary>
internal sealed class GraphSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly Dictionary<string, DataType> _inputTypes;

    public GraphSession(Graph graph, RuntimeOptions options, SharedWeights? weights = null)
    {
        using var so = options.CreateSessionOptions();
        try { _session = weights is null ? new InferenceSession(OnnxWriter.ToBytes(graph), so) : weights.CreateSession(graph, so); }
        catch (OnnxRuntimeException e)
        {
            throw new SalientException($"ONNX Runtime cannot load the model: {FirstLine(e.Message)}", e);
        }
        _inputTypes = graph.Inputs.ToDictionary(i => i.Name, i => i.Type == DataType.Undefined ? DataType.Float : i.Type);
        OutputNames = graph.Outputs.Select(o => o.Name).ToArray();
    }

    public IReadOnlyList<string> OutputNames { get; }

    internal static string FirstLine(string s)
    {
        var line = s.Split('\n')[0].Trim();
        return line.Length > 400 ? line[..400] + "…" : line;
    }

    /// <summary>Runs the graph and copies the requested outputs (all outputs when null) to managed arrays.</summary>
    public Dictionary<string, TensorValue> Run(IReadOnlyList<InputValue> inputs, IReadOnlyList<string>? outputs = null)
    {
        outputs ??= OutputNames;
        var values = new List<OrtValue>(inputs.Count);
        try
        {
            foreach (var inp in inputs) values.Add(CreateInput(inp));
            using var runOptions = new RunOptions();
            IDisposableReadOnlyCollection<OrtValue> results;
            try { results = _session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, outputs.ToArray()); }
            catch (OnnxRuntimeException e) { throw new SalientException($"ONNX Runtime failed to run the model: {FirstLine(e.Message)}", e); }
            using (results)
            {
                var dict = new Dictionary<string, TensorValue>(outputs.Count);
                for (int i = 0; i < outputs.Count; i++)
                {
                    var v = results[i];
                    if (!v.IsTensor) continue;
                    dict[outputs[i]] = ReadTensor(outputs[i], v);
                }
                return dict;
            }
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    private OrtValue CreateInput(InputValue inp) => CreateInputValue(_inputTypes.GetValueOrDefault(inp.Name, DataType.Float), inp);

    /// <summary>An OrtValue for float input data converted to the graph input's element type (float is zero-copy).</summary>
    internal static OrtValue CreateInputValue(DataType type, InputValue inp)
    {
        switch (type)
        {
            case DataType.Float:
                return OrtValue.CreateTensorValueFromMemory(inp.Data, inp.Shape);
            case DataType.UInt8:
                return OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(inp.Data, v => (byte)Math.Clamp(MathF.Round(v), 0, 255)), inp.Shape);
            case DataType.Int8:
                return OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(inp.Data, v => (sbyte)Math.Clamp(MathF.Round(v), -128, 127)), inp.Shape);
            case DataType.Double:
                return OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(inp.Data, v => (double)v), inp.Shape);
            case DataType.Float16:
                return OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(inp.Data, v => new Float16(BitConverter.HalfToUInt16Bits((Half)v))), inp.Shape);
            case DataType.Int64:
                return OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(inp.Data, v => (long)v), inp.Shape);
            case DataType.Int32:
                return OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(inp.Data, v => (int)v), inp.Shape);
            default:
                throw new SalientException($"input '{inp.Name}' has element type {type}, which Salient cannot feed");
        }
    }

    internal static DataType MapType(TensorElementType t) => t switch
    {
        TensorElementType.Float => DataType.Float,
        TensorElementType.UInt8 => DataType.UInt8,
        TensorElementType.Int8 => DataType.Int8,
        TensorElementType.UInt16 => DataType.UInt16,
        TensorElementType.Int16 => DataType.Int16,
        TensorElementType.Int32 => DataType.Int32,
        TensorElementType.Int64 => DataType.Int64,
        TensorElementType.Bool => DataType.Bool,
        TensorElementType.Float16 => DataType.Float16,
        TensorElementType.Double => DataType.Double,
        TensorElementType.UInt32 => DataType.UInt32,
        TensorElementType.UInt64 => DataType.UInt64,
        TensorElementType.BFloat16 => DataType.BFloat16,
        _ => DataType.Undefined,
    };

    /// <summary>Copies an ORT tensor out as a float <see cref="TensorValue"/>.</summary>
    internal static TensorValue ReadTensor(string name, OrtValue v)
    {
        var info = v.GetTensorTypeAndShape();
        return new TensorValue(name, MapType(info.ElementDataType), info.Shape, ReadAsFloats(v, info));
    }

    private static float[] ReadAsFloats(OrtValue v, OrtTensorTypeAndShapeInfo info)
    {
        switch (info.ElementDataType)
        {
            case TensorElementType.Float: return v.GetTensorDataAsSpan<float>().ToArray();
            case TensorElementType.Double: { var s = v.GetTensorDataAsSpan<double>(); var r = new float[s.Length]; for (int i = 0; i < s.Length; i++) r[i] = (float)s[i]; return r; }
            case TensorElementType.Int64: { var s = v.GetTensorDataAsSpan<long>(); var r = new float[s.Length]; for (int i = 0; i < s.Length; i++) r[i] = s[i]; return r; }
            case TensorElementType.Int32: { var s = v.GetTensorDataAsSpan<int>(); var r = new float[s.Length]; for (int i = 0; i < s.Length; i++) r[i] = s[i]; return r; }
            case TensorElementType.UInt8: { var s = v.GetTensorDataAsSpan<byte>(); var r = new float[s.Length]; for (int i = 0; i < s.Length; i++) r[i] = s[i]; return r; }
            case TensorElementType.Int8: { var s = v.GetTensorDataAsSpan<sbyte>(); var r = new float[s.Length]; for (int i = 0; i < s.Length; i++) r[i] = s[i]; return r; }
            case TensorElementType.Bool: { var s = v.GetTensorDataAsSpan<bool>(); var r = new float[s.Length]; for (int i = 0; i < s.Length; i++) r[i] = s[i] ? 1 : 0; return r; }
            case TensorElementType.Float16: { var s = v.GetTensorDataAsSpan<Float16>(); var r = new float[s.Length]; for (int i = 0; i < s.Length; i++) r[i] = (float)BitConverter.UInt16BitsToHalf(s[i].value); return r; }
            default: return new float[info.ElementCount];
        }
    }

    public void Dispose() => _session.Dispose();
}
