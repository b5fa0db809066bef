using System.Text.Json;
using System.Text.Json.Serialization;

namespace Salient.Cli.Commands;

/// <summary>
/// JSON options for everything the CLI writes: a non-finite float or double (NaN, ±∞) is written as
/// null, so results.jsonl, summary.json and --json output stay valid JSON whatever a model computes.
/// </summary>
internal static class FiniteJson
{
    public static readonly JsonSerializerOptions Compact = Create(false);
    public static readonly JsonSerializerOptions Indented = Create(true);

    private static JsonSerializerOptions Create(bool indented)
    {
        var o = new JsonSerializerOptions { WriteIndented = indented };
        o.Converters.Add(new FloatConverter());
        o.Converters.Add(new DoubleConverter());
        return o;
    }

    private sealed class FloatConverter : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetSingle();
        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
        {
            if (float.IsFinite(value)) writer.WriteNumberValue(value); else writer.WriteNullValue();
        }
    }

    private sealed class DoubleConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDouble();
        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value); else writer.WriteNullValue();
        }
    }
}
