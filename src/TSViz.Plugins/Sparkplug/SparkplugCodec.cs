using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Google.Protobuf;
using TSViz.Plugins.Sparkplug.Proto;

namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// Encodes <see cref="SparkplugPayload"/>s to the Sparkplug B protobuf (sparkplug_b.proto in this folder) and decodes
/// them back. Decoding never throws: bytes that are not a payload give an error text instead.
/// </summary>
public static class SparkplugCodec
{
    /// <summary>The payload's bytes. Times before 1970 cannot be written (ArgumentOutOfRangeException).</summary>
    public static byte[] Encode(SparkplugPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var message = new Payload();
        if (payload.Timestamp is { } timestamp)
        {
            message.Timestamp = SparkplugMetric.UnixMilliseconds(timestamp);
        }

        if (payload.Seq is { } seq)
        {
            message.Seq = seq;
        }

        if (payload.Uuid is { } uuid)
        {
            message.Uuid = uuid;
        }

        foreach (var metric in payload.Metrics)
        {
            message.Metrics.Add(ToWire(metric));
        }

        return message.ToByteArray();
    }

    /// <summary>Reads a payload; false with the reason when the bytes are not one.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out SparkplugPayload? payload, [NotNullWhen(false)] out string? error)
    {
        payload = null;
        Payload message;
        try
        {
            message = Payload.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            error = $"not a Sparkplug B protobuf payload: {ex.Message}";
            return false;
        }

        if (!TryTime(message.HasTimestamp, message.Timestamp, out var sent))
        {
            error = string.Create(CultureInfo.InvariantCulture, $"the payload timestamp {message.Timestamp} is beyond the year 9999 (milliseconds since 1970)");
            return false;
        }

        var metrics = new SparkplugMetric[message.Metrics.Count];
        for (int i = 0; i < metrics.Length; i++)
        {
            var wire = message.Metrics[i];
            if (!TryTime(wire.HasTimestamp, wire.Timestamp, out var acquired))
            {
                error = string.Create(CultureInfo.InvariantCulture, $"metric #{i}: timestamp {wire.Timestamp} is beyond the year 9999 (milliseconds since 1970)");
                return false;
            }

            metrics[i] = SparkplugMetric.FromWire(
                    wire.HasName ? wire.Name : null,
                    wire.HasDatatype ? (SparkplugDataType)wire.Datatype : null,
                    ValueOf(wire),
                    wire.HasIsNull && wire.IsNull)
                with
                {
                    Alias = wire.HasAlias ? wire.Alias : null,
                    Timestamp = acquired,
                };
        }

        payload = new SparkplugPayload
        {
            Timestamp = sent,
            Seq = message.HasSeq ? message.Seq : null,
            Uuid = message.HasUuid ? message.Uuid : null,
            Metrics = metrics,
        };
        error = null;
        return true;
    }

    private static bool TryTime(bool present, ulong milliseconds, out DateTimeOffset? time)
    {
        time = null;
        if (!present)
        {
            return true;
        }

        if (milliseconds > SparkplugMetric.MaxUnixMilliseconds)
        {
            return false;
        }

        time = DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds);
        return true;
    }

    private static Payload.Types.Metric ToWire(SparkplugMetric metric)
    {
        var wire = new Payload.Types.Metric();
        if (metric.Name is { } name)
        {
            wire.Name = name;
        }

        if (metric.Alias is { } alias)
        {
            wire.Alias = alias;
        }

        if (metric.Timestamp is { } timestamp)
        {
            wire.Timestamp = SparkplugMetric.UnixMilliseconds(timestamp);
        }

        if (metric.DataType is { } type)
        {
            wire.Datatype = (uint)type;
        }

        if (metric.IsNull)
        {
            wire.IsNull = true;
            return wire;
        }

        var value = metric.Value;
        switch (value.Kind)
        {
            case WireKind.Int:
                wire.IntValue = (uint)value.Bits;
                break;
            case WireKind.Long:
                wire.LongValue = value.Bits;
                break;
            case WireKind.Float:
                wire.FloatValue = (float)value.Real;
                break;
            case WireKind.Double:
                wire.DoubleValue = value.Real;
                break;
            case WireKind.Boolean:
                wire.BooleanValue = value.Bits != 0;
                break;
            case WireKind.String:
                wire.StringValue = value.Text ?? string.Empty;
                break;
            default:
                // No value (or one this codec only reads, such as a data set): nothing to write.
                break;
        }

        return wire;
    }

    private static WireValue ValueOf(Payload.Types.Metric wire) => wire.ValueCase switch
    {
        Payload.Types.Metric.ValueOneofCase.IntValue => new WireValue(WireKind.Int, wire.IntValue),
        Payload.Types.Metric.ValueOneofCase.LongValue => new WireValue(WireKind.Long, wire.LongValue),
        Payload.Types.Metric.ValueOneofCase.FloatValue => new WireValue(WireKind.Float, Real: wire.FloatValue),
        Payload.Types.Metric.ValueOneofCase.DoubleValue => new WireValue(WireKind.Double, Real: wire.DoubleValue),
        Payload.Types.Metric.ValueOneofCase.BooleanValue => new WireValue(WireKind.Boolean, wire.BooleanValue ? 1UL : 0UL),
        Payload.Types.Metric.ValueOneofCase.StringValue => new WireValue(WireKind.String, Text: wire.StringValue),
        Payload.Types.Metric.ValueOneofCase.None => WireValue.None,
        _ => new WireValue(WireKind.Other),
    };
}
