using System.Collections.Concurrent;
using System.Net;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Microsoft.Extensions.Options;
using TSViz.Monitor.MqttSecurity;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>
/// The MQTT broker inside the monitor (MQTTnet) for the embedded defaults, bound to the configured address only
/// (MQTTnet listens on every interface unless both bind addresses are set), with persistent sessions so QoS 1
/// input survives the monitor's own reconnects. A client's queue is bounded (Mqtt:EmbeddedQueueLimit); when a
/// subscriber falls that far behind, the oldest queued message is dropped, counted and logged, never silently.
/// Every CONNECT, publish and subscription passes <see cref="BrokerAccessPolicy"/> (docs/mqtt.md, "MQTT security"); what it
/// refuses is answered with an MQTT reason code, counted in tsviz_broker_refused_total and logged (bounded).
/// A client that connects with an empty client id gets one ("auto-" and 32 random hex digits, logged at debug) and is
/// then judged like any other: over MQTT 5 always (returned in CONNACK), over MQTT 3.1.1 and 3.1 with clean session
/// (<see cref="ClientIdAssigningChannelAdapter"/>); over MQTT 3.1.1 or 3.1 without clean session it is refused with
/// CONNACK 0x02, identifier rejected (MQTT 3.1.1 section 3.1.3.1). Mosquitto 2.0 does the same over 3.1.1 and 5, and
/// refuses every empty id over 3.1 (whose clients, mosquitto_sub -V mqttv31 included, make up their own).
/// </summary>
internal sealed partial class EmbeddedBroker(
    IOptions<MonitorOptions> options, EmbeddedBrokerSecrets secrets, LiveMetrics metrics, TimeProvider time, ILogger<EmbeddedBroker> logger) : IHostedService, IDisposable
{
    private MqttServer? server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Mqtt;
        if (!settings.EmbeddedBroker)
        {
            return;
        }

        var address = IPAddress.Parse(settings.Host == "localhost" ? "127.0.0.1" : settings.Host);
        var serverOptions = new MqttServerFactory().CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(address)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.IPv6Loopback)
            .WithDefaultEndpointPort(settings.Port)
            .WithPersistentSessions()
            .WithMaxPendingMessagesPerClient(settings.EmbeddedQueueLimit)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage)
            .Build();
        // MQTTnet's own listeners, each behind the decorator that gives an MQTT 3.1.1 client with an empty id its id.
        var factory = new MqttServerFactory();
        server = factory.CreateMqttServer(serverOptions, [.. factory.DefaultServerAdapters.Select(create => new ClientIdAssigningServerAdapter(create(factory), logger))]);
        ApplyAccessRules(server, settings);
        // MQTTnet's server has no packet size limit of its own: a publish larger than Mqtt:MaxPacketBytes is refused here
        // (counted and logged) before it reaches any subscriber.
        server.InterceptingPublishAsync += e =>
        {
            long size = e.ApplicationMessage.Payload.Length + e.ApplicationMessage.Topic.Length;
            if (size > settings.MaxPacketBytes)
            {
                e.ProcessPublish = false;
                metrics.MessagesDropped.WithLabels("oversize_packet").Inc();
                LogOversize(logger, e.ClientId, e.ApplicationMessage.Topic, size, settings.MaxPacketBytes);
            }

            return Task.CompletedTask;
        };
        server.QueuedApplicationMessageOverwrittenAsync += e =>
        {
            metrics.BrokerDropped.Inc();
            LogDropped(logger, e.ReceiverClientId, settings.EmbeddedQueueLimit);
            return Task.CompletedTask;
        };
        server.ApplicationMessageEnqueuedOrDroppedAsync += e =>
        {
            if (e.IsDropped)
            {
                metrics.BrokerDropped.Inc();
                LogDropped(logger, e.ReceiverClientId, settings.EmbeddedQueueLimit);
            }

            return Task.CompletedTask;
        };
        await server.StartAsync().ConfigureAwait(false);
        string bound = address.ToString();
        LogStarted(logger, bound, settings.Port, settings.Users.Length, BrokerAccessPolicy.IsLoopback(settings.Host) && settings.Users.Length == 0 ? "allowed (loopback demo)" : "refused");
    }

    /// <summary>
    /// Authentication at CONNECT, then topic rules per role. A subscription is judged by the role its connection
    /// authenticated as, kept here per client id: MQTTnet reports a resumed session's first user name, not the current one.
    /// </summary>
    private void ApplyAccessRules(MqttServer broker, MqttSettings settings)
    {
        var policy = new BrokerAccessPolicy(settings, secrets, options.Value.Sparkplug, UnsMirror.TryCreate(settings.UnsMirror, settings.Topics(), out _)?.Filter);
        var refusals = new RefusalLog(logger, time);
        // Each session belongs to the user who opened it: another user (or anonymous) connecting with its client id
        // would resume it with its subscriptions and queued messages, so that is refused while the session lives.
        var sessions = new ConcurrentDictionary<string, (string Owner, BrokerRole Role)>(StringComparer.Ordinal);
        broker.ValidatingConnectionAsync += e =>
        {
            var decision = policy.Authenticate(e.ClientId, e.UserName, e.RawPassword);
            if (decision.Role is { } role)
            {
                string clientId = e.ClientId;
                if (string.IsNullOrEmpty(clientId))
                {
                    // MQTT 5 only: MQTTnet puts this id on the session and in CONNACK. MQTT 3.1.1 and 3.1 clients
                    // arrive here with theirs already assigned (ClientIdAssigningChannelAdapter).
                    clientId = e.AssignedClientIdentifier = ClientIdAssignment.New();
                    ClientIdAssignment.LogAssigned(logger, clientId, e.RemoteEndPoint, e.ProtocolVersion);
                }

                string owner = e.UserName ?? "";
                var session = sessions.GetOrAdd(clientId, (owner, role));
                if (string.Equals(session.Owner, owner, StringComparison.Ordinal))
                {
                    sessions[clientId] = (owner, role);
                    return Task.CompletedTask;
                }

                decision = ConnectDecision.Refuse("client_id_in_use");
            }

            e.ReasonCode = decision.Refusal switch
            {
                "reserved_client_id" or "client_id_in_use" => MqttConnectReasonCode.ClientIdentifierNotValid,
                "anonymous" => MqttConnectReasonCode.NotAuthorized,
                _ => MqttConnectReasonCode.BadUserNameOrPassword,
            };
            metrics.BrokerRefused.WithLabels("connect", decision.Refusal!).Inc();
            refusals.Refused("connect", decision.Refusal!, e.ClientId ?? "", e.UserName, $"from {e.RemoteEndPoint}");
            return Task.CompletedTask;
        };
        broker.SessionDeletedAsync += e =>
        {
            sessions.TryRemove(e.Id, out _);
            return Task.CompletedTask;
        };
        broker.InterceptingPublishAsync += e =>
        {
            // The sender's own connection's user name: a will message or a publish is judged as its sender.
            var role = policy.RoleOf(e.UserName);
            if (role is { } r && policy.MayPublish(r, e.ApplicationMessage.Topic))
            {
                return Task.CompletedTask;
            }

            e.ProcessPublish = false; // neither delivered nor retained
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized; // QoS 1/2 over MQTT 5; QoS 0 has no answer
            string reason = RoleLabel(role);
            metrics.BrokerRefused.WithLabels("publish", reason).Inc();
            refusals.Refused("publish", $"not allowed for role {reason}", e.ClientId, e.UserName, $"on {e.ApplicationMessage.Topic}");
            return Task.CompletedTask;
        };
        broker.InterceptingSubscriptionAsync += e =>
        {
            string filter = e.TopicFilter.Topic;
            BrokerRole? role = sessions.TryGetValue(e.ClientId, out var known) ? known.Role : null;
            if (role is { } r && policy.MaySubscribe(r, filter))
            {
                return Task.CompletedTask;
            }

            e.ProcessSubscription = false;
            e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
            string reason = RoleLabel(role);
            metrics.BrokerRefused.WithLabels("subscribe", reason).Inc();
            refusals.Refused("subscribe", $"not allowed for role {reason}", e.ClientId, e.UserName, $"to {filter}");
            return Task.CompletedTask;
        };
    }

    private static string RoleLabel(BrokerRole? role) => role?.ToString().ToLowerInvariant() ?? "unknown";

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (server is not null)
        {
            await server.StopAsync(new MqttServerStopOptions()).ConfigureAwait(false);
        }
    }

    public void Dispose() => server?.Dispose();

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Embedded broker dropped a queued message for {Client}: its queue is full ({Limit} messages, Mqtt:EmbeddedQueueLimit)")]
    private static partial void LogDropped(ILogger logger, string client, int limit);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Embedded broker refused a publish of {Client} on {Topic}: {Bytes} bytes, more than Mqtt:MaxPacketBytes ({Limit})")]
    private static partial void LogOversize(ILogger logger, string client, string topic, long bytes, int limit);

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Embedded MQTT broker listening on {Address}:{Port}: {Users} users, anonymous clients {Anonymous}")]
    private static partial void LogStarted(ILogger logger, string address, int port, int users, string anonymous);
}
