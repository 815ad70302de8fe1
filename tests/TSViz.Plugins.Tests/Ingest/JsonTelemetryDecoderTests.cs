using System.Text;
using Microsoft.Extensions.Time.Testing;
using TSViz.Plugins.Ingest;

namespace TSViz.Plugins.Tests.Ingest;

public sealed class JsonTelemetryDecoderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 2, 0, 0, TimeSpan.Zero);

    private static JsonTelemetryDecoder Decoder(int maxBytes = 4096) => new(
        new JsonDecoderSettings { Channels = ["pressure", "temperature", "torque"], MaxPayloadBytes = maxBytes },
        new FakeTimeProvider(Now));

    private static DecodeResult Decode(string payload, string topic = "plant/line1/m7/telemetry", int maxBytes = 4096)
        => Decoder(maxBytes).Decode(topic, Encoding.UTF8.GetBytes(payload));

    [Fact]
    public void Decode_SingleSample_TakesMachineFromTopicAndOrdersChannelsAsTheModel()
    {
        var result = Decode("""{"torque": 12.5, "ts": "2026-11-26T01:59:59Z", "pressure": 1.2, "temperature": 80.1}""");
        var sample = Assert.Single(result.Samples);
        Assert.Null(result.Reason);
        Assert.Equal("line1/m7", sample.Machine); // every wildcard level of plant/{line}/{machine}/telemetry
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 1, 59, 59, TimeSpan.Zero), sample.Timestamp);
        Assert.Equal([1.2f, 80.1f, 12.5f], sample.Values);
    }

    [Fact]
    public void Decode_BatchWithUnixMilliseconds_ReturnsEverySample()
    {
        long ms = Now.ToUnixTimeMilliseconds();
        var result = Decode($$"""{"samples": [{"ts": {{ms}}, "pressure": 1, "temperature": 2, "torque": 3}, {"ts": {{ms + 100}}, "pressure": 4, "temperature": 5, "torque": 6}]}""");
        Assert.Equal(2, result.Samples.Count);
        Assert.Equal([4f, 5f, 6f], result.Samples[1].Values);
        Assert.Equal(Now.AddMilliseconds(100), result.Samples[1].Timestamp);
    }

    [Fact]
    public void Decode_TimestampWithAnOffset_IsTheSameInstantInUtc()
    {
        var sample = Assert.Single(Decode("""{"ts": "2026-11-26T03:59:59+02:00", "pressure": 1, "temperature": 2, "torque": 3}""").Samples);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 1, 59, 59, TimeSpan.Zero), sample.Timestamp);
        Assert.Equal(TimeSpan.Zero, sample.Timestamp.Offset);
    }

    [Theory]
    [InlineData("{\"ts\": ", RejectionReason.MalformedJson)]
    [InlineData("[1, 2]", RejectionReason.WrongType)]
    [InlineData("{\"ts\": \"2026-11-26T01:59:59Z\", \"pressure\": \"high\", \"temperature\": 2, \"torque\": 3}", RejectionReason.WrongType)]
    [InlineData("{\"ts\": \"2026-11-26T01:59:59Z\", \"pressure\": 1, \"temperature\": 2}", RejectionReason.MissingChannel)]
    [InlineData("{\"ts\": \"2026-11-26T01:59:59Z\", \"pressure\": 1, \"temperature\": 2, \"torque\": 3, \"vibration\": 4}", RejectionReason.UnknownChannel)]
    [InlineData("{\"ts\": \"2026-11-26T01:59:59Z\", \"pressure\": \"NaN\", \"temperature\": 2, \"torque\": 3}", RejectionReason.NonFiniteValue)]
    [InlineData("{\"ts\": \"2026-11-26T01:59:59Z\", \"pressure\": 1e300, \"temperature\": 2, \"torque\": 3}", RejectionReason.NonFiniteValue)]
    [InlineData("{\"ts\": \"1970-01-01T00:00:00Z\", \"pressure\": 1, \"temperature\": 2, \"torque\": 3}", RejectionReason.AbsurdTimestamp)]
    [InlineData("{\"ts\": \"2099-01-01T00:00:00Z\", \"pressure\": 1, \"temperature\": 2, \"torque\": 3}", RejectionReason.FutureTimestamp)]
    [InlineData("{\"ts\": \"yesterday\", \"pressure\": 1, \"temperature\": 2, \"torque\": 3}", RejectionReason.WrongType)]
    [InlineData("{\"samples\": []}", RejectionReason.EmptyBatch)]
    [InlineData("{\"samples\": [{\"ts\": \"2026-11-26T01:59:59Z\", \"pressure\": 1, \"temperature\": 2, \"torque\": 3}, 7]}", RejectionReason.WrongType)]
    public void Decode_BadPayload_IsRejectedWithItsReason(string payload, RejectionReason expected)
    {
        var result = Decode(payload);
        Assert.Equal(expected, result.Reason);
        Assert.Empty(result.Samples);
        Assert.False(string.IsNullOrWhiteSpace(result.Detail));
    }

    [Fact]
    public void Decode_LoneLowSurrogateEscapeInTimestamp_IsRejectedInsteadOfThrowing()
    {
        // Issue 13: System.Text.Json accepts the escape while parsing but throws InvalidOperationException on reading the
        // string, and that exception used to escape Decode and stop the ingest loop.
        var result = Decode("""{"ts":"\uDC00","pressure":1,"temperature":2,"torque":3}""");
        Assert.Equal(RejectionReason.MalformedJson, result.Reason);
        Assert.Empty(result.Samples);
        Assert.Contains("ts", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_OversizePayload_IsRejectedUnread()
    {
        var result = Decode(new string(' ', 200) + "{}", maxBytes: 100);
        Assert.Equal(RejectionReason.OversizePayload, result.Reason);
    }

    [Theory]
    [InlineData("plant/line1/telemetry")]
    [InlineData("plant/line1/m7/status")]
    [InlineData("plant//m7/telemetry")]
    public void Decode_TopicOutsideThePattern_IsRejected(string topic)
    {
        var result = Decode("""{"ts": "2026-11-26T01:59:59Z", "pressure": 1, "temperature": 2, "torque": 3}""", topic);
        Assert.Equal(RejectionReason.UnexpectedTopic, result.Reason);
    }

    [Fact]
    public void SubscriptionFilter_ReplacesTheMachineSegment() => Assert.Equal("plant/+/+/telemetry", Decoder().SubscriptionFilter);
}
