using System.Text;
using MQTTnet;
using MQTTnet.Protocol;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// A gateway publishing QoS 1 telemetry with a persistent session that, like a plant gateway, retries a message
/// until the broker has acknowledged it (so a broker restart can repeat a message but never lose one).
/// </summary>
internal sealed class SamplePublisher : IAsyncDisposable
{
    private readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();
    private readonly MqttClientOptions options;

    private SamplePublisher(int port) => options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port)
        .WithClientId($"gateway-{port}").WithCleanStart(false).WithSessionExpiryInterval(3600).Build();

    public int Retries { get; private set; }

    public static async Task<SamplePublisher> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var publisher = new SamplePublisher(port);
        await MqttTestClients.ConnectWithRetry(publisher.client, publisher.options, cancellationToken);
        return publisher;
    }

    public async Task PublishAsync(string topic, string payload, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Encoding.UTF8.GetBytes(payload))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        while (true)
        {
            try
            {
                if (!client.IsConnected)
                {
                    await client.ConnectAsync(options, cancellationToken);
                }

                var result = await client.PublishAsync(message, cancellationToken);
                if (result.IsSuccess)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Broker away: try again.
            }

            Retries++;
            await Task.Delay(50, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (client.IsConnected)
        {
            await client.DisconnectAsync();
        }

        client.Dispose();
    }
}
