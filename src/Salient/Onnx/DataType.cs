namespace Salient.Onnx;

/// <summary>ONNX tensor element types (TensorProto.DataType numbering).</summary>
public enum DataType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7,
    String = 8, Bool = 9, Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, BFloat16 = 16,
}

internal static class DataTypes
{
    public static int SizeOf(DataType t) => t switch
    {
        DataType.Float or DataType.Int32 or DataType.UInt32 => 4,
        DataType.UInt8 or DataType.Int8 or DataType.Bool => 1,
        DataType.UInt16 or DataType.Int16 or DataType.Float16 or DataType.BFloat16 => 2,
        DataType.Int64 or DataType.Double or DataType.UInt64 => 8,
        _ => throw new SalientException($"tensor element type {t} is not supported"),
    };

    public static bool IsFloating(DataType t) =>
        t is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16;
}
