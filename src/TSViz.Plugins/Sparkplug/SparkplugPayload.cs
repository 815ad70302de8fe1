namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// A Sparkplug B payload: when it was sent, its sequence number (0-255; none in NDEATH) and its metrics. Encode and
/// decode it with <see cref="SparkplugCodec"/>.
/// </summary>
public sealed record SparkplugPayload
{
    /// <summary>When the message was sent (UTC, millisecond precision on the wire).</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>The sequence number, 0-255 (<see cref="SparkplugSequence"/>); as read, whatever the sender wrote.</summary>
    public ulong? Seq { get; init; }

    /// <summary>An optional identifier of the payload's schema.</summary>
    public string? Uuid { get; init; }

    /// <summary>
    /// The metrics, in wire order (empty by default): a birth names all of them, a data message only those that
    /// changed, possibly by alias.
    /// </summary>
    public IReadOnlyList<SparkplugMetric> Metrics { get; init; } = [];
}
