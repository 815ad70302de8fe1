using System.Buffers;
using MQTTnet;
using MQTTnet.Protocol;
using Microsoft.Extensions.Options;
using TSViz.Monitor.MqttSecurity;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Live;

/// <summary>Publishes the monitor's results (explanations, alerts, dead letters, analyses) to the broker.</summary>
internal interface IResultPublisher
{
    /// <summary>The output topic of <paramref name="kind"/> for <paramref name="machine"/> ({prefix}/{machine}/{kind}).</summary>
    string Topic(string machine, string kind);

    /// <summary>Publishes with QoS 1, retrying while the broker is away, until it is sent or <paramref name="cancellationToken"/> fires.</summary>
    Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancellationToken);

    /// <summary>The Unified Namespace mirror's topic of <paramref name="kind"/> for <paramref name="machine"/>; null when the mirror is off.</summary>
    string? MirrorTopic(string machine, string kind) => null;
}

/// <summary>
/// Another protocol's part in the gateway's MQTT session (the Sparkplug B edge node): the will of each CONNECT, topics
/// of its own to subscribe, what to publish once connected and before a clean disconnect, and the messages on its
/// topics, which go to it (acknowledged at once) instead of to the ingest queue.
/// </summary>
internal interface IMqttSessionParticipant
{
    /// <summary>The topic filters to subscribe besides the input; messages matching them come to <see cref="ReceivedAsync"/>.</summary>
    IReadOnlyList<string> Subscriptions { get; }

    /// <summary>Called before every CONNECT: the will of that connection, or null. The first participant's will wins.</summary>
    MqttApplicationMessage? Will();

    /// <summary>Called after every CONNECT and subscription, before the gateway reports itself connected.</summary>
    Task ConnectedAsync(IMqttClient client, CancellationToken cancellationToken);

    /// <summary>A message on one of <see cref="Subscriptions"/>; it runs off MQTTnet's dispatcher and is already acknowledged.</summary>
    Task ReceivedAsync(MqttApplicationMessage message, CancellationToken cancellationToken);

    /// <summary>Called before a clean disconnect, while still connected.</summary>
    Task DisconnectingAsync(IMqttClient client, CancellationToken cancellationToken);
}

/// <summary>
/// The live path's MQTT gateway: keeps the connection (QoS 1, persistent session, reconnect with backoff, maximum
/// packet size), hands every received message to the bounded ingest queue and the acknowledgement tracker, and
/// publishes results. At shutdown it stops taking input (what arrives stays unacknowledged and is redelivered to the
/// next run), waits for the stages to drain what they hold, acknowledges it, and only then disconnects.
/// </summary>
internal sealed partial class MqttGateway : BackgroundService, IResultPublisher
{
    public const string StageName = "mqtt";

    private readonly MonitorOptions options;
    private readonly LiveQueues queues;
    private readonly AcknowledgementTracker tracker;
    private readonly LiveMetrics metrics;
    private readonly TimeProvider time;
    private readonly ILogger<MqttGateway> logger;
    private readonly IMqttClient client;
    private readonly StageHealth.Stage stage;
    private readonly EmbeddedBrokerSecrets secrets;
    private readonly UnsMirror? mirror;
    private readonly IMqttSessionParticipant[] participants;
    private readonly string subscriptionList;
    private Task ackLoop = Task.CompletedTask;
    private volatile bool stopping;
    private int connection;

