using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace TSViz.Plugins.Ingest;

/// <summary>Settings of the built-in JSON decoder.</summary>
public sealed record JsonDecoderSettings
{
    /// <summary>The input topics and how they name a machine (<see cref="Ingest.TopicPattern"/>).</summary>
    public TopicPattern Topics { get; init; } = TopicPattern.Parse("plant/{line}/{machine}/telemetry");

    /// <summary>
    /// The model's channels, in input order, each named once: a sample must carry each of them and no other field
    /// but <c>"ts"</c>.
    /// </summary>
    public required IReadOnlyList<string> Channels { get; init; }

    /// <summary>
    /// Payloads larger than this many bytes are refused unread (<see cref="RejectionReason.OversizePayload"/>).
    /// </summary>
    public int MaxPayloadBytes { get; init; } = 256 * 1024;

    /// <summary>
    /// Timestamps further than this behind the monitor's clock are refused as absurd
    /// (<see cref="RejectionReason.AbsurdTimestamp"/>).
    /// </summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Timestamps further than this ahead of the monitor's clock are refused (<see cref="RejectionReason.FutureTimestamp"/>).
    /// Kept small because one accepted sample from a gateway whose clock runs ahead would make every true sample after
    /// it look out of order until the real time caught up with it.
    /// </summary>
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Decodes <c>{"ts": "2026-11-26T02:10:00Z", "pressure": 1.2, "temperature": 80.1, "torque": 12.0}</c> or a batch
/// <c>{"samples": [{...}, ...]}</c>; the machine id comes from the topic. "ts" may also be Unix milliseconds; sample
/// times are in UTC whatever offset "ts" was written with.
/// Any problem refuses the whole message with its reason, so a half-read batch never enters a window. A field that
/// appears twice in one object refuses the message (<see cref="RejectionReason.DuplicateField"/>) rather than letting
/// the last one win, since a gateway that repeats a channel has lost track of which value is current.
/// <see cref="Decode"/> never throws: whatever the topic and payload, it returns a result.
/// </summary>
public sealed class JsonTelemetryDecoder : ISampleDecoder
{
    // Unix milliseconds of DateTimeOffset.MaxValue; a larger "ts" cannot be a time.
    private const long MaxUnixMilliseconds = 253_402_300_799_999;

    // Raw JSON and names quoted in a detail are cut to this many characters: a detail goes to a log line and the
    // dead-letter topic, and the offending value may be a quarter of a megabyte.
    private const int MaxQuoted = 120;

    private static readonly string[] NonFiniteStrings = ["NaN", "Infinity", "-Infinity"];

    private readonly JsonDecoderSettings settings;
    private readonly TimeProvider time;
    private readonly Dictionary<string, int> channelIndex;

    /// <summary>Makes a decoder for the settings' topics and channels.</summary>
    /// <param name="settings">The topics, channels and limits.</param>
    /// <param name="time">The monitor's clock, against which sample times are checked.</param>
    /// <exception cref="ArgumentNullException">
    /// <paramref name="settings"/> or <paramref name="time"/> is null.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A clock skew of the settings is negative.</exception>
    /// <exception cref="ArgumentException">A channel is named twice.</exception>
    public JsonTelemetryDecoder(JsonDecoderSettings settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        this.settings = settings;
        this.time = time ?? throw new ArgumentNullException(nameof(time));
        if (settings.MaxClockSkew < TimeSpan.Zero || settings.MaxFutureSkew < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), $"MaxClockSkew ({settings.MaxClockSkew}) and MaxFutureSkew ({settings.MaxFutureSkew}) must not be negative.");
        }

