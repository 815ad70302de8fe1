using MQTTnet;

namespace TSViz.Monitor.Tests.Live;

/// <summary>MQTT client helpers for tests whose broker is still starting or restarting.</summary>
internal static class MqttTestClients
{
    public static async Task ConnectWithRetry(IMqttClient client, MqttClientOptions options, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await client.ConnectAsync(options, cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }
}
