namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// The monitor as a Sparkplug B edge node (Sparkplug 3.0.0, chapter 5): one device per monitored machine, whose metrics
/// are its latest explanation (<see cref="SparkplugEdgeNodeMetrics"/>). It builds the messages and keeps the counters;
/// it does no MQTT I/O: the caller publishes what it returns, in order.
/// </summary>
/// <remarks>
/// <para>The session, as the caller drives it:</para>
/// <list type="number">
/// <item><see cref="Connect"/> before each MQTT CONNECT: the NDEATH to set as that connection's will (QoS 1, not
/// retained), with the session's bdSeq (the first <see cref="SparkplugEdgeNodeSettings.InitialBdSeq"/>, then one more
/// per connection, 255 wrapping to 0).</item>
/// <item><see cref="Birth"/> once connected: the NBIRTH (seq 0, the same bdSeq, <c>Node Control/Rebirth</c> false,
/// the model) and a DBIRTH per machine known so far.</item>
/// <item><see cref="Publish"/> per explained window: a DBIRTH the first time a machine is seen, then a DDATA with the
/// metrics that changed (by alias). Before <see cref="Birth"/> (or after <see cref="Death"/>) nothing is returned, but the
/// values are kept for the next birth.</item>
/// <item><see cref="Retire"/> when a machine is forgotten: its DDEATH.</item>
/// <item><see cref="HandleCommand"/> for each NCMD on <see cref="CommandTopic"/>: a rebirth request returns the births
/// again (seq from 0, same bdSeq).</item>
/// <item><see cref="Death"/> before an intentional disconnect: the NDEATH to publish, so hosts learn it at once.</item>
/// </list>
/// <para>Thread-safe: each call is atomic, so the sequence numbers of the messages follow the order of the calls.</para>
/// </remarks>
public sealed class SparkplugEdgeNode
{
    private readonly SparkplugEdgeNodeSettings settings;
    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private readonly Dictionary<string, EdgeDevice> devices = new(StringComparer.Ordinal);
    private ulong nextAlias = 1;
    private bool connectedBefore;
    private bool connected;
    private bool born;
    private byte bdSeq;
    private byte seq;

    /// <summary>
    /// Makes an edge node with no session and no device yet; the first <see cref="Connect"/> starts one.
    /// </summary>
    /// <param name="settings">The group and edge node ids, the model and its channels, checked here.</param>
    /// <param name="time">The clock that stamps every payload (and the node metrics of a birth).</param>
    /// <exception cref="ArgumentNullException">
    /// <paramref name="settings"/> or <paramref name="time"/> is null.
    /// </exception>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it and what it accepts.</exception>
    public SparkplugEdgeNode(SparkplugEdgeNodeSettings settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        this.settings = settings;
        this.time = time ?? throw new ArgumentNullException(nameof(time));
        CommandTopic = SparkplugTopic.ForNode(SparkplugMessageType.NCmd, settings.GroupId, settings.EdgeNodeId);
    }

    /// <summary>The NCMD topic of this edge node, to subscribe to for rebirth requests.</summary>
    public SparkplugTopic CommandTopic { get; }

    /// <summary>The bdSeq of the current session (or of the last one, after <see cref="Death"/>).</summary>
    public byte BdSeq
    {
        get
        {
            lock (gate)
            {
                return bdSeq;
            }
        }
    }

    /// <summary>Starts a session: the NDEATH (bdSeq of the new session) to give the MQTT CONNECT as its will.</summary>
    public SparkplugMessage Connect()
    {
        lock (gate)
        {
            bdSeq = connectedBefore ? SparkplugSequence.Next(bdSeq) : settings.InitialBdSeq;
            connectedBefore = true;
            connected = true;
            born = false;
            return NodeDeath();
        }
    }

    /// <summary>The NBIRTH and a DBIRTH per known machine; seq starts again at 0. Only within a session.</summary>
    public IReadOnlyList<SparkplugMessage> Birth()
    {
        lock (gate)
        {
            if (!connected)
            {
                throw new InvalidOperationException("A birth belongs to a session: call Connect (and connect with its will) first.");
            }

            return Births();
        }
    }

    /// <summary>
    /// The messages for one explained window: a DBIRTH for a new machine, else a DDATA of what changed (none when nothing
    /// did); nothing while the edge node is not born.
    /// </summary>
    public IReadOnlyList<SparkplugMessage> Publish(ExplanationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var values = ExplanationMetrics.Of(report, settings.Channels);
        lock (gate)
        {
            if (!devices.TryGetValue(report.Machine, out var device))
            {
                device = new EdgeDevice(report.Machine, nextAlias, values);
                nextAlias += (ulong)values.Count;
                devices.Add(report.Machine, device);
                return born ? [DeviceBirth(device)] : [];
            }

            var changed = device.Update(values);
            return born && changed.Count > 0 ? [DeviceMessage(SparkplugMessageType.DData, device, changed)] : [];
        }
    }

