namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// The rebirth request (Sparkplug 3.0.0, section 6.4.12 and 5.13): an NCMD to the edge node whose metric
/// <see cref="SparkplugMetricNames.NodeControlRebirth"/> is true, named (never by alias, so a host that missed the birth
/// can ask). The edge node answers with a new NBIRTH and all its DBIRTHs, same bdSeq, seq from 0.
/// </summary>
public static class SparkplugRebirth
{
    /// <summary>The request to <paramref name="groupId"/>/<paramref name="edgeNodeId"/>, sent at <paramref name="now"/>.</summary>
    public static SparkplugMessage Request(string groupId, string edgeNodeId, DateTimeOffset now)
    {
        var payload = new SparkplugPayload
        {
            Timestamp = now,
            Metrics = [SparkplugMetric.Boolean(SparkplugMetricNames.NodeControlRebirth, true) with { Timestamp = now }],
        };
        return new(SparkplugTopic.ForNode(SparkplugMessageType.NCmd, groupId, edgeNodeId), SparkplugCodec.Encode(payload));
    }

    /// <summary>Whether <paramref name="payload"/> (of an NCMD) asks for a rebirth.</summary>
    public static bool IsRequest(SparkplugPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return payload.Metrics.Any(m => m.Name == SparkplugMetricNames.NodeControlRebirth && m.TryGetBoolean(out bool rebirth) && rebirth);
    }
}
