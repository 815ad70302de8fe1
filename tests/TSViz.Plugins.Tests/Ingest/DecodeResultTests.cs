using TSViz.Plugins.Ingest;

namespace TSViz.Plugins.Tests.Ingest;

/// <summary>The decoder contract's optional parts: resets, commands and subscription filters.</summary>
public sealed class DecodeResultTests
{
    [Fact]
    public void DecodeResult_MadeAsBefore_HasNoResetsOrCommands()
    {
        var accepted = new DecodeResult([], null, null);
        var rejected = DecodeResult.Rejected(RejectionReason.MalformedJson, "bad");
        Assert.Empty(accepted.Resets);
        Assert.Empty(accepted.Commands);
        Assert.Empty(rejected.Resets);
        Assert.Empty(rejected.Commands);
        Assert.False(DecodeResult.Empty.IsRejected);
    }

    [Fact]
    public void JsonDecoder_Results_HaveNoResetsOrCommands()
    {
        var result = TestDecoders.Decode(TestDecoders.SampleJson(TestDecoders.Now.AddSeconds(-1)));
        Assert.Single(result.Samples);
        Assert.Empty(result.Resets);
        Assert.Empty(result.Commands);
    }

    [Fact]
    public void SubscriptionFilters_JsonDecoder_IsItsTopicPatternsFilter()
    {
        ISampleDecoder decoder = TestDecoders.Create();
        Assert.Equal(["plant/+/+/telemetry"], decoder.SubscriptionFilters);
    }

    [Fact]
    public void SubscriptionFilters_NotImplemented_IsEmpty()
    {
        ISampleDecoder decoder = new FixedDecoder();
        Assert.Empty(decoder.SubscriptionFilters);
    }

    private sealed class FixedDecoder : ISampleDecoder
    {
        public DecodeResult Decode(string topic, ReadOnlySpan<byte> payload) => DecodeResult.Empty;
    }
}
