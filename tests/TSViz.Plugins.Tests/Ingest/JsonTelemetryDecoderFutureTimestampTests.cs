using System.Text;
using Microsoft.Extensions.Time.Testing;
using TSViz.Plugins.Ingest;
using static TSViz.Plugins.Tests.Ingest.TestDecoders;

namespace TSViz.Plugins.Tests.Ingest;

/// <summary>Issue 13, part 5: a sample stamped ahead of the monitor's clock must not lock the machine's real samples out.</summary>
public sealed class JsonTelemetryDecoderFutureTimestampTests
{
    private static DecodeResult DecodeAt(JsonTelemetryDecoder decoder, DateTimeOffset at) => decoder.Decode(Topic, Encoding.UTF8.GetBytes(SampleJson(at)));

    [Fact]
    public void Decode_SampleADayLessAnHourAhead_IsFutureTimestampNamingBothTimesAndTheSkew()
    {
        var at = Now.AddHours(23);
        var result = DecodeAt(Create(), at);
        Assert.Equal(RejectionReason.FutureTimestamp, result.Reason);
        Assert.Empty(result.Samples);
        Assert.Contains(at.ToString("O"), result.Detail, StringComparison.Ordinal);
        Assert.Contains(Now.ToString("O"), result.Detail, StringComparison.Ordinal);
        Assert.Contains("00:00:05", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_SampleExactlyMaxFutureSkewAhead_IsAccepted()
        => Assert.Single(DecodeAt(Create(), Now.AddSeconds(5)).Samples);

    [Fact]
    public void Decode_SampleJustBeyondMaxFutureSkew_IsFutureTimestamp()
        => Assert.Equal(RejectionReason.FutureTimestamp, DecodeAt(Create(), Now.AddSeconds(5).AddMilliseconds(1)).Reason);

    [Fact]
    public void Decode_UnixMillisecondsAhead_IsFutureTimestamp()
    {
        long ms = Now.AddMinutes(1).ToUnixTimeMilliseconds();
        var result = Create().Decode(Topic, Encoding.UTF8.GetBytes($$"""{"ts":{{ms}},"pressure":1,"temperature":2,"torque":3}"""));
        Assert.Equal(RejectionReason.FutureTimestamp, result.Reason);
    }

    [Fact]
    public void Decode_BatchWithOneSampleAhead_IsRejectedWhole()
    {
        string batch = $"{{\"samples\":[{SampleJson(Now.AddSeconds(-2))},{SampleJson(Now.AddHours(1))},{SampleJson(Now.AddSeconds(-1))}]}}";
        var result = Create().Decode(Topic, Encoding.UTF8.GetBytes(batch));
        Assert.Equal(RejectionReason.FutureTimestamp, result.Reason);
        Assert.Empty(result.Samples);
        Assert.StartsWith("samples[1]: ", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_OnceTheClockCatchesUp_TheSameSampleIsAccepted()
    {
        var clock = new FakeTimeProvider(Now);
        var decoder = Create(clock);
        var at = Now.AddMinutes(10);
        Assert.Equal(RejectionReason.FutureTimestamp, DecodeAt(decoder, at).Reason);
        clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(3));
        Assert.Single(DecodeAt(decoder, at).Samples);
    }

    [Fact]
    public void Decode_WiderMaxFutureSkew_IsHonoured()
    {
        var decoder = Create(maxFutureSkew: TimeSpan.FromMinutes(2));
        Assert.Single(DecodeAt(decoder, Now.AddSeconds(90)).Samples);
        Assert.Equal(RejectionReason.FutureTimestamp, DecodeAt(decoder, Now.AddSeconds(150)).Reason);
    }

    [Fact]
    public void Decode_ZeroMaxFutureSkew_AcceptsTheMonitorsNowButNothingLater()
    {
        var decoder = Create(maxFutureSkew: TimeSpan.Zero);
        Assert.Single(DecodeAt(decoder, Now).Samples);
        Assert.Equal(RejectionReason.FutureTimestamp, DecodeAt(decoder, Now.AddMilliseconds(1)).Reason);
    }

    [Fact]
    public void Decode_PastTimestamps_KeepTheMaxClockSkewRule()
    {
        var decoder = Create();
        Assert.Single(DecodeAt(decoder, Now.AddHours(-23)).Samples);
        Assert.Equal(RejectionReason.AbsurdTimestamp, DecodeAt(decoder, Now.AddDays(-1).AddMilliseconds(-1)).Reason);
    }

    [Fact]
    public void Constructor_NegativeMaxFutureSkew_IsRefused()
        => Assert.Throws<ArgumentOutOfRangeException>(() => Create(maxFutureSkew: TimeSpan.FromSeconds(-1)));
}
