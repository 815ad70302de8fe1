using System.Net;
using Microsoft.Extensions.Options;
using MQTTnet.Server;

namespace TSViz.Monitor.Live;

/// <summary>
/// The MQTT broker inside the monitor (MQTTnet) for the embedded defaults, bound to the configured address only
/// (MQTTnet listens on every interface unless both bind addresses are set), with persistent sessions so QoS 1
/// input survives the monitor's own reconnects. A client's queue is bounded (Mqtt:EmbeddedQueueLimit); when a
/// subscriber falls that far behind, the oldest queued message is dropped, counted and logged, never silently.
/// </summary>
internal sealed partial class EmbeddedBroker(IOptions<MonitorOptions> options, MonitorMetrics metrics, ILogger<EmbeddedBroker> logger) : IHostedService, IDisposable
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
        server = new MqttServerFactory().CreateMqttServer(serverOptions);
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
        LogStarted(logger, bound, settings.Port);
    }

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

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Embedded MQTT broker listening on {Address}:{Port}")]
    private static partial void LogStarted(ILogger logger, string address, int port);
}
