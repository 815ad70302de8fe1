using System.Buffers;
using System.Globalization;
using MQTTnet;
using MQTTnet.Protocol;
using Microsoft.Extensions.Options;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Sparkplug;

namespace TSViz.Monitor.Live;

/// <summary>
/// The monitor as a Sparkplug B edge node on the gateway's MQTT session (docs/sparkplug.md, "Sparkplug B output"): each CONNECT
/// carries the NDEATH as its will, each connection starts with the births, every explained (or unexplained) window
/// becomes a DBIRTH or DDATA of its machine's device, an NCMD rebirth request gets the births again, and a clean
/// shutdown publishes the NDEATH. Gap notices and alerts are not published (the next window carries the alert state).
/// </summary>
/// <remarks>
/// <para>The edge node numbers its messages (seq) in the order it makes them, so making and sending happen under one
/// lock: no DDATA leaves before the NBIRTH of its session, and none overtakes another.</para>
/// <para>A message made while the broker is away is dropped, not retried: Sparkplug messages are QoS 0, and the births
/// of the next connection carry every machine's latest values.</para>
/// <para>The bdSeq starts from a random value at each process start (then one more per connection): a host matches an
/// NDEATH to the NBIRTH by bdSeq, and a late will of the previous process then clashes with the new session's only by a
/// 1 in 256 chance, without a state file that must be writable, kept and never copied with the history.</para>
/// </remarks>
internal sealed partial class SparkplugOutput : IResultSink, IMqttSessionParticipant, IDisposable
{
    private readonly SparkplugEdgeNode node;
    private readonly double threshold;
    private readonly ILogger<SparkplugOutput> logger;
    private readonly SemaphoreSlim gate = new(1, 1);
    private IMqttClient? client;

    public SparkplugOutput(IOptions<MonitorOptions> options, LiveModel model, TimeProvider time, ILogger<SparkplugOutput> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        var monitor = options.Value;
        var output = monitor.Sparkplug.Output;
        node = new SparkplugEdgeNode(
            new SparkplugEdgeNodeSettings
            {
                GroupId = output.GroupId,
                EdgeNodeId = output.EdgeNode(monitor.Mqtt),
                ModelName = model.Metadata.Name,
                ModelVersion = model.Metadata.Version,
                Channels = model.Metadata.Channels,
                InitialBdSeq = (byte)Random.Shared.Next(256),
            },
            time);
        threshold = model.Threshold;
        this.logger = logger;
        Subscriptions = [node.CommandTopic.ToString()];
    }

    public IReadOnlyList<string> Subscriptions { get; }

    public MqttApplicationMessage? Will() => ToMqtt(node.Connect());

    public async Task ConnectedAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        this.client = client;
        await SendAsync(node.Birth, cancellationToken).ConfigureAwait(false);
        LogBorn(logger, node.CommandTopic.GroupId!, node.CommandTopic.EdgeNodeId!, node.BdSeq);
    }

    public async Task ReceivedAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        byte[] payload = message.Payload.ToArray();
        int sent = await SendAsync(() => node.HandleCommand(message.Topic, payload), cancellationToken).ConfigureAwait(false);
        LogCommand(logger, message.Topic, sent);
    }

    public Task DisconnectingAsync(IMqttClient client, CancellationToken cancellationToken) => SendAsync(() => [node.Death()], cancellationToken);

    public async Task PublishAsync(LiveResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (Report(result) is { } report)
        {
            await SendAsync(() => node.Publish(report), cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => gate.Dispose();

    /// <summary>The report of an explanation or an unexplained window (score and decision, no contributions); null for the rest.</summary>
    private ExplanationReport? Report(LiveResult result)
    {
        if (result.Explanation is { } explained)
        {
            return new ExplanationReport
            {
                Machine = explained.Machine,
                WindowId = explained.Id,
                WindowEnd = explained.WindowEnd,
                Score = explained.Score,
                Anomaly = explained.Decision,
                ReasonCode = explained.ReasonCode,
                Threshold = threshold,
                ChannelContributions = explained.ChannelContributions.ToDictionary(c => c.Key, c => (double)c.Value, StringComparer.Ordinal),
                Robustness = explained.Robustness is { } robustness ? new RobustnessReport(robustness.Epsilon, robustness.ScoreAfter, robustness.Flipped) : null,
                Alert = Alert(explained.Alert),
            };
        }

        if (result.Unexplained is { } unexplained)
        {
            return new ExplanationReport
            {
                Machine = unexplained.Machine,
                WindowId = unexplained.Id,
                WindowEnd = unexplained.WindowEnd,
                Score = unexplained.Score,
                Anomaly = unexplained.Decision,
                ReasonCode = unexplained.ReasonCode,
                Threshold = threshold,
                Alert = Alert(unexplained.Alert),
            };
        }

        return null;
    }

    /// <summary>The alert state; the alert id is the machine's episode number (none before its first alert).</summary>
    private static AlertReport Alert(AlertSummaryMessage? alert) => alert is null
        ? AlertReport.None
        : new AlertReport(alert.Open, alert.Episode > 0 ? alert.Episode.ToString(CultureInfo.InvariantCulture) : null);

    /// <summary>Makes the messages and publishes them in order under the lock; returns how many went out.</summary>
    private async Task<int> SendAsync(Func<IReadOnlyList<SparkplugMessage>> make, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var messages = make();
            int sent = 0;
            foreach (var message in messages)
            {
                if (client is not { IsConnected: true } connected)
                {
                    LogDropped(logger, message.TopicName);
                    continue;
                }

                try
                {
                    await connected.PublishAsync(ToMqtt(message), cancellationToken).ConfigureAwait(false);
                    sent++;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogDropped(logger, message.TopicName); // the next connection's births carry the values
                }
            }

            return sent;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A Sparkplug message as MQTT: its topic, payload, QoS and retain flag.</summary>
    internal static MqttApplicationMessage ToMqtt(SparkplugMessage message) => new MqttApplicationMessageBuilder()
        .WithTopic(message.TopicName)
        .WithPayload(message.Payload.ToArray())
        .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)message.QualityOfService)
        .WithRetainFlag(message.Retain)
        .Build();

    [LoggerMessage(EventId = 231, Level = LogLevel.Information, Message = "Sparkplug B edge node {GroupId}/{EdgeNodeId} born with bdSeq {BdSeq}")]
    private static partial void LogBorn(ILogger logger, string groupId, string edgeNodeId, byte bdSeq);

    [LoggerMessage(EventId = 232, Level = LogLevel.Information, Message = "Sparkplug B command on {Topic}: {Sent} messages sent in reply")]
    private static partial void LogCommand(ILogger logger, string topic, int sent);

    [LoggerMessage(EventId = 233, Level = LogLevel.Debug, Message = "Sparkplug B message on {Topic} dropped: the broker is away (the next births carry its values)")]
    private static partial void LogDropped(ILogger logger, string topic);
}
