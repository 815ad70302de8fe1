using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Plugins.Ingest;
using TSViz.Plugins.Windows;

namespace TSViz.Monitor.Live;

/// <summary>
/// A window waiting to be scored (or, with <see cref="Gap"/>, a machine's insufficient_data notice, kept in the same
/// queue so a machine's results are published in stream order), with the input message whose acknowledgement waits for it.
/// </summary>
internal sealed record PendingWindow(AssembledWindow Window, InFlightMessage Source, long ReceivedTimestamp, InsufficientDataMessage? Gap = null);

/// <summary>An input message not yet acknowledged: it is, once every window it completed has been published.</summary>
internal sealed class InFlightMessage(MqttApplicationMessageReceivedEventArgs args, int connection)
{
    private int pending;

    public MqttApplicationMessageReceivedEventArgs Args { get; } = args;

    /// <summary>The connection it arrived on: an acknowledgement can only travel on that one.</summary>
    public int Connection { get; } = connection;

    public bool Decoded { get; set; }

    public long ReceivedTimestamp { get; init; }

    public int Pending => Volatile.Read(ref pending);

    public void AddWindow() => Interlocked.Increment(ref pending);

    public void WindowDone() => Interlocked.Decrement(ref pending);
}

/// <summary>
/// The live path's front half: keeps the MQTT connection (QoS 1, persistent session, reconnect with backoff),
/// decodes each message, sends refused ones to the dead-letter topic, assembles per-machine windows into a bounded
/// queue, and acknowledges input messages in order once what they produced is published.
/// </summary>
internal sealed partial class MonitorWorker : BackgroundService
{
    private readonly MonitorOptions options;
    private readonly LiveModel model;
    private readonly MonitorMetrics metrics;
    private readonly ILogger<MonitorWorker> logger;
    private readonly TimeProvider time;
    private readonly JsonTelemetryDecoder decoder;
    private readonly WindowAssembler assembler;
    private readonly Lock assemblerGate = new();
    private readonly Queue<InFlightMessage> inFlight = new();
    private readonly SemaphoreSlim ackGate = new(1, 1);
    private readonly Channel<PendingWindow> queue;
    private readonly IMqttClient client;
    private readonly Channel<InFlightMessage> ingest = Channel.CreateUnbounded<InFlightMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<bool> ackRequests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task ingestLoop = Task.CompletedTask;
    private int connection;

