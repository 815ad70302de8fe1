using System.Net;
using Microsoft.Extensions.Options;
using MQTTnet.Server;

namespace TSViz.Monitor.Live;

/// <summary>
/// The MQTT broker inside the monitor (MQTTnet) for the embedded defaults, bound to the configured address only
/// (MQTTnet listens on every interface unless both bind addresses are set), with persistent sessions so QoS 1
/// input survives the monitor's own reconnects.
/// </summary>
internal sealed partial class EmbeddedBroker(IOptions<MonitorOptions> options, ILogger<EmbeddedBroker> logger) : IHostedService, IDisposable
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
            .WithMaxPendingMessagesPerClient(100_000)
            .Build();
        server = new MqttServerFactory().CreateMqttServer(serverOptions);
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

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Embedded MQTT broker listening on {Address}:{Port}")]
    private static partial void LogStarted(ILogger logger, string address, int port);
}
