using System.Globalization;
using TSViz.Plugins.Ingest;

namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// Reads Sparkplug B (ISO/IEC 20237; Sparkplug 3.0.0) as a host application that only listens: births declare each edge
/// node's and device's metrics, data messages become samples of the model's channels, deaths reset machines.
/// </summary>
/// <remarks>
/// <para>Per message type:</para>
/// <list type="bullet">
/// <item>NBIRTH starts the edge node's session: its metrics (names, aliases, datatypes, the first channel values), its
/// bdSeq and seq; devices born before it are forgotten (an NBIRTH is always followed by the DBIRTHs). DBIRTH does the
/// same for one device. Births give no samples: a rebirth repeats values that data messages already gave.</item>
/// <item>NDATA and DDATA give samples (<see cref="SparkplugDataReader"/>): machine <c>{group}/{edge node}</c> for node
/// data, <c>{group}/{edge node}/{device}</c> for device data. Data from a source without a birth, or naming a metric its
/// birth did not declare, is refused (<see cref="RejectionReason.SparkplugNoBirth"/>) with a rebirth request in
/// <see cref="DecodeResult.Commands"/>. An edge node or device whose birth declares none of the channels' metrics is not
/// a machine: its data gives no samples and is not refused.</item>
/// <item>DDEATH resets the device (<see cref="DecodeResult.Resets"/>); NDEATH resets the node and all its devices, but
/// only when its bdSeq is the NBIRTH's: a will of an earlier session arriving late is ignored.</item>
/// <item>NCMD, DCMD and STATE are other hosts' business and are ignored (accepted with nothing in them).</item>
/// </list>
/// <para>
/// Sequence numbers: every message of an edge node but NDEATH carries seq, one more than the one before (255 wraps to 0,
/// NBIRTH restarts it). A message whose seq is not the next, or has none, is counted in <see cref="SequenceGaps"/> and
/// still used: the monitor wants every sample it can get and its window assembler drops samples that arrive out of
/// order. With <see cref="SparkplugDecoderSettings.RebirthOnSequenceGap"/> a gap also asks for a rebirth; there is no
/// reorder timeout (a message that arrives late counts as a gap at once). Rebirth requests to one edge node are at most
/// one per <see cref="SparkplugDecoderSettings.RebirthInterval"/>.
/// </para>
/// <para>
/// Not thread-safe: the ingest stage calls <see cref="Decode"/> from one thread, in arrival order. The counters may be
/// read from any thread.
/// </para>
/// </remarks>
public sealed class SparkplugDecoder : ISampleDecoder
{
    private readonly SparkplugDecoderSettings settings;
    private readonly TimeProvider time;
    private readonly ChannelMap channels;
    private readonly SparkplugDataReader reader;
    private readonly Dictionary<string, EdgeNodeSession> sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> lastRebirthRequest = new(StringComparer.Ordinal);
    private int sources;
    private long sequenceGaps;
    private long rebirthRequests;

    /// <summary>
    /// Makes a decoder that follows no edge node yet: an edge node's data is used only after its NBIRTH.
    /// </summary>
    /// <param name="settings">The channels, their metrics, the groups and the limits, checked here.</param>
    /// <param name="time">
    /// The monitor's clock: sample times are checked against it, and rebirth requests spaced by it.
    /// </param>
    /// <exception cref="ArgumentNullException">
    /// <paramref name="settings"/> or <paramref name="time"/> is null.
    /// </exception>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it and what it accepts.</exception>
    public SparkplugDecoder(SparkplugDecoderSettings settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        this.settings = settings;
        this.time = time ?? throw new ArgumentNullException(nameof(time));
        channels = new ChannelMap(settings);
        reader = new SparkplugDataReader(settings, channels);
        SubscriptionFilters = [.. settings.GroupIds.SelectMany(FiltersOf)];
    }

    /// <summary>
    /// Per group: NBIRTH, NDEATH and NDATA of every edge node, DBIRTH, DDEATH and DDATA of every device (never commands
    /// or STATE).
    /// </summary>
    public IReadOnlyList<string> SubscriptionFilters { get; }

