using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace TSViz.Plugins.Tests.Ingest;

/// <summary>A topic and the bytes published on it.</summary>
public sealed record TelemetryPayload(string Topic, byte[] Bytes)
{
    public TelemetryPayload(string topic, string json)
        : this(topic, Encoding.UTF8.GetBytes(json))
    {
    }

    /// <summary>The counterexample as FsCheck prints it: the payload as text, bytes that are not UTF-8 as \xNN.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        var rest = Bytes.AsSpan();
        while (!rest.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf8(rest, out var rune, out int used) == System.Buffers.OperationStatus.Done)
            {
                text.Append(rune.ToString());
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{rest[0]:X2}");
                used = 1;
            }

            rest = rest[used..];
        }

        return $"topic '{Topic}', {Bytes.Length} bytes: {text}";
    }
}

/// <summary>
/// FsCheck generators of hostile telemetry for <see cref="TSViz.Plugins.Ingest.JsonTelemetryDecoder"/> (issue 13): each
/// starts from valid-looking messages of <see cref="TestDecoders"/>' three channels and breaks them one way.
/// </summary>
internal static class TelemetryPayloads
{
    private static readonly string[] Channels = TestDecoders.Channels;

    /// <summary>Byte sequences that are not UTF-8: stray continuation bytes, overlong forms, encoded surrogates, truncated sequences, bytes never used.</summary>
    private static readonly byte[][] InvalidUtf8 =
    [
        [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC3], [0xE2, 0x82], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
        [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x9F, 0x98], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF8], [0xFE], [0xFF], [0xC3, 0x28],
    ];

    /// <summary>JSON escapes of lone UTF-16 surrogates (high, low, reversed, doubled), with a valid pair and plain characters among them.</summary>
    private static readonly string[] SurrogateEscapes =
    [
        "\\uD800", "\\uDC00", "\\uDBFF", "\\uDFFF", "\\ud800", "\\udc00", "\\uD800\\uD800", "\\uDC00\\uD800", "\\uDC00\\uDC00",
        "\\uD800x", "\\uD800\\u0041", "\\uD83D\\uDE00", "\\uD83D", "\\uDE00\\uD83D", "\\u00e9",
    ];

    /// <summary>Numbers at and beyond the edges of float, double, long and DateTimeOffset, and long digit strings.</summary>
    private static readonly string[] ExtremeNumbers =
    [
        "1e308", "1e400", "-1e400", "-0", "0", "-0.0", "99999999999999999999999", "1e-400", "5e-324", "-5e-324", "3.4028235e38",
        "3.4028236e38", "-3.5e38", "1.7976931348623157e308", "1.7976931348623159e308", "253402300799999", "253402300800000",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1E+2", "1e-7", "0.1e1", "123456789012345678901234567890e-10",
        new string('9', 400), "0." + new string('0', 400) + "1", "-" + new string('1', 330), "1764122400000.0", "1764122400000e0",
    ];

    private static readonly string[] NotANumber =
    [
        "null", "true", "false", "\"\"", "\"1.5\"", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"nan\"", "[]", "[1]", "{}", "{\"v\":1}",
        "\"2026-11-26T01:59:59Z\"", "[[[]]]", "[null]",
    ];

    private static readonly string[] NotATimestamp =
    [
        "null", "true", "false", "\"\"", "\"yesterday\"", "\"01:59:59\"", "\"2026-13-45T99:99:99Z\"", "\"NaN\"", "[]", "[1764122400000]",
        "{}", "{\"ts\":1764122400000}", "1.5", "-1", "0", "1e400", "\"\\u0000\"",
    ];

    private static readonly string[] WrongRoots = ["null", "true", "1", "\"ts\"", "[]", "[{}]", "[{\"ts\":1}]", "{}", "{\"samples\":{}}"];

    private static readonly string[] TopicSegments = ["plant", "line1", "m7", "telemetry", "+", "#", "", " ", "m\uD800", "\uDC00", "é", "m/7", "status", new string('x', 300)];

    /// <summary>Valid single samples and batches of up to 20, as text (all ASCII).</summary>
    public static Gen<string> ValidMessage =>
        Gen.Frequency(
            (3, SampleFields.Select(JsonObject)),
            (1, Gen.Choose(1, 20).SelectMany(n => Gen.ArrayOf(SampleFields.Select(JsonObject), n)).Select(Batch)));

    /// <summary>Valid messages with one to four bytes of invalid UTF-8 inserted or overwritten anywhere.</summary>
    public static Gen<TelemetryPayload> WithInvalidUtf8 =>
        from json in ValidMessage
        from invalid in Gen.Elements(InvalidUtf8)
        from position in Gen.Choose(0, json.Length)
        from overwrite in Gen.Elements(true, false)
        select new TelemetryPayload(TestDecoders.Topic, Splice(Encoding.UTF8.GetBytes(json), position, overwrite ? Math.Min(invalid.Length, json.Length - position) : 0, invalid));

    /// <summary>Samples with a lone-surrogate escape in "ts", in a channel's name or value, in an extra field's name, or in "samples".</summary>
    public static Gen<TelemetryPayload> WithLoneSurrogates =>
        from fields in SampleFields
        from escape in Gen.Elements(SurrogateEscapes)
        from place in Gen.Choose(0, 4)
        from channel in Gen.Choose(1, Channels.Length)
        from cut in Gen.Choose(0, 11)
        select new TelemetryPayload(TestDecoders.Topic, place switch
        {
            0 => JsonObject(Replace(fields, "ts", "\"" + Insert("2026-11-26T01:59:59Z", cut, escape) + "\"")),
            1 => JsonObject(Rename(fields, Channels[channel - 1], Insert(Channels[channel - 1], cut, escape))),
            2 => JsonObject(Replace(fields, Channels[channel - 1], "\"" + escape + "\"")),
            3 => JsonObject([.. fields, ("x" + escape, "1")]),
            _ => "{\"" + Insert("samples", cut, escape) + "\":[" + JsonObject(fields) + "]}",
        });

    /// <summary>Arrays and objects 0 to 200 deep as the root, a channel's value, "ts", a batch's element or "samples" itself.</summary>
    public static Gen<TelemetryPayload> WithDeepNesting =>
        from fields in SampleFields
        from depth in Gen.Choose(0, 200)
        from kinds in Gen.ArrayOf(Gen.Elements('[', '{'), depth)
        from leaf in Gen.Elements("1", "\"x\"", "null", "[]", "{}")
        from place in Gen.Choose(0, 4)
        from channel in Gen.Choose(0, Channels.Length - 1)
        let nested = Nest(kinds, leaf)
        select new TelemetryPayload(TestDecoders.Topic, place switch
        {
            0 => nested,
            1 => JsonObject(Replace(fields, Channels[channel], nested)),
            2 => JsonObject(Replace(fields, "ts", nested)),
            3 => "{\"samples\":[" + JsonObject(fields) + "," + nested + "]}",
            _ => "{\"samples\":" + nested + "}",
        });

    /// <summary>Samples whose "ts" or channels (one to all four fields) hold numbers at or beyond the edges.</summary>
    public static Gen<TelemetryPayload> WithExtremeNumbers =>
        from fields in SampleFields
        from picks in Gen.ArrayOf(Gen.Elements(ExtremeNumbers), 4)
        from mask in Gen.Choose(1, 15)
        select new TelemetryPayload(
            TestDecoders.Topic,
            JsonObject([.. fields.Select(f => (mask & (1 << Slot(f.Name))) != 0 ? (f.Name, picks[Slot(f.Name)]) : f)]));

    /// <summary>Samples and batches where one field appears twice (with the same or another value, written plain or escaped).</summary>
    public static Gen<TelemetryPayload> WithDuplicateKeys =>
        from fields in SampleFields
        from other in SampleFields
        from which in Gen.Choose(0, Channels.Length)
        from escaped in Gen.Elements(true, false)
        from position in Gen.Choose(0, Channels.Length + 1)
        from batched in Gen.Choose(0, 2)
        let original = fields[which]
        let name = escaped ? $"\\u{(int)original.Name[0]:x4}{original.Name[1..]}" : original.Name
        let copy = (name, other.First(f => f.Name == original.Name).Value)
        let duplicated = JsonObject([.. fields.Take(position), copy, .. fields.Skip(position)])
        select new TelemetryPayload(TestDecoders.Topic, batched switch
        {
            0 => duplicated,
            1 => "{\"samples\":[" + duplicated + "," + JsonObject(other) + "]}",
            _ => "{\"samples\":[" + JsonObject(other) + "],\"samples\":[" + JsonObject(fields) + "]}",
        });

    /// <summary>A value of the wrong type for "ts", a channel or "samples", a sample that is no object, or a root that is no object.</summary>
    public static Gen<TelemetryPayload> WithWrongTypes =>
        from fields in SampleFields
        from place in Gen.Choose(0, 4)
        from channel in Gen.Choose(0, Channels.Length - 1)
        from notANumber in Gen.Elements(NotANumber)
        from notATime in Gen.Elements(NotATimestamp)
        from root in Gen.Elements(WrongRoots)
        select new TelemetryPayload(TestDecoders.Topic, place switch
        {
            0 => JsonObject(Replace(fields, Channels[channel], notANumber)),
            1 => JsonObject(Replace(fields, "ts", notATime)),
            2 => "{\"samples\":" + notANumber + "}",
            3 => "{\"samples\":[" + JsonObject(fields) + "," + notANumber + "]}",
            _ => root,
        });

    /// <summary>Valid messages with one to three random edits: a character deleted, inserted, replaced or two swapped.</summary>
    public static Gen<TelemetryPayload> Mutated =>
        from json in ValidMessage
        from edits in Gen.ArrayOf(EditGen, 3)
        from count in Gen.Choose(1, 3)
        select new TelemetryPayload(TestDecoders.Topic, edits.Take(count).Aggregate(json, Edit));

    /// <summary>Valid messages cut short anywhere, down to nothing.</summary>
    public static Gen<TelemetryPayload> Truncated =>
        from json in ValidMessage
        from length in Gen.Choose(0, json.Length - 1)
        select new TelemetryPayload(TestDecoders.Topic, json[..length]);

    /// <summary>Random bytes, half of them opening like a JSON object.</summary>
    public static Gen<TelemetryPayload> RandomBytes =>
        from length in Gen.Choose(0, 400)
        from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), length)
        from opening in Gen.Elements(Array.Empty<byte>(), "{\"ts\":"u8.ToArray(), "{\"samples\":[{"u8.ToArray(), "{\""u8.ToArray())
        select new TelemetryPayload(TestDecoders.Topic, [.. opening, .. bytes]);

    /// <summary>Valid messages on topics of zero to six segments, among them wildcards, empty ones, lone surrogates and long ones.</summary>
    public static Gen<TelemetryPayload> OnOddTopics =>
        from json in ValidMessage
        from segments in Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(Gen.Elements(TopicSegments), n))
        from pattern in Gen.Elements(true, false)
        let topic = pattern && segments.Length > 0 ? $"plant/line1/{segments[0]}/telemetry" : string.Join('/', segments)
        select new TelemetryPayload(topic, json);

    // "ts" (ISO 8601 or Unix milliseconds, from more than a day back to beyond the allowed skew ahead) and the three
    // channels, in a random order.
    private static Gen<(string Name, string Value)[]> SampleFields =>
        from ts in Timestamp
        from values in Gen.ArrayOf(Value, Channels.Length)
        from order in Gen.Shuffle(Enumerable.Range(0, Channels.Length + 1))
        select order.Select(i => i == 0 ? ("ts", ts) : (Channels[i - 1], values[i - 1])).ToArray();

    private static Gen<string> Timestamp =>
        from seconds in Gen.Frequency((9, Gen.Choose(-86_000, 5)), (1, Gen.Choose(-100_000, 100_000)))
        from milliseconds in Gen.Choose(0, 999)
        from unix in Gen.Elements(true, false)
        let at = TestDecoders.Now.AddSeconds(seconds).AddMilliseconds(milliseconds)
        select unix ? at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : $"\"{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}\"";

    private static Gen<(int Kind, int Where, char Character)> EditGen =>
        from kind in Gen.Choose(0, 3)
        from position in Gen.Choose(0, 1_000_000)
        from character in Gen.Elements("{}[]\":,\\-+.eE0123456789 tsnulé\u2028x".ToCharArray())
        select (kind, position, character);

    private static Gen<string> Value =>
        Gen.Frequency(
            (8, Gen.Choose(-1_000_000, 1_000_000).Select(i => (i / 100.0).ToString("R", CultureInfo.InvariantCulture))),
            (1, Gen.Choose(-30, 30).Select(e => Math.Pow(10, e).ToString("E", CultureInfo.InvariantCulture))),
            (1, Gen.Elements("0", "-0", "1e-45", "3.4e38", "-3.4e38")));

    private static string JsonObject(IEnumerable<(string Name, string Value)> fields)
        => "{" + string.Join(',', fields.Select(f => $"\"{f.Name}\":{f.Value}")) + "}";

    private static string Batch(string[] samples) => "{\"samples\":[" + string.Join(',', samples) + "]}";

    private static int Slot(string name) => name == "ts" ? 0 : Array.IndexOf(Channels, name) + 1;

    private static (string Name, string Value)[] Replace((string Name, string Value)[] fields, string name, string value)
        => [.. fields.Select(f => f.Name == name ? (f.Name, value) : f)];

    private static (string Name, string Value)[] Rename((string Name, string Value)[] fields, string name, string newName)
        => [.. fields.Select(f => f.Name == name ? (newName, f.Value) : f)];

    private static string Insert(string text, int at, string piece) => text.Insert(Math.Min(at, text.Length), piece);

    private static string Nest(char[] kinds, string leaf)
    {
        var text = new StringBuilder();
        foreach (char kind in kinds)
        {
            text.Append(kind == '[' ? "[" : "{\"k\":");
        }

        text.Append(leaf);
        for (int i = kinds.Length - 1; i >= 0; i--)
        {
            text.Append(kinds[i] == '[' ? ']' : '}');
        }

        return text.ToString();
    }

    private static byte[] Splice(byte[] bytes, int at, int remove, byte[] piece) => [.. bytes.AsSpan(0, at), .. piece, .. bytes.AsSpan(at + remove)];

    private static string Edit(string json, (int Kind, int Where, char Character) edit)
    {
        if (json.Length == 0)
        {
            return edit.Character.ToString();
        }

        int i = edit.Where % json.Length;
        int j = (edit.Where / 7) % json.Length;
        return edit.Kind switch
        {
            0 => json.Remove(i, 1),
            1 => json.Insert(i, edit.Character.ToString()),
            2 => string.Concat(json.AsSpan(0, i), edit.Character.ToString(), json.AsSpan(i + 1)),
            _ => Swap(json, i, j),
        };
    }

    private static string Swap(string json, int i, int j)
    {
        var characters = json.ToCharArray();
        (characters[i], characters[j]) = (characters[j], characters[i]);
        return new string(characters);
    }
}
