namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// A Sparkplug message to publish: topic, encoded payload and how (Sparkplug 3.0.0: births, data, commands and DDEATH at
/// QoS 0, not retained; the NDEATH will at QoS 1, not retained).
/// </summary>
public sealed record SparkplugMessage(SparkplugTopic Topic, ReadOnlyMemory<byte> Payload, int QualityOfService = 0, bool Retain = false)
{
    /// <summary>The topic as a string.</summary>
    public string TopicName => Topic.ToString();
}