    /// <summary>Messages whose seq was not the one expected (or missing), since the decoder was made.</summary>
    public long SequenceGaps => Interlocked.Read(ref sequenceGaps);

    /// <summary>Rebirth requests the decoder has put in results, since it was made.</summary>
    public long RebirthRequests => Interlocked.Read(ref rebirthRequests);

    /// <summary>Edge nodes whose session the decoder follows now.</summary>
    public int EdgeNodes => sessions.Count;

    /// <summary>
    /// Takes one Sparkplug message, in arrival order, as the class remarks describe per message type. Never throws: a
    /// message the decoder cannot use is refused with its reason (an exception none of the checks foresaw as
    /// <see cref="RejectionReason.DecoderFailure"/>), and its rebirth request, if any, is still in
    /// <see cref="DecodeResult.Commands"/>.
    /// </summary>
    /// <param name="topic">
    /// The MQTT topic: a Sparkplug B topic, as <see cref="SubscriptionFilters"/> subscribes to.
    /// </param>
    /// <param name="payload">The Sparkplug B protobuf payload.</param>
    /// <returns>
    /// The data's samples (one per timestamp, in time order), the machines a death resets, and the rebirth requests
    /// to publish; or the rejection.
    /// </returns>
    public DecodeResult Decode(string topic, ReadOnlySpan<byte> payload)
    {
        try
        {
            return DecodeMessage(topic, payload);
        }
#pragma warning disable CA1031 // The last resort, as in the JSON decoder: a case missed below refuses its message, not the ingest loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Reject(RejectionReason.DecoderFailure, $"the decoder failed on this message: {ex.GetType().FullName}: {ex.Message}");
        }
    }

    private static IEnumerable<string> FiltersOf(string group) =>
    [
        $"{SparkplugTopic.Namespace}/{group}/NBIRTH/+",
        $"{SparkplugTopic.Namespace}/{group}/NDEATH/+",
        $"{SparkplugTopic.Namespace}/{group}/NDATA/+",
        $"{SparkplugTopic.Namespace}/{group}/DBIRTH/+/+",
        $"{SparkplugTopic.Namespace}/{group}/DDEATH/+/+",
        $"{SparkplugTopic.Namespace}/{group}/DDATA/+/+",
    ];

    private DecodeResult DecodeMessage(string? topic, ReadOnlySpan<byte> bytes)
    {
        if (!SparkplugTopic.TryParse(topic, out var parsed, out string? topicError))
        {
            return Reject(RejectionReason.UnexpectedTopic, topic is null ? "the message has no topic" : $"topic '{SparkplugText.Quote(topic)}' is not a Sparkplug B topic: {topicError}");
        }

        if (parsed.MessageType is SparkplugMessageType.NCmd or SparkplugMessageType.DCmd or SparkplugMessageType.State)
        {
            return DecodeResult.Empty;
        }

        if (bytes.Length > settings.MaxPayloadBytes)
        {
            return Reject(RejectionReason.OversizePayload, $"{bytes.Length} bytes, more than the {settings.MaxPayloadBytes} allowed");
        }

        if (!SparkplugCodec.TryDecode(bytes, out var payload, out string? payloadError))
        {
            return Reject(RejectionReason.SparkplugMalformedPayload, payloadError);
        }

        var context = new MessageContext(parsed, payload);
        return parsed.MessageType switch
        {
            SparkplugMessageType.NBirth => OnNodeBirth(context),
            SparkplugMessageType.DBirth => OnDeviceBirth(context),
            SparkplugMessageType.NData or SparkplugMessageType.DData => OnData(context),
            SparkplugMessageType.NDeath => OnNodeDeath(context),
            _ => OnDeviceDeath(context),
        };
    }

    private DecodeResult OnNodeBirth(MessageContext message)
    {
        string key = message.NodeKey;
        if (sessions.TryGetValue(key, out var previous))
        {
            // Whatever this birth turns out to be, the previous session's aliases no longer hold.
            Forget(key, previous);
        }

        if (message.Payload.Seq is not { } seq || !SparkplugSequence.IsValid(seq))
        {
            return Reject(RejectionReason.SparkplugInvalidBirth, $"NBIRTH of '{key}' has {(message.Payload.Seq is { } s ? string.Create(CultureInfo.InvariantCulture, $"seq {s}") : "no seq")}; it needs one of 0-255");
        }

        if (!BornSource.TryCreate(key, message.Payload.Metrics, channels, out var node, out string? error))
        {
            return Reject(RejectionReason.SparkplugInvalidBirth, $"NBIRTH of '{key}': {error}");
        }

        if (sources + 1 > settings.MaxSources)
        {
            return Reject(RejectionReason.TooManyMachines, $"edge node '{key}' would be source {sources + 1}; at most {settings.MaxSources} edge nodes and devices are followed (a death frees a place)");
        }

        sessions[key] = new EdgeNodeSession(message.Topic.GroupId!, message.Topic.EdgeNodeId!, node, BdSeqOf(message.Payload), (byte)seq);
        sources++;
        lastRebirthRequest.Remove(key);
        return DecodeResult.Empty;
    }

    private DecodeResult OnDeviceBirth(MessageContext message)
    {
        if (!sessions.TryGetValue(message.NodeKey, out var session))
        {
            return NoBirth(message, $"DBIRTH of '{message.Machine}' before the NBIRTH of its edge node '{message.NodeKey}'");
        }

        var commands = CheckSequence(session, message);
        string device = message.Topic.DeviceId!;
        bool known = session.Devices.Remove(device);
        if (known)
        {
            sources--;
        }

        if (!BornSource.TryCreate(message.Machine, message.Payload.Metrics, channels, out var source, out string? error))
        {
            return Reject(RejectionReason.SparkplugInvalidBirth, $"DBIRTH of '{message.Machine}': {error}", commands);
        }

        if (sources + 1 > settings.MaxSources)
        {
            return Reject(RejectionReason.TooManyMachines, $"device '{message.Machine}' would be source {sources + 1}; at most {settings.MaxSources} edge nodes and devices are followed (a death frees a place)", commands);
        }

        session.Devices[device] = source;
        sources++;
        return DecodeResult.Empty with { Commands = commands };
    }

    private DecodeResult OnData(MessageContext message)
    {
        string kind = SparkplugTopic.TypeName(message.Topic.MessageType);
        if (!sessions.TryGetValue(message.NodeKey, out var session))
        {
            return NoBirth(message, $"{kind} of '{message.Machine}' before the NBIRTH of its edge node '{message.NodeKey}'");
        }

        var commands = CheckSequence(session, message);
        var source = message.Topic.DeviceId is { } device ? session.Devices.GetValueOrDefault(device) : session.Node;
        if (source is null)
        {
            return NoBirth(message, $"{kind} of '{message.Machine}' before its DBIRTH", commands);
        }

        var outcome = reader.Read(source, message.Payload, time.GetUtcNow());
        if (outcome.Values is { } values)
        {
            source.Values = values;
        }

        if (outcome.Reason is not { } reason)
        {
            return new DecodeResult(outcome.Samples, null, null) { Commands = commands };
        }

        return reason == RejectionReason.SparkplugNoBirth
            ? NoBirth(message, outcome.Detail!, commands)
            : Reject(reason, outcome.Detail!, commands);
    }

    private DecodeResult OnNodeDeath(MessageContext message)
    {
        if (!sessions.TryGetValue(message.NodeKey, out var session) || BdSeqOf(message.Payload) != session.BdSeq)
        {
            // Not born, or the will of an earlier session arriving after this session's NBIRTH.
            return DecodeResult.Empty;
        }

        var resets = session.MonitoredSources.Select(s => new MachineReset(s.Machine, "sparkplug_ndeath")).ToList();
        Forget(message.NodeKey, session);
        return DecodeResult.Empty with { Resets = resets };
    }

    private DecodeResult OnDeviceDeath(MessageContext message)
    {
        if (!sessions.TryGetValue(message.NodeKey, out var session))
        {
            return DecodeResult.Empty;
        }

        var commands = CheckSequence(session, message);
        if (!session.Devices.Remove(message.Topic.DeviceId!, out var device))
        {
            return DecodeResult.Empty with { Commands = commands };
        }

        sources--;
        return DecodeResult.Empty with
        {
            Resets = device.Monitored ? [new MachineReset(device.Machine, "sparkplug_ddeath")] : [],
            Commands = commands,
        };
    }

    /// <summary>Counts a seq that is not the next one (and asks for a rebirth when configured); the seq is taken as it comes.</summary>
    private List<DecoderCommand> CheckSequence(EdgeNodeSession session, MessageContext message)
    {
        var commands = new List<DecoderCommand>();
        if (message.Payload.Seq is { } seq && SparkplugSequence.IsValid(seq))
        {
            bool follows = SparkplugSequence.Follows(session.LastSeq, seq);
            session.LastSeq = (byte)seq;
            if (follows)
            {
                return commands;
            }
        }

        Interlocked.Increment(ref sequenceGaps);
        if (settings.RebirthOnSequenceGap)
        {
            RequestRebirth(message.Topic.GroupId!, message.Topic.EdgeNodeId!, commands);
        }

        return commands;
    }

    /// <summary>Refuses a message the decoder's view cannot place, and asks the edge node to be born again.</summary>
    private DecodeResult NoBirth(MessageContext message, string detail, List<DecoderCommand>? commands = null)
    {
        commands ??= [];
        RequestRebirth(message.Topic.GroupId!, message.Topic.EdgeNodeId!, commands);
        return Reject(RejectionReason.SparkplugNoBirth, detail, commands);
    }

    private void RequestRebirth(string groupId, string edgeNodeId, List<DecoderCommand> commands)
    {
        string key = $"{groupId}/{edgeNodeId}";
        var now = time.GetUtcNow();
        // One request per result is enough (a seq gap and a missing birth in the same message ask once).
        if (commands.Count > 0 || (lastRebirthRequest.TryGetValue(key, out var last) && now - last < settings.RebirthInterval))
        {
            return;
        }

        // Bounded like the sessions: edge nodes that never answer are dropped once their interval has passed.
        if (!lastRebirthRequest.ContainsKey(key) && lastRebirthRequest.Count >= settings.MaxSources)
        {
            foreach (var stale in lastRebirthRequest.Where(p => now - p.Value >= settings.RebirthInterval).Select(p => p.Key).ToList())
            {
                lastRebirthRequest.Remove(stale);
            }

            if (lastRebirthRequest.Count >= settings.MaxSources)
            {
                return;
            }
        }

        lastRebirthRequest[key] = now;
        var request = SparkplugRebirth.Request(groupId, edgeNodeId, now);
        commands.Add(new DecoderCommand(request.TopicName, request.Payload, request.QualityOfService, request.Retain));
        Interlocked.Increment(ref rebirthRequests);
    }

    private void Forget(string key, EdgeNodeSession session)
    {
        sessions.Remove(key);
        sources -= 1 + session.Devices.Count;
    }

    private static ulong? BdSeqOf(SparkplugPayload payload)
    {
        var metric = payload.Metrics.FirstOrDefault(m => m.Name == SparkplugMetricNames.BdSeq);
        return metric is not null && metric.TryGetUInt64(out ulong bdSeq) ? bdSeq : null;
    }

    private static DecodeResult Reject(RejectionReason reason, string detail, IReadOnlyList<DecoderCommand>? commands = null)
        => DecodeResult.Rejected(reason, SparkplugText.WellFormed(detail)) with { Commands = commands ?? [] };

    /// <summary>A parsed message and the ids derived from its topic.</summary>
    private sealed record MessageContext(SparkplugTopic Topic, SparkplugPayload Payload)
    {
        /// <summary>The edge node's key, also the machine id of node data: "{group}/{edge node}".</summary>
        public string NodeKey { get; } = $"{Topic.GroupId}/{Topic.EdgeNodeId}";

        /// <summary>The machine id of the message's source: "{group}/{edge node}[/{device}]".</summary>
        public string Machine => Topic.DeviceId is { } device ? $"{NodeKey}/{device}" : NodeKey;
    }
}
