namespace TSViz.Monitor.Settings;

/// <summary>
/// Monitor:Sparkplug:Output: the monitor as a Sparkplug B edge node (docs/sparkplug.md, "Sparkplug B output"), one device per
/// machine, whose metrics are its latest explanation.
/// </summary>
public sealed class SparkplugOutputSettings
{
    /// <summary>Publish the results as Sparkplug B too (besides the tsviz/v1 topics).</summary>
    public bool Enabled { get; set; }

    /// <summary>The Sparkplug group of the monitor's edge node.</summary>
    public string GroupId { get; set; } = "tsviz";

    /// <summary>The edge node id; null or empty: Mqtt:ClientId.</summary>
    public string? EdgeNodeId { get; set; }

    /// <summary>The edge node id in effect: <see cref="EdgeNodeId"/>, else the MQTT client id.</summary>
    public string EdgeNode(MqttSettings mqtt)
    {
        ArgumentNullException.ThrowIfNull(mqtt);
        return string.IsNullOrEmpty(EdgeNodeId) ? mqtt.ClientId : EdgeNodeId;
    }
}
