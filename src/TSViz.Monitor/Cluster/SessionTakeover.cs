using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using MQTTnet;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// Takes over the MQTT session of a node that died, so its share of the input is not lost. A shared subscription's
/// broker (Mosquitto 2.0, measured: docs/cluster.md) gives a dead member's unacknowledged and queued messages to no one
/// else: they wait in its session until a client with its id comes back. When the cluster declares a node dead, the
/// first active node (by silo address) connects with the dead node's client id, resuming its session (clean start
/// false): the broker resends what was in flight and what queued. It unsubscribes at once, so no new share comes.
/// Those messages go the usual way: the router stages them (<see cref="StagedInput"/>) and they are acknowledged, on
/// this connection, in the order they came; the owners release nothing meanwhile (<see cref="InputHold"/>). Once
/// nothing has arrived for <see cref="Quiet"/> and every message is staged and acknowledged, the dead node's input is
/// all in the staged input: the takeover is recorded, which ends every node's hold, and it disconnects with session
/// expiry 0: the dead node's session, and its place in the group, end. It connects with the session's usual expiry, so if this node dies in the middle the session survives for the
/// next survivor. A dead node that restarts under its name resumes its own session instead (a node of that name
/// active again is never taken over).
/// </summary>
internal sealed partial class SessionTakeover(
    IClusterMembershipService membership, ILocalSiloDetails local, IOptions<MonitorOptions> options, LiveQueues queues, AcknowledgementTracker tracker,
    MqttGateway gateway, InputHold hold, ClusterMetrics metrics, TimeProvider time, ILogger<SessionTakeover> logger) : BackgroundService
{
    /// <summary>How long a taken-over session must stay silent, its messages all staged and acknowledged, before it is ended.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    /// <summary>Longest a takeover runs; what is still unacknowledged then stays in the dead node's session for the next try.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<SiloAddress, bool> handled = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                var active = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).ToList();
                var first = active.OrderBy(m => m.SiloAddress.ToParsableString(), StringComparer.Ordinal).FirstOrDefault();
                if (first is null || !first.SiloAddress.Equals(local.SiloAddress))
                {
                    continue;
                }

                var activeNames = active.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
                foreach (var dead in snapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead && !activeNames.Contains(m.Name)))
                {
                    if (handled.TryAdd(dead.SiloAddress, true))
                    {
                        _ = TakeOverAsync(dead, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task TakeOverAsync(ClusterMember dead, CancellationToken stoppingToken)
    {
        string node = dead.Name;
        var mqtt = options.Value.Mqtt;
        string clientId = $"{mqtt.ClientId}-{node}";
        using var client = new MqttClientFactory().CreateMqttClient();
        int received = 0, acknowledged = 0;
        long lastArrival = time.GetTimestamp();
        // In arrival order: MQTT wants this connection's acknowledgements in that order.
        var arrivals = new ConcurrentQueue<Arrival>();
        client.ApplicationMessageReceivedAsync += async args =>
        {
            args.AutoAcknowledge = false;
            Interlocked.Increment(ref received);
            Volatile.Write(ref lastArrival, time.GetTimestamp());
            var message = args.ApplicationMessage;
            var arrival = new Arrival(args);
            var entry = new InFlightMessage(message.Topic, System.Buffers.BuffersExtensions.ToArray(message.Payload), message.Dup, time.GetTimestamp(),
                _ =>
                {
                    arrival.Durable = true;
                    return Task.CompletedTask;
                },
                static () => true);
            arrival.Entry = entry;
            arrivals.Enqueue(arrival);
            tracker.TrackForwarded(entry);
            metrics.TakenOver.Inc();
            try
            {
                await queues.Route.Writer.WriteAsync(entry, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is System.Threading.Channels.ChannelClosedException or OperationCanceledException)
            {
                // Stopping: unacknowledged, it stays in the dead node's session (this connection does not end it).
            }
        };

        async Task AcknowledgeDurableAsync()
        {
            while (arrivals.TryPeek(out var head) && head.Durable)
            {
                arrivals.TryDequeue(out _);
                await head.Args.AcknowledgeAsync(stoppingToken).ConfigureAwait(false);
                Interlocked.Increment(ref acknowledged);
            }
        }

        try
        {
            LogTakingOver(logger, node, clientId);
            var connect = mqtt.ClientOptions()
                .WithClientId(clientId)
                .WithCleanStart(false) // resume the dead node's session: its in-flight and queued messages come here
                .WithSessionExpiryInterval(mqtt.SessionExpirySeconds) // kept if this node dies mid-takeover: the next survivor resumes it
                .WithReceiveMaximum(mqtt.ReceiveMaximum)
                .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
                .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
                .Build();
            var connected = await client.ConnectAsync(connect, stoppingToken).ConfigureAwait(false);
            var unsubscribe = new MqttClientUnsubscribeOptionsBuilder();
            foreach (string filter in gateway.SubscriptionFilters)
            {
                unsubscribe.WithTopicFilter(options.Value.Cluster.InputFilter(filter));
            }

            await client.UnsubscribeAsync(unsubscribe.Build(), stoppingToken).ConfigureAwait(false);
            // The broker resends what was in flight, then what queued; each message is acknowledged once staged (the
            // router stages before it acknowledges). It is over once nothing has come for Quiet and all are staged.
            var started = time.GetTimestamp();
            long lastReport = started;
            while (!stoppingToken.IsCancellationRequested && time.GetElapsedTime(started) < Longest
                && (time.GetElapsedTime(Volatile.Read(ref lastArrival)) < Quiet || Volatile.Read(ref acknowledged) < Volatile.Read(ref received)))
            {
                await Task.Delay(50, stoppingToken).ConfigureAwait(false);
                tracker.Request();
                await AcknowledgeDurableAsync().ConfigureAwait(false);
                if (logger.IsEnabled(LogLevel.Information) && arrivals.TryPeek(out var waiting) && time.GetElapsedTime(lastReport) > TimeSpan.FromSeconds(5))
                {
                    lastReport = time.GetTimestamp();
                    var entry = waiting.Entry!;
                    int acknowledgedSoFar = Volatile.Read(ref acknowledged), receivedSoFar = Volatile.Read(ref received);
                    LogWaiting(logger, node, acknowledgedSoFar, receivedSoFar, entry.Topic, entry.Decoded, entry.Pending);
                }
            }

            // Everything the dead node held is staged now: recording the takeover ends every node's hold, and each
            // owner reads its machine's staged input again and puts it in timestamp order with the rest.
            bool complete = Volatile.Read(ref acknowledged) >= Volatile.Read(ref received);
            if (complete)
            {
                await hold.RecordTakeoverAsync(dead.SiloAddress, node, Volatile.Read(ref received), stoppingToken).ConfigureAwait(false);
                // Ends the session with the connection (MQTT 5: session expiry 0 in the DISCONNECT).
                await client.DisconnectAsync(new MqttClientDisconnectOptions { SessionExpiryInterval = 0 }, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                // Not all acknowledged: leave without DISCONNECT, so the broker keeps the session for its expiry.
                client.Dispose();
            }

            LogTakenOver(logger, node, received, acknowledged, connected.IsSessionPresent);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogTakeoverFailed(logger, node, ex.Message);
            handled.Clear(); // the next membership update tries again
        }
    }

    /// <summary>A message taken over, acknowledged to the broker once <see cref="Durable"/>.</summary>
    private sealed class Arrival(MqttApplicationMessageReceivedEventArgs args)
    {
        public MqttApplicationMessageReceivedEventArgs Args { get; } = args;

        public volatile bool Durable;

        public InFlightMessage? Entry { get; set; }
    }

    [LoggerMessage(EventId = 1510, Level = LogLevel.Warning, Message = "Node {Node} is dead: taking over its MQTT session {ClientId} so its unacknowledged input is not lost")]
    private static partial void LogTakingOver(ILogger logger, string node, string clientId);

    [LoggerMessage(EventId = 1511, Level = LogLevel.Warning, Message = "Took over node {Node}'s session: {Received} messages received, {Acknowledged} acknowledged (session was present: {Present})")]
    private static partial void LogTakenOver(ILogger logger, string node, int received, int acknowledged, bool present);

    [LoggerMessage(EventId = 1513, Level = LogLevel.Information, Message = "Takeover of node {Node}: {Acknowledged} of {Received} acknowledged; waiting for {Topic} (decoded {Decoded}, pending {Pending})")]
    private static partial void LogWaiting(ILogger logger, string node, int acknowledged, int received, string topic, bool decoded, int pending);

    [LoggerMessage(EventId = 1512, Level = LogLevel.Warning, Message = "Taking over node {Node}'s session failed, retrying at the next membership change: {Error}")]
    private static partial void LogTakeoverFailed(ILogger logger, string node, string error);
}
