using System.Reflection;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using TSViz.Plugins.Ingest;

namespace TSViz.Plugins.Tests.Ingest;

/// <summary>
/// Issue 13: <see cref="JsonTelemetryDecoder.Decode"/> returns a result for any topic and payload. Ten properties of
/// <see cref="PayloadsPerProperty"/> generated payloads each: 100,000 payloads a run, each family of
/// <see cref="TelemetryPayloads"/> getting its share.
/// </summary>
public sealed class JsonTelemetryDecoderPropertyTests
{
    private const int PayloadsPerProperty = 10_000;

    private static readonly JsonTelemetryDecoder Decoder = TestDecoders.Create();

    [Property(MaxTest = PayloadsPerProperty, QuietOnSuccess = true)]
    public Property Decode_InvalidUtf8_IsMalformedJson()
        => Prop.ForAll(Arb.From(TelemetryPayloads.WithInvalidUtf8), payload => Assert.Equal(RejectionReason.MalformedJson, Decode(payload).Reason));

    [Property(MaxTest = PayloadsPerProperty, QuietOnSuccess = true)]
    public Property Decode_LoneSurrogateEscapes_ReturnsAResult()
        => Prop.ForAll(Arb.From(TelemetryPayloads.WithLoneSurrogates), payload => Decode(payload));

    [Property(MaxTest = PayloadsPerProperty, QuietOnSuccess = true)]
    public Property Decode_DeepNesting_ReturnsAResult()
        => Prop.ForAll(Arb.From(TelemetryPayloads.WithDeepNesting), payload => Decode(payload));

    [Property(MaxTest = PayloadsPerProperty, QuietOnSuccess = true)]
    public Property Decode_ExtremeNumbers_AcceptsOnlyFiniteFloats()
        => Prop.ForAll(Arb.From(TelemetryPayloads.WithExtremeNumbers), payload => Decode(payload));

    [Property(MaxTest = PayloadsPerProperty, QuietOnSuccess = true)]
    public Property Decode_DuplicateKeys_IsDuplicateField()
        => Prop.ForAll(Arb.From(TelemetryPayloads.WithDuplicateKeys), payload => Assert.Equal(RejectionReason.DuplicateField, Decode(payload).Reason));

    [Property(MaxTest = PayloadsPerProperty, QuietOnSuccess = true)]
    public Property Decode_WrongTypes_IsRejected()
        => Prop.ForAll(Arb.From(TelemetryPayloads.WithWrongTypes), payload => Assert.True(Decode(payload).IsRejected));

    [Property(MaxTest = PayloadsPerProperty, QuietOnSuccess = true)]
    public Property Decode_MutatedMessages_ReturnsAResult()
        => Prop.ForAll(Arb.From(TelemetryPayloads.Mutated), payload => Decode(payload));

    [Property(MaxTest = PayloadsPerProperty, QuietOnSuccess = true)]
    public Property Decode_TruncatedMessages_IsMalformedJson()
        => Prop.ForAll(Arb.From(TelemetryPayloads.Truncated), payload => Assert.Equal(RejectionReason.MalformedJson, Decode(payload).Reason));

    [Property(MaxTest = PayloadsPerProperty, QuietOnSuccess = true)]
    public Property Decode_RandomBytes_ReturnsAResult()
        => Prop.ForAll(Arb.From(TelemetryPayloads.RandomBytes), payload => Decode(payload));

    [Property(MaxTest = PayloadsPerProperty, QuietOnSuccess = true)]
    public Property Decode_OddTopics_AcceptOnlyThePatternsMachine()
        => Prop.ForAll(Arb.From(TelemetryPayloads.OnOddTopics), payload => Decode(payload));

    [Fact]
    public void Properties_GenerateAtLeastAHundredThousandPayloads()
    {
        int total = typeof(JsonTelemetryDecoderPropertyTests).GetMethods()
            .Select(m => m.GetCustomAttribute<PropertyAttribute>())
            .Sum(p => p?.MaxTest ?? 0);
        Assert.Equal(100_000, total);
    }

    [Fact]
    public void Generators_ProduceAcceptedMessagesToo()
    {
        // The properties above check accepted results as well, which is only worth something if some are accepted.
        var accepted = TelemetryPayloads.ValidMessage.Sample(200)
            .Count(json => !Decode(new TelemetryPayload(TestDecoders.Topic, json)).IsRejected);
        Assert.InRange(accepted, 50, 200);
    }

    /// <summary>
    /// Decodes and checks what holds for every payload: no exception, a rejection with a reason (other than the
    /// last resort) and a non-empty, well-formed detail and no samples, or samples of the topic's machine with one finite value per channel and a
    /// time inside the allowed skews.
    /// </summary>
    private static DecodeResult Decode(TelemetryPayload payload)
    {
        var result = Decoder.Decode(payload.Topic, payload.Bytes);
        if (result.IsRejected)
        {
            Assert.True(Enum.IsDefined(result.Reason!.Value), $"undefined reason {result.Reason}");

            // The last-resort guard keeps Decode from throwing; every case generated here is anticipated, so it must
            // not be what refused the payload.
            Assert.True(result.Reason != RejectionReason.DecoderFailure, result.Detail);
            Assert.False(string.IsNullOrWhiteSpace(result.Detail), "a rejection without a detail");
            Assert.True(TestDecoders.IsWellFormed(result.Detail), $"a detail that is not well-formed UTF-16: {result.Detail}");
            Assert.Empty(result.Samples);
            return result;
        }

        Assert.Null(result.Detail);
        Assert.NotEmpty(result.Samples);
        var topic = payload.Topic.Split('/');
        Assert.Equal(4, topic.Length);
        Assert.Equal("plant", topic[0]);
        Assert.Equal("telemetry", topic[3]);
        foreach (var sample in result.Samples)
        {
            Assert.Equal($"{topic[1]}/{topic[2]}", sample.Machine);
            Assert.True(TestDecoders.IsWellFormed(sample.Machine), "a machine id that is not well-formed UTF-16");
            Assert.Equal(TestDecoders.Channels.Length, sample.Values.Length);
            Assert.All(sample.Values, v => Assert.True(float.IsFinite(v), $"{v} accepted"));
            Assert.InRange(sample.Timestamp, TestDecoders.Now.AddDays(-1), TestDecoders.Now.AddSeconds(5));
        }

        return result;
    }
}