    public MonitorWorker(IOptions<MonitorOptions> options, LiveModel model, MonitorMetrics metrics, TimeProvider time, ILogger<MonitorWorker> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        this.model = model;
        this.metrics = metrics;
        this.logger = logger;
        this.time = time;
        decoder = new JsonTelemetryDecoder(
            new JsonDecoderSettings { TopicPattern = this.options.Mqtt.TopicPattern, Channels = model.Metadata.Channels, MaxPayloadBytes = this.options.Mqtt.MaxPayloadBytes },
            time);
        assembler = new WindowAssembler(
            new WindowSettings { Length = model.Metadata.WindowLength, Hop = this.options.Hop, MaxGap = TimeSpan.FromSeconds(this.options.MaxGapSeconds) },
            model.Metadata.Channels.Count);
        queue = Channel.CreateBounded<PendingWindow>(new BoundedChannelOptions(this.options.QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += OnMessageAsync;
    }

    public bool IsConnected => client.IsConnected;

    public ChannelReader<PendingWindow> Windows => queue.Reader;

    public string Topic(string machine, string kind) => $"{options.Mqtt.OutputPrefix}/{machine}/{kind}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The MQTT handler only hands messages over: decoding, publishing and acknowledging run on these loops, so
        // nothing ever waits on MQTTnet's dispatcher from inside it. Unacknowledged input is bounded by the
        // broker's in-flight limit for this client, which is the monitor's backpressure.
        ingestLoop = Task.Run(() => IngestAsync(stoppingToken), CancellationToken.None);
        var ackLoop = Task.Run(() => AcknowledgeLoopAsync(stoppingToken), CancellationToken.None);
        try
        {
            await KeepConnectedAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            ingest.Writer.TryComplete();
            await Task.WhenAll(ingestLoop.ContinueWith(_ => { }, TaskScheduler.Default), ackLoop.ContinueWith(_ => { }, TaskScheduler.Default)).ConfigureAwait(false);
        }
    }

    /// <summary>Asks the acknowledgement loop to acknowledge what is complete (never blocks).</summary>
    public void RequestAcknowledgement() => ackRequests.Writer.TryWrite(true);

    private async Task AcknowledgeLoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await ackRequests.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                ackRequests.Reader.TryRead(out _);
                await AcknowledgeCompletedAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what was not acknowledged is redelivered to the next run.
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
                    LogConnected(logger, options.Mqtt.Host, options.Mqtt.Port, decoder.SubscriptionFilter);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogConnectFailed(logger, options.Mqtt.Host, options.Mqtt.Port, delay.TotalSeconds, ex.Message);
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                    delay = TimeSpan.FromSeconds(Math.Min(30, delay.TotalSeconds * 2));
                    continue;
                }
            }

            // Reconnecting from the Disconnected handler risks a deadlock in MQTTnet 5: poll instead.
            await Task.Delay(TimeSpan.FromMilliseconds(500), time, stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>Called by the processor once the window queue is complete and empty.</summary>
    public void MarkDrained() => drained.TrySetResult();

    /// <summary>
    /// Shutdown drains: no new input is taken (what arrives now stays unacknowledged and is redelivered to the
    /// next run), the messages already received are decoded, every queued window is scored, explained and
    /// published, the finished input is acknowledged, and only then does the connection close.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        ingest.Writer.TryComplete();
        try
        {
            await ingestLoop.WaitAsync(cancellationToken).ConfigureAwait(false);
            queue.Writer.TryComplete();
            await drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            await AcknowledgeCompletedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            queue.Writer.TryComplete();
            LogDrainIncomplete(logger, queue.Reader.Count);
        }

        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (client.IsConnected)
        {
            try
            {
                await client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogAckFailed(logger, ex.Message);
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

    /// <summary>Acknowledges, in arrival order, every leading input message whose windows are all published.</summary>
    private async Task AcknowledgeCompletedAsync(CancellationToken cancellationToken)
    {
        await ackGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                InFlightMessage? head;
                lock (inFlight)
                {
                    if (!inFlight.TryPeek(out head) || !head.Decoded || head.Pending > 0)
                    {
                        return;
                    }

                    inFlight.Dequeue();
                    metrics.InputUnacknowledged.Set(inFlight.Count);
                }

                if (head.Connection != Volatile.Read(ref connection) || !client.IsConnected)
                {
                    // It arrived on a connection that is gone: the broker redelivers it on the new one (it was never
                    // acknowledged), and the assembler drops the repeated samples as out of order.
                    continue;
                }

                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(5));
                    await head.Args.AcknowledgeAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    LogAckFailed(logger, ex.Message);
                }
            }
        }
        finally
        {
            ackGate.Release();
        }
    }

    public override void Dispose()
    {
        client.Dispose();
        ackGate.Dispose();
        base.Dispose();
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var mqtt = options.Mqtt;
        var builder = mqtt.ClientOptions()
            .WithClientId(mqtt.ClientId)
            .WithCleanStart(false)
            .WithSessionExpiryInterval(mqtt.SessionExpirySeconds)
            .WithReceiveMaximum(mqtt.ReceiveMaximum) // the broker sends at most this many unacknowledged messages: the backpressure
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500);
        await client.ConnectAsync(builder.Build().WithSocketBuffers(), cancellationToken).ConfigureAwait(false);
        var subscription = new MqttClientSubscribeOptionsBuilder().WithTopicFilter(decoder.SubscriptionFilter, MqttQualityOfServiceLevel.AtLeastOnce).Build();
        await client.SubscribeAsync(subscription, cancellationToken).ConfigureAwait(false);
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs args)
    {
        args.AutoAcknowledge = false;
        var entry = new InFlightMessage(args, Volatile.Read(ref connection)) { ReceivedTimestamp = time.GetTimestamp() };
        lock (inFlight)
        {
            inFlight.Enqueue(entry);
            metrics.InputUnacknowledged.Set(inFlight.Count);
        }

        metrics.MessagesReceived.Inc();
        ingest.Writer.TryWrite(entry);
        return Task.CompletedTask;
    }

    private async Task IngestAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var entry in ingest.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await HandleAsync(entry, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task HandleAsync(InFlightMessage entry, CancellationToken stoppingToken)
    {
        var args = entry.Args;
        long received = entry.ReceivedTimestamp;
        string topic = args.ApplicationMessage.Topic;
        var payload = args.ApplicationMessage.Payload.ToArray();
        var result = decoder.Decode(topic, payload);
        if (result.IsRejected)
        {
            string reason = ReasonCode(result.Reason!.Value);
            metrics.MessagesRejected.WithLabels(reason).Inc();
            LogRejected(logger, topic, reason, result.Detail!);
            var letter = new DeadLetterMessage(topic, reason, result.Detail!, time.GetUtcNow(), payload.Length,
                Encoding.UTF8.GetString(payload, 0, Math.Min(payload.Length, 1024)));
            await PublishAsync($"{options.Mqtt.OutputPrefix}/deadletter", JsonSerializer.SerializeToUtf8Bytes(letter, LiveJsonContext.Default.DeadLetterMessage), false, stoppingToken).ConfigureAwait(false);
        }
        else
        {
            var completed = new List<AssembledWindow>();
            var gaps = new List<(Sample Sample, DateTimeOffset Previous)>();
            bool redelivered = args.ApplicationMessage.Dup;
            if (redelivered)
            {
                metrics.MessagesRedelivered.Inc();
            }

            lock (assemblerGate)
            {
                foreach (var sample in result.Samples)
                {
                    var previous = assembler.LastTimestamp(sample.Machine);
                    switch (assembler.Add(sample, completed))
                    {
                        case SampleOutcome.OutOfOrder:
                            // A redelivered message repeats samples already assembled (its windows were published,
                            // only the acknowledgement was lost with the connection): not counted as disorder.
                            metrics.SamplesDropped.WithLabels(redelivered ? "redelivered" : "out_of_order").Inc();
                            break;
                        case SampleOutcome.AcceptedAfterGap:
                            metrics.WindowResets.Inc();
                            gaps.Add((sample, previous!.Value));
                            break;
                    }
                }
            }

            // Gap notices are queued ahead of the message's windows: the gap came before the samples that follow it.
            foreach (var (sample, previous) in gaps)
            {
                entry.AddWindow();
                var notice = InsufficientData(sample, previous);
                await queue.Writer.WriteAsync(new PendingWindow(new AssembledWindow(sample.Machine, sample.Timestamp, sample.Timestamp, []), entry, received, notice), stoppingToken).ConfigureAwait(false);
            }

            foreach (var window in completed)
            {
                entry.AddWindow();
                await queue.Writer.WriteAsync(new PendingWindow(window, entry, received), stoppingToken).ConfigureAwait(false);
            }

            metrics.QueueDepth.Set(queue.Reader.Count);
        }

        entry.Decoded = true;
        RequestAcknowledgement();
    }

    /// <summary>
    /// A gap longer than MaxGapSeconds discarded the machine's earlier samples: the processor says so on its explanation
    /// topic with reason code insufficient_data instead of scoring a window that would join samples across the gap.
    /// </summary>
    private InsufficientDataMessage InsufficientData(Sample sample, DateTimeOffset previous)
    {
        int needed;
        lock (assemblerGate)
        {
            needed = assembler.SamplesUntilNextWindow(sample.Machine);
        }

        double seconds = (sample.Timestamp - previous).TotalSeconds;
        metrics.InsufficientData.WithLabels(sample.Machine).Inc();
        LogGap(logger, sample.Machine, seconds, needed);
        return new InsufficientDataMessage(
            model.ResultId(sample.Machine, sample.Timestamp) + ":gap",
            sample.Machine, model.Version, "insufficient_data", previous, sample.Timestamp, seconds, options.MaxGapSeconds, needed, null, null);
    }

    internal static string ReasonCode(RejectionReason reason) => reason switch
    {
        RejectionReason.MalformedJson => "malformed_json",
        RejectionReason.WrongType => "wrong_type",
        RejectionReason.MissingChannel => "missing_channel",
        RejectionReason.UnknownChannel => "unknown_channel",
        RejectionReason.NonFiniteValue => "non_finite_value",
        RejectionReason.AbsurdTimestamp => "absurd_timestamp",
        RejectionReason.OversizePayload => "oversize_payload",
        RejectionReason.UnexpectedTopic => "unexpected_topic",
        _ => "empty_batch",
    };

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Connected to MQTT broker {Host}:{Port}, subscribed to {Filter}")]
    private static partial void LogConnected(ILogger logger, string host, int port, string filter);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Cannot connect to MQTT broker {Host}:{Port}, retrying in {Seconds} s: {Error}")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, double seconds, string error);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Rejected message on {Topic} ({Reason}): {Detail}")]
    private static partial void LogRejected(ILogger logger, string topic, string reason, string detail);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Publishing to {Topic} failed, retrying: {Error}")]
    private static partial void LogPublishRetry(ILogger logger, string topic, string error);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "Shutdown time ran out with {Windows} windows unpublished; their input is redelivered to the next run")]
    private static partial void LogDrainIncomplete(ILogger logger, int windows);

    [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "{Machine} was silent for {Seconds:F1} s: its window restarts (insufficient_data until {Needed} more samples)")]
    private static partial void LogGap(ILogger logger, string machine, double seconds, int needed);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Acknowledging an input message failed (it will be redelivered): {Error}")]
    private static partial void LogAckFailed(ILogger logger, string error);
}
