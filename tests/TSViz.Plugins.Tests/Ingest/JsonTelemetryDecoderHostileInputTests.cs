using System.Text;
using Microsoft.Extensions.Time.Testing;
using TSViz.Plugins.Ingest;
using static TSViz.Plugins.Tests.Ingest.TestDecoders;

namespace TSViz.Plugins.Tests.Ingest;

/// <summary>Issue 13: payloads and topics that once made <see cref="JsonTelemetryDecoder.Decode"/> throw, or might.</summary>
public sealed class JsonTelemetryDecoderHostileInputTests
{
    private const string Rest = "\"pressure\":1,\"temperature\":2,\"torque\":3";

    private static void AssertRejected(DecodeResult result, RejectionReason expected)
    {
        Assert.Equal(expected, result.Reason);
        Assert.Empty(result.Samples);
        Assert.False(string.IsNullOrWhiteSpace(result.Detail));
    }

    [Theory]
    [InlineData("{\"ts\":\"\\uD800\"," + Rest + "}")]
    [InlineData("{\"ts\":\"2026-11-26T01:59:59Z\\uDC00\\uD800\"," + Rest + "}")]
    [InlineData("{\"\\uD800\":1,\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + "}")]
    [InlineData("{\"ts\":\"2026-11-26T01:59:59Z\",\"pressure\":\"\\uDFFF\",\"temperature\":2,\"torque\":3}")]
    [InlineData("{\"samples\":[{\"ts\":\"2026-11-26T01:59:59Z\",\"pre\\uDBFFssure\":1}]}")]
    [InlineData("{\"sam\\uDC00ples\":[]}")]
    public void Decode_LoneSurrogateEscapeAnywhere_IsMalformedJson(string payload)
    {
        var result = Decode(payload);
        AssertRejected(result, RejectionReason.MalformedJson);
        Assert.Contains("not valid Unicode", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_SurrogatePairEscapeInAFieldName_IsReadAsThatCharacter()
    {
        var result = Decode("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + ",\"\\uD83D\\uDE00\":4}");
        AssertRejected(result, RejectionReason.UnknownChannel);
        Assert.Contains("\U0001F600", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // a surrogate encoded in UTF-8 (CESU-8)
    [InlineData(new byte[] { 0xC0, 0xAF })] // an overlong '/'
    [InlineData(new byte[] { 0xFF, 0xFE })]
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // beyond U+10FFFF
    public void Decode_InvalidUtf8InAFieldName_IsMalformedJsonNamingTheOffset(byte[] invalid)
    {
        byte[] payload = [.. "{\"ts\":\"2026-11-26T01:59:59Z\",\"x"u8, .. invalid, .. "\":1}"u8];
        var result = Create().Decode(Topic, payload);
        AssertRejected(result, RejectionReason.MalformedJson);
        Assert.Contains("offset 31", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\uFEFF{}")]
    [InlineData("{\"ts\":1} {\"ts\":2}")]
    [InlineData("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + "}x")]
    [InlineData("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + ",}")]
    [InlineData("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + "} // comment")]
    public void Decode_NotExactlyOneJsonValue_IsMalformedJson(string payload) => AssertRejected(Decode(payload), RejectionReason.MalformedJson);

    [Fact]
    public void Decode_OneObjectFollowedByWhitespace_IsAccepted()
        => Assert.Single(Decode("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + "}\r\n\t ").Samples);

    [Theory]
    [InlineData(1, RejectionReason.WrongType)]
    [InlineData(63, RejectionReason.WrongType)]
    [InlineData(64, RejectionReason.MalformedJson)] // with the root object, 65 levels: beyond the reader's depth of 64
    [InlineData(200, RejectionReason.MalformedJson)]
    public void Decode_DeeplyNestedChannelValue_IsRefusedByDepth(int depth, RejectionReason expected)
    {
        string nested = new string('[', depth) + new string(']', depth);
        AssertRejected(Decode("{\"ts\":\"2026-11-26T01:59:59Z\",\"pressure\":" + nested + ",\"temperature\":2,\"torque\":3}"), expected);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("1e308")]
    [InlineData("3.5e38")]
    [InlineData("-3.5e38")]
    public void Decode_NumberBeyondTheFloatRange_IsNonFiniteValue(string number)
        => AssertRejected(Decode("{\"ts\":\"2026-11-26T01:59:59Z\",\"pressure\":" + number + ",\"temperature\":2,\"torque\":3}"), RejectionReason.NonFiniteValue);

    [Theory]
    [InlineData("-0", -0f)]
    [InlineData("1e-400", 0f)]
    [InlineData("5e-324", 0f)]
    [InlineData("99999999999999999999999", 1e23f)]
    [InlineData("3.4028235e38", float.MaxValue)]
    public void Decode_ExtremeButFiniteNumber_IsAcceptedAsTheNearestFloat(string number, float expected)
    {
        var sample = Assert.Single(Decode("{\"ts\":\"2026-11-26T01:59:59Z\",\"pressure\":" + number + ",\"temperature\":2,\"torque\":3}").Samples);
        Assert.Equal(expected, sample.Values[0]);
        Assert.True(float.IsFinite(sample.Values[0]));
    }

    [Theory]
    [InlineData("253402300800000")] // one millisecond after DateTimeOffset.MaxValue
    [InlineData("9223372036854775807")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999999")]
    [InlineData("1e400")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("1764122400000.5")]
    [InlineData("\"01:59:59\"")] // a bare time of day once took its date from the machine's clock
    [InlineData("\"\"")]
    [InlineData("\"9999-12-31T23:59:59-14:00\"")] // beyond DateTimeOffset's range once made UTC
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("[]")]
    [InlineData("{}")]
    public void Decode_TimestampThatIsNoTime_IsWrongType(string ts)
        => AssertRejected(Decode("{\"ts\":" + ts + "," + Rest + "}"), RejectionReason.WrongType);

    [Fact]
    public void Decode_UnixMillisecondsAtDateTimeOffsetMaxValue_IsAFutureTimestampNotAnOverflow()
        => AssertRejected(Decode("{\"ts\":253402300799999," + Rest + "}"), RejectionReason.FutureTimestamp);

    [Theory]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("false")]
    [InlineData("\"1.5\"")]
    [InlineData("[1]")]
    [InlineData("{\"value\":1}")]
    public void Decode_ChannelOfAnotherType_IsWrongType(string value)
        => AssertRejected(Decode("{\"ts\":\"2026-11-26T01:59:59Z\",\"pressure\":" + value + ",\"temperature\":2,\"torque\":3}"), RejectionReason.WrongType);

    [Theory]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("\"samples\"")]
    [InlineData("3")]
    public void Decode_SamplesThatIsNoArray_IsWrongType(string samples) => AssertRejected(Decode("{\"samples\":" + samples + "}"), RejectionReason.WrongType);

    [Theory]
    [InlineData("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + ",\"pressure\":1}", "pressure")]
    [InlineData("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + ",\"ts\":\"2026-11-26T01:59:58Z\"}", "ts")]
    [InlineData("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + ",\"t\\u0073\":\"2026-11-26T01:59:58Z\"}", "ts")]
    [InlineData("{\"samples\":[{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + "}],\"samples\":[]}", "samples")]
    [InlineData("{\"samples\":[{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + ",\"torque\":4}]}", "torque")]
    public void Decode_FieldTwiceInOneObject_IsDuplicateFieldNotLastWins(string payload, string field)
    {
        var result = Decode(payload);
        AssertRejected(result, RejectionReason.DuplicateField);
        Assert.Contains($"\"{field}\" appears more than once", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_BatchOfThousandsOfSamples_ReturnsEveryOneInOrder()
    {
        var samples = Enumerable.Range(0, 2500).Select(i => SampleJson(Now.AddSeconds(-2500 + i), pressure: i));
        var result = Decode("{\"samples\":[" + string.Join(',', samples) + "]}");
        Assert.Null(result.Reason);
        Assert.Equal(2500, result.Samples.Count);
        Assert.Equal(2499f, result.Samples[^1].Values[0]);
    }

    [Fact]
    public void Decode_BatchOfThousandsWithTheLastSampleBad_IsRejectedWholeNamingIt()
    {
        var samples = Enumerable.Range(0, 2500).Select(i => SampleJson(Now.AddSeconds(-2500 + i))).Append("{\"ts\":null}");
        var result = Decode("{\"samples\":[" + string.Join(',', samples) + "]}");
        AssertRejected(result, RejectionReason.WrongType);
        Assert.StartsWith("samples[2500]: ", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/")]
    [InlineData("///")]
    [InlineData("plant/line1/m7/telemetry/")]
    [InlineData("/plant/line1/m7/telemetry")]
    [InlineData("plant/line1/+/telemetry")]
    [InlineData("plant/line1/#/telemetry")]
    [InlineData("plant/line1/m#7/telemetry")]
    public void Decode_TopicWithoutAPlainMachineId_IsUnexpectedTopic(string topic)
    {
        var result = Decode("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + "}", topic);
        AssertRejected(result, RejectionReason.UnexpectedTopic);
        Assert.True(IsWellFormed(result.Detail!), result.Detail);
    }

    [Fact]
    public void Decode_MachineIdWithALoneSurrogate_IsUnexpectedTopicWithAWellFormedDetail()
    {
        // Not an InlineData: xunit would carry the lone surrogate through UTF-8 and hand over U+FFFD instead.
        var result = Decode("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + "}", "plant/line1/m\uD800/telemetry");
        AssertRejected(result, RejectionReason.UnexpectedTopic);
        Assert.True(IsWellFormed(result.Detail!), result.Detail);
        Assert.Contains("m\uFFFD", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_NullTopic_IsUnexpectedTopic() => AssertRejected(Create().Decode(null!, "{}"u8), RejectionReason.UnexpectedTopic);

    [Fact]
    public void Decode_VeryLongTopic_IsRejectedWithAShortDetail()
    {
        var result = Decode("{}", "plant/line1/" + new string('m', 100_000) + "/telemetry/x");
        AssertRejected(result, RejectionReason.UnexpectedTopic);
        Assert.True(result.Detail!.Length < 500, $"{result.Detail.Length} characters");
    }

    [Fact]
    public void Decode_VeryLongMachineId_IsAccepted()
    {
        string machine = new('m', 10_000);
        var sample = Assert.Single(Decode("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + "}", $"plant/line1/{machine}/telemetry").Samples);
        Assert.Equal("line1/" + machine, sample.Machine);
    }

    [Fact]
    public void Decode_HugeWrongValue_IsQuotedShortInTheDetail()
    {
        string huge = "[" + string.Join(',', Enumerable.Repeat("1", 50_000)) + "]";
        var result = Decode("{\"ts\":\"2026-11-26T01:59:59Z\",\"pressure\":" + huge + ",\"temperature\":2,\"torque\":3}");
        AssertRejected(result, RejectionReason.WrongType);
        Assert.True(result.Detail!.Length < 500, $"{result.Detail.Length} characters");
    }

    [Fact]
    public void Decode_RandomBinaryGarbage_IsRejected()
    {
        var random = new Random(13);
        var decoder = Create();
        for (int i = 0; i < 1000; i++)
        {
            var payload = new byte[random.Next(1, 512)];
            random.NextBytes(payload);
            Assert.True(decoder.Decode(Topic, payload).IsRejected);
        }
    }

    [Fact]
    public void Decode_FailureNoCaseAnticipated_IsDecoderFailureNamingTheException()
    {
        var result = Create(new BrokenClock()).Decode(Topic, Encoding.UTF8.GetBytes("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + "}"));
        AssertRejected(result, RejectionReason.DecoderFailure);
        Assert.Contains("System.InvalidOperationException", result.Detail, StringComparison.Ordinal);
        Assert.Contains("the clock is broken", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_AfterADecoderFailure_TheNextMessageIsDecoded()
    {
        var clock = new BrokenClock();
        var decoder = Create(clock);
        Assert.Equal(RejectionReason.DecoderFailure, decoder.Decode(Topic, Encoding.UTF8.GetBytes("{\"ts\":1," + Rest + "}")).Reason);
        clock.Broken = false;
        Assert.Single(decoder.Decode(Topic, Encoding.UTF8.GetBytes("{\"ts\":\"2026-11-26T01:59:59Z\"," + Rest + "}")).Samples);
    }

    private sealed class BrokenClock : FakeTimeProvider
    {
        public BrokenClock()
            : base(Now)
        {
        }

        public bool Broken { get; set; } = true;

        public override DateTimeOffset GetUtcNow() => Broken ? throw new InvalidOperationException("the clock is broken") : base.GetUtcNow();
    }
}
