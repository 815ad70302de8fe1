using System.Text.Json;
using System.Text.Json.Serialization;

namespace TSViz.Monitor.Live;

/// <summary>
/// Writes a window's saliency (channel rows of values scaled 0-1) with five decimals: 0.12346 rather than the shortest
/// round trip of the float, 0.12345679. Every value stays within 5e-6 of the computed one (the explanations' 1e-5
/// parity), and formatting floats was the largest single cost of encoding an explanation (measured with
/// bench --live). Values outside 0-1 are written in full. Reads any JSON numbers.
/// </summary>
internal sealed class ScaledSaliencyConverter : JsonConverter<float[][]>
{
    private const int Decimals = 5;
    private const float Scale = 100_000f;

    public override float[][] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("The saliency is not an array of channel rows.");
        }

        var rows = new List<float[]>();
        var row = new List<float>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException("A saliency row is not an array of numbers.");
            }

            row.Clear();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                row.Add(reader.GetSingle());
            }

            rows.Add([.. row]);
        }

        return [.. rows];
    }

    public override void Write(Utf8JsonWriter writer, float[][] value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        Span<byte> text = stackalloc byte[2 + Decimals];
        writer.WriteStartArray();
        foreach (var row in value)
        {
            writer.WriteStartArray();
            foreach (float v in row)
            {
                if (v is >= 0f and <= 1f)
                {
                    writer.WriteRawValue(Format((int)MathF.Round(v * Scale), text), skipInputValidation: true);
                }
                else
                {
                    writer.WriteNumberValue(v);
                }
            }

            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }

    /// <summary>q / 10^5 for 0 &lt;= q &lt;= 10^5 as "0", "1" or "0.ddddd" without trailing zeros.</summary>
    private static ReadOnlySpan<byte> Format(int q, Span<byte> text)
    {
        if (q <= 0)
        {
            text[0] = (byte)'0';
            return text[..1];
        }

        if (q >= (int)Scale)
        {
            text[0] = (byte)'1';
            return text[..1];
        }

        text[0] = (byte)'0';
        text[1] = (byte)'.';
        for (int i = 2 + Decimals - 1; i >= 2; i--)
        {
            text[i] = (byte)('0' + (q % 10));
            q /= 10;
        }

        int end = 2 + Decimals;
        while (text[end - 1] == (byte)'0')
        {
            end--;
        }

        return text[..end];
    }
}