    public MqttGateway(
        IOptions<MonitorOptions> options, LiveQueues queues, AcknowledgementTracker tracker, LiveMetrics metrics, StageHealth health, TimeProvider time, ILogger<MqttGateway> logger,
        EmbeddedBrokerSecrets secrets, ISampleDecoder decoder, IEnumerable<IMqttSessionParticipant> participants)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(health);
        this.options = options.Value;
        this.queues = queues;
        this.tracker = tracker;
        this.metrics = metrics;
        this.time = time;
        this.logger = logger;
        this.secrets = secrets;
        this.participants = [.. participants];
        stage = health.Register(StageName);
        client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += OnMessageAsync;
        var topics = this.options.Mqtt.Topics();
        // The decoder names its filters (the JSON pattern's, and Sparkplug's when that input is on); one that names
        // none reads the topic pattern.
        SubscriptionFilters = decoder.SubscriptionFilters.Count > 0 ? [.. decoder.SubscriptionFilters.Distinct(StringComparer.Ordinal)] : [topics.SubscriptionFilter];
        subscriptionList = string.Join(", ", SubscriptionFilters);
        mirror = UnsMirror.TryCreate(this.options.Mqtt.UnsMirror, topics, out _);
    }

    public bool IsConnected => client.IsConnected;

    /// <summary>The input subscriptions: the topic pattern with every wildcard level as "+", and the Sparkplug B filters when that input is on.</summary>
    public IReadOnlyList<string> SubscriptionFilters { get; }

    public string Topic(string machine, string kind) => $"{options.Mqtt.OutputPrefix}/{machine}/{kind}";

    public string? MirrorTopic(string machine, string kind) => mirror?.Topic(machine, kind);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var mqtt = options.Mqtt;
        if (!mqtt.EmbeddedBroker && (mqtt.Username is not null || mqtt.Password is not null) && !mqtt.UseTls && !BrokerAccessPolicy.IsLoopback(mqtt.Host))
        {
            LogPlainPassword(logger, mqtt.Host, mqtt.Port); // allowed by Mqtt:AllowPlainPassword (the validator refuses it otherwise)
        }

        ackLoop = Task.Run(() => tracker.RunAsync(stoppingToken), CancellationToken.None);
        try
        {
            await KeepConnectedAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            await ackLoop.ConfigureAwait(false);
        }
    }

    private async Task KeepConnectedAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        bool everConnected = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!client.IsConnected)
            {
                metrics.BrokerConnected.Set(0);
                try
                {
                    Interlocked.Increment(ref connection);
                    await ConnectAsync(stoppingToken).ConfigureAwait(false);
                    metrics.BrokerConnected.Set(1);
                    if (everConnected)
                    {
                        metrics.Reconnects.Inc();
                    }

                    everConnected = true;
                    delay = TimeSpan.FromSeconds(1);
                    LogConnected(logger, options.Mqtt.Host, options.Mqtt.Port, subscriptionList);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogConnectFailed(logger, options.Mqtt.Host, options.Mqtt.Port, delay.TotalSeconds, ex.Message);
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                    delay = TimeSpan.FromSeconds(Math.Min(30, delay.TotalSeconds * 2));
                    continue;
                }
            }

            stage.Progress();
            // Reconnecting from the Disconnected handler risks a deadlock in MQTTnet 5: poll instead.
            await Task.Delay(TimeSpan.FromMilliseconds(500), time, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var mqtt = options.Mqtt;
        var builder = mqtt.ClientOptions((mqtt.ClientId, secrets.MonitorPassword)) // the monitor's identity on the embedded broker
            .WithClientId(options.Cluster.ClientId(mqtt))
            .WithCleanStart(false)
            .WithSessionExpiryInterval(mqtt.SessionExpirySeconds)
            .WithReceiveMaximum(mqtt.ReceiveMaximum) // the broker sends at most this many unacknowledged messages: the backpressure
            .WithMaximumPacketSize((uint)mqtt.MaxPacketBytes) // a compliant broker never sends a larger packet (MQTT 5, 3.1.2.11.4)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500);
        WithParticipantWill(builder);
        await client.ConnectAsync(builder.Build().WithSocketBuffers(), cancellationToken).ConfigureAwait(false);
        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (string filter in SubscriptionFilters.Select(options.Cluster.InputFilter).Concat(participants.SelectMany(p => p.Subscriptions)))
        {
            subscribe.WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce);
        }

        var subscription = subscribe.Build();
        var granted = await client.SubscribeAsync(subscription, cancellationToken).ConfigureAwait(false);
        await CheckGrantedAsync(granted, cancellationToken).ConfigureAwait(false);
        foreach (var participant in participants)
        {
            await participant.ConnectedAsync(client, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A broker may refuse a subscription (MQTT 5 SUBACK reason codes: not authorised by its ACL, shared subscriptions or
    /// wildcards not supported, quota exceeded) while the connection itself succeeds: the monitor would then receive
    /// nothing on that filter and report itself connected. A refused filter fails the connection instead (disconnected,
    /// counted, logged with the filter and the broker's reason, retried with backoff), so /health and the broker gauge
    /// show it. A filter granted at QoS 0 only is accepted with a warning: its messages may be lost on the way.
    /// </summary>
    private async Task CheckGrantedAsync(MqttClientSubscribeResult granted, CancellationToken cancellationToken)
    {
        var refused = granted.Items.Where(i => i.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2).ToList();
        foreach (var item in granted.Items.Where(i => i.ResultCode == MqttClientSubscribeResultCode.GrantedQoS0))
        {
            LogDowngraded(logger, item.TopicFilter.Topic);
        }

        if (refused.Count == 0)
        {
            return;
        }

        foreach (var item in refused)
        {
            metrics.SubscriptionsRefused.WithLabels(ReasonLabel(item.ResultCode)).Inc();
        }

        await client.DisconnectAsync(new MqttClientDisconnectOptions(), cancellationToken).ConfigureAwait(false);
        throw new InvalidOperationException(
            $"the broker refused the subscription to {string.Join(", ", refused.Select(i => $"{i.TopicFilter.Topic} ({ReasonLabel(i.ResultCode)})"))}, "
            + "so nothing would arrive there: grant the monitor's user read access to it in the broker's ACL, or use a broker that supports the filter");
    }

    /// <summary>The SUBACK reason as a metric label: snake case of MQTTnet's name (not_authorized, shared_subscriptions_not_supported, ...).</summary>
    private static string ReasonLabel(MqttClientSubscribeResultCode code)
        => string.Concat(code.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>The will of this CONNECT: asked of the participants anew for every connection (a new session, a new will).</summary>
    private void WithParticipantWill(MqttClientOptionsBuilder builder)
    {
        var wills = participants.Select(p => p.Will()).ToList(); // every participant learns of the new connection
        if (wills.FirstOrDefault(w => w is not null) is { } will)
        {
            builder.WithWillTopic(will.Topic).WithWillPayload(will.Payload.ToArray())
                .WithWillQualityOfServiceLevel(will.QualityOfServiceLevel).WithWillRetain(will.Retain);
        }
    }

    /// <summary>Hands a message on a participant's topic to it, off the dispatcher; true when one took it.</summary>
    private bool HandToParticipant(MqttApplicationMessage message)
    {
        var participant = participants.FirstOrDefault(p => p.Subscriptions.Any(f => MqttTopicFilterComparer.Compare(message.Topic, f) == MqttTopicFilterCompareResult.IsMatch));
        if (participant is null)
        {
            return false;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await participant.ReceivedAsync(message, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogParticipantFailed(logger, message.Topic, ex.Message);
            }
        });
        return true;
    }

    /// <summary>
    /// Hands the message over and returns: decoding, publishing and acknowledging run on the stages' own loops, so
    /// nothing waits on MQTTnet's dispatcher from inside it. The ingest queue holds at least Mqtt:ReceiveMaximum
    /// messages, so QoS 1 input (bounded by the broker's in-flight limit) always fits; QoS 0 input beyond the queue's
    /// capacity is dropped, counted and logged (it was sent at most once).
    /// </summary>
    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs args)
    {
        args.AutoAcknowledge = false;
        var message = args.ApplicationMessage;
        if (participants.Length > 0 && HandToParticipant(message))
        {
            await args.AcknowledgeAsync(CancellationToken.None).ConfigureAwait(false); // a command, not input: nothing to redeliver
            return;
        }

        if (stopping)
        {
            return; // unacknowledged: redelivered to the next run
        }

        metrics.MessagesReceived.Inc();
        int arrivedOn = Volatile.Read(ref connection);
        var entry = new InFlightMessage(
            message.Topic, message.Payload.ToArray(), message.Dup, time.GetTimestamp(),
            args.AcknowledgeAsync,
            () => arrivedOn == Volatile.Read(ref connection) && client.IsConnected);
        if (message.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce)
        {
            if (!queues.Input.Writer.TryWrite(entry))
            {
                metrics.MessagesDropped.WithLabels("ingest_queue_full").Inc();
                LogQos0Dropped(logger, message.Topic, options.IngestCapacity);
            }

            return;
        }

        tracker.Track(entry);
        if (!queues.Input.Writer.TryWrite(entry))
        {
            // Only a broker that ignores the receive maximum gets here: wait (TCP backpressure) rather than drop.
            try
            {
                await queues.Input.Writer.WriteAsync(entry).ConfigureAwait(false);
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
                // Shutting down: unacknowledged, redelivered to the next run.
            }
        }
    }

    /// <summary>Publishes with QoS 1, retrying while the broker is away (the caller's input stays unacknowledged meanwhile).</summary>
    public async Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag(retain).Build();
        while (true)
        {
            try
            {
                if (client.IsConnected)
                {
                    await client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
                    return;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPublishRetry(logger, topic, ex.Message);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Shutdown drains: no new input is taken, the messages already received are decoded, every queued window is
    /// scored, explained, published and stored, the finished input is acknowledged, and only then does the
    /// connection close. Bounded by the host's shutdown timeout (Health:ShutdownGraceSeconds).
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        queues.Input.Writer.TryComplete();
        try
        {
            await queues.Drained.WaitAsync(cancellationToken).ConfigureAwait(false);
            await tracker.AcknowledgeCompletedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            LogDrainIncomplete(logger, queues.Items.Reader.Count, tracker.Count);
        }

        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        stage.Stopped();
        if (client.IsConnected)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                foreach (var participant in participants)
                {
                    await participant.DisconnectingAsync(client, timeout.Token).ConfigureAwait(false);
                }

                await client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPublishRetry(logger, "(disconnect)", ex.Message);
            }
            catch (OperationCanceledException)
            {
                // The broker did not answer; the connection closes with the process.
            }
        }
    }

    public override void Dispose()
    {
        client.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Connected to MQTT broker {Host}:{Port}, subscribed to {Filter}")]
    private static partial void LogConnected(ILogger logger, string host, int port, string filter);

    [LoggerMessage(EventId = 208, Level = LogLevel.Warning, Message = "The MQTT password goes to {Host}:{Port} without TLS, readable on the network (Mqtt:AllowPlainPassword is true); set Mqtt:UseTls")]
    private static partial void LogPlainPassword(ILogger logger, string host, int port);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Cannot connect to MQTT broker {Host}:{Port}, retrying in {Seconds} s: {Error}")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, double seconds, string error);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Publishing to {Topic} failed, retrying: {Error}")]
    private static partial void LogPublishRetry(ILogger logger, string topic, string error);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "Shutdown time ran out with {Items} items queued and {Messages} messages unacknowledged; they are redelivered to the next run")]
    private static partial void LogDrainIncomplete(ILogger logger, int items, int messages);

    [LoggerMessage(EventId = 230, Level = LogLevel.Warning, Message = "Handling the message on {Topic} failed: {Error}")]
    private static partial void LogParticipantFailed(ILogger logger, string topic, string error);

    [LoggerMessage(EventId = 234, Level = LogLevel.Warning, Message = "The broker granted the subscription to {Filter} at QoS 0 only: its messages may be lost on the way (the monitor asked for QoS 1)")]
    private static partial void LogDowngraded(ILogger logger, string filter);

    [LoggerMessage(EventId = 207, Level = LogLevel.Warning, Message = "Dropped a QoS 0 message on {Topic}: the ingest queue is full ({Capacity} messages, IngestCapacity)")]
    private static partial void LogQos0Dropped(ILogger logger, string topic, int capacity);
}
