using TSViz.Monitor.Live;
using TSViz.Monitor.MqttSecurity;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Tests.MqttSecurity;

/// <summary>The embedded broker's rules for the Sparkplug B output (docs/sparkplug.md, "Sparkplug B output").</summary>
public sealed class BrokerAccessPolicySparkplugTests
{
    private static readonly MqttSettings Mqtt = new() { ClientId = "tsviz-monitor" };

    [Theory]
    [InlineData("spBv1.0/tsviz/NBIRTH/tsviz-monitor", true)]
    [InlineData("spBv1.0/tsviz/NDEATH/tsviz-monitor", true)]
    [InlineData("spBv1.0/tsviz/DBIRTH/tsviz-monitor/line1%2Fm1", true)]
    [InlineData("spBv1.0/tsviz/DDATA/tsviz-monitor/line1%2Fm1", true)]
    [InlineData("spBv1.0/tsviz/NCMD/tsviz-monitor", false)]
    [InlineData("spBv1.0/tsviz/DDATA/other-node/m1", false)]
    [InlineData("spBv1.0/other/DDATA/tsviz-monitor/m1", false)]
    public void MayPublish_OutputOn_MonitorPublishesItsOwnEdgeNodeOnly(string topic, bool allowed)
    {
        var policy = new BrokerAccessPolicy(Mqtt, new EmbeddedBrokerSecrets(), new SparkplugSettings { Output = new() { Enabled = true } });
        Assert.Equal(allowed, policy.MayPublish(BrokerRole.Monitor, topic));
        Assert.Equal(!allowed, policy.MayPublish(BrokerRole.Anonymous, topic)); // nobody else speaks for the monitor's edge node
        Assert.False(policy.MayPublish(BrokerRole.Gateway, topic));
    }

    [Fact]
    public void MaySubscribe_OutputOn_MonitorItsCommandsAndViewersTheNamespace()
    {
        var policy = new BrokerAccessPolicy(Mqtt, new EmbeddedBrokerSecrets(), new SparkplugSettings { Output = new() { Enabled = true, EdgeNodeId = "node1" } });
        Assert.True(policy.MaySubscribe(BrokerRole.Monitor, "spBv1.0/tsviz/NCMD/node1"));
        Assert.False(policy.MaySubscribe(BrokerRole.Monitor, "spBv1.0/#"));
        Assert.True(policy.MaySubscribe(BrokerRole.Viewer, "spBv1.0/#"));
        Assert.True(policy.MayPublish(BrokerRole.Monitor, "spBv1.0/tsviz/NBIRTH/node1"));
    }

    [Fact]
    public void Rules_OutputOff_NoSparkplugForMonitorOrViewers()
    {
        var policy = new BrokerAccessPolicy(Mqtt, new EmbeddedBrokerSecrets(), new SparkplugSettings());
        Assert.False(policy.MayPublish(BrokerRole.Monitor, "spBv1.0/tsviz/NBIRTH/tsviz-monitor"));
        Assert.False(policy.MaySubscribe(BrokerRole.Monitor, "spBv1.0/tsviz/NCMD/tsviz-monitor"));
        Assert.False(policy.MaySubscribe(BrokerRole.Viewer, "spBv1.0/#"));
    }
}
