namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// A Sparkplug message to publish: topic, encoded payload and how (Sparkplug 3.0.0: births, data, commands and DDEATH at
/// QoS 0, not retained; the NDEATH will at QoS 1, not retained).
/// </summary>
/// <param name="Topic">Where to publish it.</param>
/// <param name="Payload">The encoded Sparkplug B payload, as it goes on the wire.</param>
/// <param name="QualityOfService">The MQTT QoS: 0, or 1 for the NDEATH.</param>
/// <param name="Retain">Whether the broker retains it: never, for the messages an edge node sends.</param>
public sealed record SparkplugMessage(SparkplugTopic Topic, ReadOnlyMemory<byte> Payload, int QualityOfService = 0, bool Retain = false)
{
    /// <summary>The topic as a string.</summary>
    public string TopicName => Topic.ToString();
}