    /// <summary>Forgets a machine: its DDEATH, or null when the machine is unknown or the edge node not born.</summary>
    public SparkplugMessage? Retire(string machine)
    {
        lock (gate)
        {
            if (!devices.Remove(machine, out var device) || !born)
            {
                return null;
            }

            return DeviceMessage(SparkplugMessageType.DDeath, device, []);
        }
    }

    /// <summary>Ends the session: the NDEATH to publish before disconnecting (the same message as the will).</summary>
    public SparkplugMessage Death()
    {
        lock (gate)
        {
            if (!connected)
            {
                throw new InvalidOperationException("There is no session to end: Connect was not called, or Death already was.");
            }

            connected = false;
            born = false;
            return NodeDeath();
        }
    }

    /// <summary>
    /// Answers a command: an NCMD to this edge node with <c>Node Control/Rebirth</c> true returns the births again;
    /// anything else (other topics, other metrics, bytes that are not a payload, no session) returns nothing.
    /// </summary>
    public IReadOnlyList<SparkplugMessage> HandleCommand(string topic, ReadOnlySpan<byte> payload)
    {
        if (!SparkplugTopic.TryParse(topic, out var parsed, out _) || parsed != CommandTopic
            || !SparkplugCodec.TryDecode(payload, out var command, out _) || !SparkplugRebirth.IsRequest(command))
        {
            return [];
        }

        lock (gate)
        {
            return connected ? Births() : [];
        }
    }

    private List<SparkplugMessage> Births()
    {
        var now = time.GetUtcNow();
        seq = SparkplugSequence.BirthSeq;
        born = true;
        var node = new SparkplugPayload
        {
            Timestamp = now,
            Seq = seq,
            Metrics =
            [
                SparkplugMetric.Int64(SparkplugMetricNames.BdSeq, bdSeq) with { Timestamp = now },
                SparkplugMetric.Boolean(SparkplugMetricNames.NodeControlRebirth, false) with { Timestamp = now },
                SparkplugMetric.String(SparkplugEdgeNodeMetrics.ModelName, settings.ModelName) with { Timestamp = now },
                SparkplugMetric.String(SparkplugEdgeNodeMetrics.ModelVersion, settings.ModelVersion) with { Timestamp = now },
                SparkplugMetric.String(SparkplugEdgeNodeMetrics.Channels, string.Join(',', settings.Channels)) with { Timestamp = now },
            ],
        };
        var messages = new List<SparkplugMessage>(devices.Count + 1)
        {
            new(SparkplugTopic.ForNode(SparkplugMessageType.NBirth, settings.GroupId, settings.EdgeNodeId), SparkplugCodec.Encode(node)),
        };
        messages.AddRange(devices.Values.OrderBy(d => d.Machine, StringComparer.Ordinal).Select(DeviceBirth));
        return messages;
    }

    private SparkplugMessage DeviceBirth(EdgeDevice device) => DeviceMessage(SparkplugMessageType.DBirth, device, device.Metrics);

    /// <summary>A DBIRTH, DDATA or DDEATH with the next seq.</summary>
    private SparkplugMessage DeviceMessage(SparkplugMessageType type, EdgeDevice device, IReadOnlyList<SparkplugMetric> metrics)
    {
        seq = SparkplugSequence.Next(seq);
        var payload = new SparkplugPayload { Timestamp = time.GetUtcNow(), Seq = seq, Metrics = metrics };
        return new(SparkplugTopic.ForDevice(type, settings.GroupId, settings.EdgeNodeId, device.DeviceId), SparkplugCodec.Encode(payload));
    }

    /// <summary>The NDEATH of the current session: the bdSeq alone, no seq; QoS 1 as the will must be.</summary>
    private SparkplugMessage NodeDeath()
    {
        var payload = new SparkplugPayload { Timestamp = time.GetUtcNow(), Metrics = [SparkplugMetric.Int64(SparkplugMetricNames.BdSeq, bdSeq)] };
        return new(SparkplugTopic.ForNode(SparkplugMessageType.NDeath, settings.GroupId, settings.EdgeNodeId), SparkplugCodec.Encode(payload), QualityOfService: 1);
    }
}
