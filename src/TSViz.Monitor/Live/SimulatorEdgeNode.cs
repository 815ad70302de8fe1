using TSViz.Plugins.Sparkplug;

namespace TSViz.Monitor.Live;

/// <summary>
/// The simulator as a Sparkplug B edge node (`simulate --sparkplug`): edge node "sim" in its group, one device per
/// simulated machine (m1..mN) with the Double metrics pressure, temperature and torque. It makes the messages and
/// numbers them; the simulator publishes them in the order made.
/// </summary>
/// <remarks>
/// NDEATH (bdSeq) as the will, then NBIRTH (seq 0, bdSeq, Node Control/Rebirth false) and a DBIRTH per device, then a
/// DDATA per sample with the sample's time on each metric; seq runs 1..255, 0, ... An NCMD with Node Control/Rebirth
/// true asks for the births again (seq from 0). The bdSeq is 0 for the process's one connection.
/// </remarks>
internal sealed class SimulatorEdgeNode
{
    public const string EdgeNodeId = "sim";

    private static readonly string[] Metrics = ["pressure", "temperature", "torque"];

    private readonly string group;
    private byte seq;

    public SimulatorEdgeNode(string group)
    {
        if (!SparkplugTopic.IsValidId(group))
        {
            throw new ArgumentException($"The Sparkplug group '{group}' must be non-empty, without '+', '/' or '#'.", nameof(group));
        }

        this.group = group;
        CommandTopic = SparkplugTopic.ForNode(SparkplugMessageType.NCmd, group, EdgeNodeId);
    }

    /// <summary>The NCMD topic to subscribe for rebirth requests.</summary>
    public SparkplugTopic CommandTopic { get; }

    /// <summary>The NDEATH, to set as the CONNECT's will and to publish before a clean disconnect.</summary>
    public SparkplugMessage Death(DateTimeOffset now) => new(
        SparkplugTopic.ForNode(SparkplugMessageType.NDeath, group, EdgeNodeId),
        SparkplugCodec.Encode(new SparkplugPayload { Timestamp = now, Metrics = [SparkplugMetric.Int64(SparkplugMetricNames.BdSeq, 0)] }),
        QualityOfService: 1);

    /// <summary>The NBIRTH and a DBIRTH per device with its latest values (pressure, temperature, torque).</summary>
    public List<SparkplugMessage> Births(DateTimeOffset now, IReadOnlyList<(string Device, double[] Values)> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        seq = SparkplugSequence.BirthSeq;
        var node = new SparkplugPayload
        {
            Timestamp = now,
            Seq = seq,
            Metrics =
            [
                SparkplugMetric.Int64(SparkplugMetricNames.BdSeq, 0) with { Timestamp = now },
                SparkplugMetric.Boolean(SparkplugMetricNames.NodeControlRebirth, false) with { Timestamp = now },
            ],
        };
        var messages = new List<SparkplugMessage> { new(SparkplugTopic.ForNode(SparkplugMessageType.NBirth, group, EdgeNodeId), SparkplugCodec.Encode(node)) };
        messages.AddRange(devices.Select(d => Device(SparkplugMessageType.DBirth, d.Device, now, d.Values)));
        return messages;
    }

    /// <summary>The DDATA of one sample, its time on each metric.</summary>
    public SparkplugMessage Data(string device, DateTimeOffset timestamp, double[] values) => Device(SparkplugMessageType.DData, device, timestamp, values);

    /// <summary>Whether a message is a rebirth request to this edge node.</summary>
    public bool IsRebirth(string topic, ReadOnlySpan<byte> payload)
        => SparkplugTopic.TryParse(topic, out var parsed, out _) && parsed == CommandTopic
            && SparkplugCodec.TryDecode(payload, out var command, out _) && SparkplugRebirth.IsRequest(command);

    private SparkplugMessage Device(SparkplugMessageType type, string device, DateTimeOffset timestamp, double[] values)
    {
        seq = SparkplugSequence.Next(seq);
        var payload = new SparkplugPayload
        {
            Timestamp = timestamp,
            Seq = seq,
            Metrics = [.. Metrics.Select((name, i) => SparkplugMetric.Double(name, values[i]) with { Timestamp = timestamp })],
        };
        return new(SparkplugTopic.ForDevice(type, group, EdgeNodeId, device), SparkplugCodec.Encode(payload));
    }
}
