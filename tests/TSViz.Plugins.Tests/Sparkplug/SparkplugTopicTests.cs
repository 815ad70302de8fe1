using TSViz.Plugins.Sparkplug;

namespace TSViz.Plugins.Tests.Sparkplug;

public sealed class SparkplugTopicTests
{
    [Theory]
    [InlineData("spBv1.0/line1/NBIRTH/gw1", SparkplugMessageType.NBirth, null)]
    [InlineData("spBv1.0/line1/NDEATH/gw1", SparkplugMessageType.NDeath, null)]
    [InlineData("spBv1.0/line1/NDATA/gw1", SparkplugMessageType.NData, null)]
    [InlineData("spBv1.0/line1/NCMD/gw1", SparkplugMessageType.NCmd, null)]
    [InlineData("spBv1.0/line1/DBIRTH/gw1/press7", SparkplugMessageType.DBirth, "press7")]
    [InlineData("spBv1.0/line1/DDEATH/gw1/press7", SparkplugMessageType.DDeath, "press7")]
    [InlineData("spBv1.0/line1/DDATA/gw1/press7", SparkplugMessageType.DData, "press7")]
    [InlineData("spBv1.0/line1/DCMD/gw1/press7", SparkplugMessageType.DCmd, "press7")]
    public void TryParse_NodeAndDeviceTopics_ReadsTheirPartsAndFormatsBack(string topic, SparkplugMessageType type, string? device)
    {
        Assert.True(SparkplugTopic.TryParse(topic, out var parsed, out string? error), error);
        Assert.Equal(type, parsed.MessageType);
        Assert.Equal("line1", parsed.GroupId);
        Assert.Equal("gw1", parsed.EdgeNodeId);
        Assert.Equal(device, parsed.DeviceId);
        Assert.Equal(device is not null, parsed.IsDeviceMessage);
        Assert.Equal(topic, parsed.ToString());
    }

    [Fact]
    public void TryParse_State_ReadsTheHost()
    {
        Assert.True(SparkplugTopic.TryParse("spBv1.0/STATE/scada1", out var parsed, out _));
        Assert.Equal(SparkplugMessageType.State, parsed.MessageType);
        Assert.Equal("scada1", parsed.HostId);
        Assert.Null(parsed.GroupId);
        Assert.Equal(SparkplugTopic.ForState("scada1"), parsed);
        Assert.Equal("spBv1.0/STATE/scada1", parsed.ToString());
    }

    [Theory]
    [InlineData("spAv1.0/line1/NBIRTH/gw1", "namespace")]
    [InlineData("plant/line1/m7/telemetry", "namespace")]
    [InlineData("spBv1.0/line1/NBIRTH", "levels")]
    [InlineData("spBv1.0/line1/DDATA/gw1/press7/extra", "levels")]
    [InlineData("spBv1.0/line1/NBIRTH/gw1/press7", "takes no device id")]
    [InlineData("spBv1.0/line1/DDATA/gw1", "needs a device id")]
    [InlineData("spBv1.0/line1/ndata/gw1", "not a Sparkplug message type")]
    [InlineData("spBv1.0/line1/STATE/gw1", "not a Sparkplug message type")]
    [InlineData("spBv1.0//NDATA/gw1", "group id is empty")]
    [InlineData("spBv1.0/line1/NDATA/", "edge node id is empty")]
    [InlineData("spBv1.0/line1/DDATA/gw1/+", "device id")]
    [InlineData("spBv1.0/li#ne1/NDATA/gw1", "group id")]
    [InlineData("spBv1.0/STATE/", "host id is empty")]
    public void TryParse_NotASparkplugTopic_SaysWhy(string topic, string why)
    {
        Assert.False(SparkplugTopic.TryParse(topic, out var parsed, out string? error));
        Assert.Null(parsed);
        Assert.Contains(why, error, StringComparison.Ordinal);
    }

    [Fact]
    public void ForNodeAndForDevice_WrongTypeOrBadId_Throw()
    {
        Assert.Throws<ArgumentException>(() => SparkplugTopic.ForNode(SparkplugMessageType.DData, "g", "e"));
        Assert.Throws<ArgumentException>(() => SparkplugTopic.ForDevice(SparkplugMessageType.NData, "g", "e", "d"));
        Assert.Throws<ArgumentException>(() => SparkplugTopic.ForNode(SparkplugMessageType.NData, "g/h", "e"));
        Assert.Throws<ArgumentException>(() => SparkplugTopic.ForDevice(SparkplugMessageType.DData, "g", "e", ""));
    }

    [Theory]
    [InlineData("m7", "m7")]
    [InlineData("line1/gw1/press7", "line1%2Fgw1%2Fpress7")]
    [InlineData("a+b#c%d", "a%2Bb%23c%25d")]
    public void EscapeId_ReservedCharacters_AreEscapedToAValidId(string text, string id)
    {
        Assert.Equal(id, SparkplugTopic.EscapeId(text));
        Assert.True(SparkplugTopic.IsValidId(id));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(254, 255)]
    [InlineData(255, 0)]
    public void Next_Seq_CountsModulo256(byte seq, byte next)
    {
        Assert.Equal(next, SparkplugSequence.Next(seq));
        Assert.True(SparkplugSequence.Follows(seq, next));
        Assert.False(SparkplugSequence.Follows(seq, seq));
    }

    [Fact]
    public void IsValid_Seq_Is0To255()
    {
        Assert.True(SparkplugSequence.IsValid(0));
        Assert.True(SparkplugSequence.IsValid(255));
        Assert.False(SparkplugSequence.IsValid(256));
    }
}