        channelIndex = settings.Channels.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
    }

    /// <summary>The MQTT subscription filter of the topic pattern.</summary>
    public string SubscriptionFilter => settings.Topics.SubscriptionFilter;

    /// <summary>The one filter of the topic pattern (<see cref="SubscriptionFilter"/>).</summary>
    public IReadOnlyList<string> SubscriptionFilters => [SubscriptionFilter];

    /// <summary>
    /// Decodes one message of the topic's machine: one sample, or a batch that is accepted or refused whole. Never
    /// throws; an exception none of the checks foresaw refuses the message as
    /// <see cref="RejectionReason.DecoderFailure"/>. Holds no state between messages, so it may be called from several
    /// threads at once; <see cref="DecodeResult.Resets"/> and <see cref="DecodeResult.Commands"/> are always empty.
    /// </summary>
    /// <param name="topic">The MQTT topic; it must match <see cref="JsonDecoderSettings.Topics"/>.</param>
    /// <param name="payload">The message's bytes: UTF-8 JSON.</param>
    /// <returns>The samples in message order, or the rejection with its reason and detail.</returns>
    public DecodeResult Decode(string topic, ReadOnlySpan<byte> payload)
    {
        try
        {
            return DecodeMessage(topic, payload);
        }
#pragma warning disable CA1031 // The last resort of issue 13: a case missed below refuses its message, not the ingest loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Reject(RejectionReason.DecoderFailure, $"the decoder failed on this message: {ex.GetType().FullName}: {ex.Message}");
        }
    }

    private DecodeResult DecodeMessage(string? topic, ReadOnlySpan<byte> payload)
    {
        string? machine = topic is null ? null : settings.Topics.MachineOf(topic);
        if (machine is null)
        {
            return Reject(RejectionReason.UnexpectedTopic, topic is null
                ? "the message has no topic"
                : $"topic '{Quote(topic)}' does not match '{settings.Topics.Text}' (segments non-empty and without MQTT wildcards, the machine id well-formed Unicode)");
        }

        if (payload.Length > settings.MaxPayloadBytes)
        {
            return Reject(RejectionReason.OversizePayload, $"{payload.Length} bytes, more than the {settings.MaxPayloadBytes} allowed");
        }

        if (payload.IsEmpty)
        {
            return Reject(RejectionReason.MalformedJson, "the payload is empty");
        }

        // JSON is UTF-8 (RFC 8259, section 8.1). Utf8JsonReader does not check the bytes inside strings and names,
        // and reading such a string later throws InvalidOperationException, so the whole payload is checked first.
        if (!Utf8.IsValid(payload))
        {
            int offset = FirstInvalidUtf8(payload);
            return Reject(RejectionReason.MalformedJson, $"the payload is not UTF-8: byte 0x{payload[offset]:X2} at offset {offset} starts no valid character");
        }

        JsonDocument document;
        try
        {
            document = Parse(payload);
        }
        catch (JsonException ex)
        {
            return Reject(RejectionReason.MalformedJson, ex.Message);
        }

        using (document)
        {
            return DecodeDocument(machine, document.RootElement, time.GetUtcNow());
        }
    }

    private static JsonDocument Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new Utf8JsonReader(payload);
        var document = JsonDocument.ParseValue(ref reader);
        try
        {
            // ParseValue stops after the first value; a second value or garbage after it makes Read throw, so a message
            // is one object and not the first of several (whose others would be dropped without a word).
            reader.Read();
            return document;
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    private DecodeResult DecodeDocument(string machine, JsonElement root, DateTimeOffset now)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Reject(RejectionReason.WrongType, $"the payload is {Describe(root.ValueKind)}, not a JSON object");
        }

        JsonElement? batch = null;
        foreach (var property in root.EnumerateObject())
        {
            if (!TryReadName(property, out string? name, out string? problem))
            {
                return Reject(RejectionReason.MalformedJson, problem);
            }

            if (name == "samples")
            {
                if (batch is not null)
                {
                    return Reject(RejectionReason.DuplicateField, "\"samples\" appears more than once");
                }

                batch = property.Value;
            }
        }

        if (batch is not { } samplesElement)
        {
            var (single, why, what) = ReadSample(machine, root, now);
            return single is null ? Reject(why, what) : new DecodeResult([single], null, null);
        }

        if (samplesElement.ValueKind != JsonValueKind.Array)
        {
            return Reject(RejectionReason.WrongType, $"\"samples\" is {Describe(samplesElement.ValueKind)}, not an array");
        }

        int count = samplesElement.GetArrayLength();
        if (count == 0)
        {
            return Reject(RejectionReason.EmptyBatch, "\"samples\" is empty");
        }

        var samples = new List<Sample>(count);
        foreach (var element in samplesElement.EnumerateArray())
        {
            var (sample, reason, detail) = ReadSample(machine, element, now);
            if (sample is null)
            {
                return Reject(reason, $"samples[{samples.Count}]: {detail}");
            }

            samples.Add(sample);
        }

        return new DecodeResult(samples, null, null);
    }

    private (Sample? Sample, RejectionReason Reason, string Detail) ReadSample(string machine, JsonElement element, DateTimeOffset now)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return (null, RejectionReason.WrongType, $"a sample is {Describe(element.ValueKind)}, not a JSON object");
        }

        JsonElement? ts = null;
        var values = new float[channelIndex.Count];
        var seen = new bool[channelIndex.Count];
        foreach (var property in element.EnumerateObject())
        {
            if (!TryReadName(property, out string? name, out string? problem))
            {
                return (null, RejectionReason.MalformedJson, problem);
            }

            if (name == "ts")
            {
                if (ts is not null)
                {
                    return (null, RejectionReason.DuplicateField, "\"ts\" appears more than once");
                }

                ts = property.Value;
                continue;
            }

            if (!channelIndex.TryGetValue(name, out int c))
            {
                return (null, RejectionReason.UnknownChannel, $"\"{Quote(name)}\" is not a channel of the model ({string.Join(", ", settings.Channels)})");
            }

            if (seen[c])
            {
                return (null, RejectionReason.DuplicateField, $"\"{name}\" appears more than once");
            }

            var (value, why, what) = ReadValue(name, property.Value);
            if (value is not { } number)
            {
                return (null, why, what);
            }

            values[c] = number;
            seen[c] = true;
        }

        if (ts is not { } tsElement)
        {
            return (null, RejectionReason.WrongType, "\"ts\" is missing");
        }

        var (timestamp, reason, detail) = ReadTimestamp(tsElement, now);
        if (timestamp is not { } stamp)
        {
            return (null, reason, detail);
        }

        int missing = Array.IndexOf(seen, false);
        if (missing >= 0)
        {
            return (null, RejectionReason.MissingChannel, $"channel \"{settings.Channels[missing]}\" is missing");
        }

        return (new Sample(machine, stamp, values), default, string.Empty);
    }

    private static (float? Value, RejectionReason Reason, string Detail) ReadValue(string name, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                // A JSON number beyond the double range reads as infinity (or fails to read), 1e300 fits a double but
                // not the float the model takes.
                if (!value.TryGetDouble(out double number) || !double.IsFinite(number) || !float.IsFinite((float)number))
                {
                    return (null, RejectionReason.NonFiniteValue, $"\"{name}\" = {QuoteRaw(value)} is not a finite float");
                }

                return ((float)number, default, string.Empty);

            case JsonValueKind.String:
                if (!TryReadString(value, out string? text, out string? problem))
                {
                    return (null, RejectionReason.MalformedJson, $"\"{name}\": {problem}");
                }

                return NonFiniteStrings.Contains(text, StringComparer.Ordinal)
                    ? (null, RejectionReason.NonFiniteValue, $"\"{name}\" is {text}")
                    : (null, RejectionReason.WrongType, $"\"{name}\" is not a number: {QuoteRaw(value)}");

            default:
                return (null, RejectionReason.WrongType, $"\"{name}\" is {Describe(value.ValueKind)}, not a number: {QuoteRaw(value)}");
        }
    }

    private (DateTimeOffset? Timestamp, RejectionReason Reason, string Detail) ReadTimestamp(JsonElement ts, DateTimeOffset now)
    {
        DateTimeOffset timestamp;
        if (ts.ValueKind == JsonValueKind.String)
        {
            if (!TryReadString(ts, out string? text, out string? problem))
            {
                return (null, RejectionReason.MalformedJson, $"\"ts\": {problem}");
            }

            // NoCurrentDateDefault: a bare time of day would otherwise take today's date from the machine's clock
            // (DateTime.Now, not the decoder's TimeProvider); DateTimeOffset refuses that style, so DateTime parses,
            // and the time is kept in UTC like Unix milliseconds are.
            if (!DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal | DateTimeStyles.NoCurrentDateDefault, out var utc))
            {
                return (null, RejectionReason.WrongType, $"\"ts\" is neither an ISO 8601 date and time nor Unix milliseconds: {QuoteRaw(ts)}");
            }

            if (utc.Date == DateTime.MinValue)
            {
                return (null, RejectionReason.WrongType, $"\"ts\" {QuoteRaw(ts)} has no date (or is on 0001-01-01)");
            }

            timestamp = new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc));
        }
        else if (ts.ValueKind == JsonValueKind.Number && ts.TryGetInt64(out long milliseconds) && milliseconds is > 0 and <= MaxUnixMilliseconds)
        {
            timestamp = DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
        }
        else
        {
            return (null, RejectionReason.WrongType, $"\"ts\" is neither an ISO 8601 date and time nor Unix milliseconds: {QuoteRaw(ts)}");
        }

        // Both times lie within DateTimeOffset's range, so their difference fits a TimeSpan and cannot overflow.
        var ahead = timestamp - now;
        if (ahead > settings.MaxFutureSkew)
        {
            return (null, RejectionReason.FutureTimestamp,
                $"\"ts\" {timestamp:O} is {ahead} ahead of the monitor's clock ({now:O}); at most {settings.MaxFutureSkew} is allowed");
        }

        if (-ahead > settings.MaxClockSkew)
        {
            return (null, RejectionReason.AbsurdTimestamp, $"\"ts\" {timestamp:O} is more than {settings.MaxClockSkew} behind the monitor's clock ({now:O})");
        }

        return (timestamp, default, string.Empty);
    }

    // System.Text.Json parses an escaped lone surrogate ("\uDC00") but throws InvalidOperationException when the
    // string is read (issue 13); these two turn that into a rejection.
    private static bool TryReadName(JsonProperty property, [NotNullWhen(true)] out string? name, [NotNullWhen(false)] out string? problem)
    {
        try
        {
            name = property.Name;
            problem = null;
            return true;
        }
        catch (InvalidOperationException ex)
        {
            name = null;
            problem = $"a field name is not valid Unicode text: {ex.Message}";
            return false;
        }
    }

    private static bool TryReadString(JsonElement value, [NotNullWhen(true)] out string? text, [NotNullWhen(false)] out string? problem)
    {
        try
        {
            text = value.GetString() ?? string.Empty;
            problem = null;
            return true;
        }
        catch (InvalidOperationException ex)
        {
            text = null;
            problem = $"the string {QuoteRaw(value)} is not valid Unicode text: {ex.Message}";
            return false;
        }
    }

    private static DecodeResult Reject(RejectionReason reason, string detail) => DecodeResult.Rejected(reason, WellFormed(detail));

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    // The raw JSON keeps escapes as written and the payload is valid UTF-8, so this does not throw.
    private static string QuoteRaw(JsonElement value) => Quote(value.GetRawText());

    private static string Quote(string text)
    {
        if (text.Length <= MaxQuoted)
        {
            return text;
        }

        // Cut between two characters, not inside a surrogate pair.
        int cut = char.IsHighSurrogate(text[MaxQuoted - 1]) ? MaxQuoted - 1 : MaxQuoted;
        return string.Concat(text.AsSpan(0, cut), $"… ({text.Length} characters)");
    }

    // A detail is written to JSON (the dead-letter topic) and logs; an ill-formed UTF-16 string would make the JSON
    // writer throw, so lone surrogates (from a topic handed in by code, never by MQTT) become U+FFFD.
    private static string WellFormed(string text)
    {
        if (WellFormedText.IsWellFormed(text))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            var status = Rune.DecodeFromUtf16(rest, out _, out int used);
            builder.Append(status == OperationStatus.Done ? rest[..used] : "\uFFFD");
            rest = rest[Math.Max(used, 1)..];
        }

        return builder.ToString();
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> payload)
    {
        int offset = 0;
        while (offset < payload.Length)
        {
            if (Rune.DecodeFromUtf8(payload[offset..], out _, out int used) != OperationStatus.Done)
            {
                return offset;
            }

            offset += used;
        }

        return 0;
    }
}
