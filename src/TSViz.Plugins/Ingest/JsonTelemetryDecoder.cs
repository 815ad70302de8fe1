using System.Globalization;
using System.Text.Json;

namespace TSViz.Plugins.Ingest;

/// <summary>Settings of the built-in JSON decoder.</summary>
public sealed record JsonDecoderSettings
{
    /// <summary>Topic pattern; "{machine}" marks the segment holding the machine id, "+" any one segment.</summary>
    public string TopicPattern { get; init; } = "plant/+/{machine}/telemetry";

    /// <summary>The model's channels, in input order; a message must carry each of them, and no other numeric field.</summary>
    public required IReadOnlyList<string> Channels { get; init; }

    /// <summary>Payloads larger than this are refused unread.</summary>
    public int MaxPayloadBytes { get; init; } = 256 * 1024;

    /// <summary>Timestamps further than this from the monitor's clock are refused as absurd.</summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromDays(1);
}

/// <summary>
/// Decodes <c>{"ts": "2026-11-26T02:10:00Z", "pressure": 1.2, "temperature": 80.1, "torque": 12.0}</c> or a batch
/// <c>{"samples": [{...}, ...]}</c>; the machine id comes from the topic. "ts" may also be Unix milliseconds.
/// Any problem refuses the whole message with its reason, so a half-read batch never enters a window.
/// </summary>
public sealed class JsonTelemetryDecoder : ISampleDecoder
{
    private readonly JsonDecoderSettings settings;
    private readonly TimeProvider time;
    private readonly string[] pattern;
    private readonly int machineSegment;
    private readonly Dictionary<string, int> channelIndex;

    public JsonTelemetryDecoder(JsonDecoderSettings settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        this.settings = settings;
        this.time = time ?? throw new ArgumentNullException(nameof(time));
        pattern = settings.TopicPattern.Split('/');
        machineSegment = Array.IndexOf(pattern, "{machine}");
        if (machineSegment < 0)
        {
            throw new ArgumentException($"The topic pattern '{settings.TopicPattern}' has no {{machine}} segment.", nameof(settings));
        }

        channelIndex = settings.Channels.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
    }

    /// <summary>The MQTT subscription filter for the pattern ("{machine}" becomes "+").</summary>
    public string SubscriptionFilter => string.Join('/', pattern.Select(p => p == "{machine}" ? "+" : p));

    public DecodeResult Decode(string topic, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(topic);
        string? machine = MachineOf(topic);
        if (machine is null)
        {
            return DecodeResult.Rejected(RejectionReason.UnexpectedTopic, $"topic '{topic}' does not match '{settings.TopicPattern}'");
        }

        if (payload.Length > settings.MaxPayloadBytes)
        {
            return DecodeResult.Rejected(RejectionReason.OversizePayload, $"{payload.Length} bytes, more than the {settings.MaxPayloadBytes} allowed");
        }

        try
        {
            var reader = new Utf8JsonReader(payload);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return DecodeResult.Rejected(RejectionReason.WrongType, "the payload is not a JSON object");
            }

            if (root.TryGetProperty("samples", out var batch))
            {
                if (batch.ValueKind != JsonValueKind.Array)
                {
                    return DecodeResult.Rejected(RejectionReason.WrongType, "\"samples\" is not an array");
                }

                if (batch.GetArrayLength() == 0)
                {
                    return DecodeResult.Rejected(RejectionReason.EmptyBatch, "\"samples\" is empty");
                }

                var samples = new List<Sample>(batch.GetArrayLength());
                int index = 0;
                foreach (var element in batch.EnumerateArray())
                {
                    var (sample, reason, detail) = ReadSample(machine, element);
                    if (sample is null)
                    {
                        return DecodeResult.Rejected(reason, $"samples[{index}]: {detail}");
                    }

                    samples.Add(sample);
                    index++;
                }

                return new DecodeResult(samples, null, null);
            }

            var (single, why, what) = ReadSample(machine, root);
            return single is null ? DecodeResult.Rejected(why, what) : new DecodeResult([single], null, null);
        }
        catch (JsonException ex)
        {
            return DecodeResult.Rejected(RejectionReason.MalformedJson, ex.Message);
        }
    }

    private string? MachineOf(string topic)
    {
        var parts = topic.Split('/');
        if (parts.Length != pattern.Length)
        {
            return null;
        }

        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length == 0 || (pattern[i] != "+" && pattern[i] != "{machine}" && pattern[i] != parts[i]))
            {
                return null;
            }
        }

        return parts[machineSegment];
    }

    private (Sample? Sample, RejectionReason Reason, string Detail) ReadSample(string machine, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return (null, RejectionReason.WrongType, "a sample is not a JSON object");
        }

        if (!element.TryGetProperty("ts", out var ts))
        {
            return (null, RejectionReason.WrongType, "\"ts\" is missing");
        }

        DateTimeOffset timestamp;
        if (ts.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(ts.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            timestamp = parsed;
        }
        else if (ts.ValueKind == JsonValueKind.Number && ts.TryGetInt64(out long milliseconds) && milliseconds is > 0 and < 253_402_300_799_000)
        {
            timestamp = DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
        }
        else
        {
            return (null, RejectionReason.WrongType, $"\"ts\" is neither an ISO 8601 time nor Unix milliseconds: {ts.GetRawText()}");
        }

        var now = time.GetUtcNow();
        if ((timestamp - now).Duration() > settings.MaxClockSkew)
        {
            return (null, RejectionReason.AbsurdTimestamp, $"\"ts\" {timestamp:O} is more than {settings.MaxClockSkew} from the monitor's clock ({now:O})");
        }

        var values = new float[channelIndex.Count];
        var seen = new bool[channelIndex.Count];
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name == "ts")
            {
                continue;
            }

            if (!channelIndex.TryGetValue(property.Name, out int c))
            {
                return (null, RejectionReason.UnknownChannel, $"\"{property.Name}\" is not a channel of the model ({string.Join(", ", settings.Channels)})");
            }

            var value = property.Value;
            if (value.ValueKind == JsonValueKind.String && value.GetString() is "NaN" or "Infinity" or "-Infinity")
            {
                return (null, RejectionReason.NonFiniteValue, $"\"{property.Name}\" is {value.GetString()}");
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number))
            {
                return (null, RejectionReason.WrongType, $"\"{property.Name}\" is not a number: {value.GetRawText()}");
            }

            if (!double.IsFinite(number) || !float.IsFinite((float)number))
            {
                return (null, RejectionReason.NonFiniteValue, $"\"{property.Name}\" = {value.GetRawText()} is not a finite float");
            }

            values[c] = (float)number;
            seen[c] = true;
        }

        int missing = Array.IndexOf(seen, false);
        if (missing >= 0)
        {
            return (null, RejectionReason.MissingChannel, $"channel \"{settings.Channels[missing]}\" is missing");
        }

        return (new Sample(machine, timestamp, values), default, string.Empty);
    }
}
