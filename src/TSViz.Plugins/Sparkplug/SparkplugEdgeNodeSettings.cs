namespace TSViz.Plugins.Sparkplug;

/// <summary>Settings of <see cref="SparkplugEdgeNode"/>: who the monitor is in the Sparkplug namespace, and its model.</summary>
public sealed record SparkplugEdgeNodeSettings
{
    /// <summary>The Sparkplug group the monitor's edge node belongs to.</summary>
    public required string GroupId { get; init; }

    /// <summary>The monitor's edge node id, unique in the group.</summary>
    public required string EdgeNodeId { get; init; }

    /// <summary>The model's name, published in the NBIRTH.</summary>
    public required string ModelName { get; init; }

    /// <summary>The model's version, published in the NBIRTH.</summary>
    public required string ModelVersion { get; init; }

    /// <summary>The model's channels: each device has one contribution metric per channel.</summary>
    public required IReadOnlyList<string> Channels { get; init; }

    /// <summary>
    /// The bdSeq of the first session (0 by the specification). A monitor that keeps its last bdSeq across restarts
    /// starts from the one after it, so a late will of the previous process cannot be taken for the new session's.
    /// </summary>
    public byte InitialBdSeq { get; init; }

    /// <summary>Checks the settings; the message names the setting and what it accepts.</summary>
    internal void Validate()
    {
        if (!SparkplugTopic.IsValidId(GroupId) || !SparkplugTopic.IsValidId(EdgeNodeId))
        {
            throw new ArgumentException($"GroupId ('{GroupId}') and EdgeNodeId ('{EdgeNodeId}') must be Sparkplug ids: non-empty, without '+', '/' or '#'.");
        }

        if (string.IsNullOrEmpty(ModelName) || string.IsNullOrEmpty(ModelVersion))
        {
            throw new ArgumentException("ModelName and ModelVersion must not be empty.");
        }

        if (Channels is null || Channels.Count == 0 || Channels.Any(string.IsNullOrEmpty) || Channels.Distinct(StringComparer.Ordinal).Count() != Channels.Count)
        {
            throw new ArgumentException($"Channels ({string.Join(", ", Channels ?? [])}) must name at least one channel, each once.", nameof(Channels));
        }
    }
}
