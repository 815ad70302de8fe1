namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// One edge node's session as the decoder follows it: its NBIRTH (node metrics, bdSeq), the seq of its last message,
/// and the devices born since that NBIRTH.
/// </summary>
internal sealed class EdgeNodeSession(string groupId, string edgeNodeId, BornSource node, ulong? bdSeq, byte seq)
{
    public string GroupId { get; } = groupId;

    public string EdgeNodeId { get; } = edgeNodeId;

    public BornSource Node { get; } = node;

    /// <summary>The bdSeq of the NBIRTH (null when it had none): only an NDEATH with the same one ends this session.</summary>
    public ulong? BdSeq { get; } = bdSeq;

    /// <summary>The seq of the edge node's last message (nodes and devices share it).</summary>
    public byte LastSeq { get; set; } = seq;

    public Dictionary<string, BornSource> Devices { get; } = new(StringComparer.Ordinal);

    /// <summary>The node and its devices that are machines (their births declare channel metrics).</summary>
    public IEnumerable<BornSource> MonitoredSources => Devices.Values.Prepend(Node).Where(s => s.Monitored);
}
