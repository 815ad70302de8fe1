using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>The live monitor against a real Mosquitto, started by the test.</summary>
public sealed class MosquittoIntegrationTests
{
    [Fact]
    public async Task Run_AgainstMosquitto_InjectedAnomalyBecomesAnAlertOnItsChannel()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var app = Monitor(broker.Port, new Dictionary<string, string?>
        {
            ["Monitor:Simulator:Enabled"] = "true",
            ["Monitor:Simulator:Machines"] = "2",
            ["Monitor:Simulator:RateHz"] = "50",
            ["Monitor:Simulator:AnomalyEverySeconds"] = "0",
            ["Monitor:Simulator:Inject:0"] = "m2:temperature@3",
        });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var received = await Observe(broker.Port, "tsviz/v1/+/alert", cancel.Token);
        await app.StartAsync(cancel.Token);
        try
        {
            JsonElement alert;
            while (!received.TryPeek(out alert))
            {
                await Task.Delay(200, cancel.Token);
            }

            Assert.Equal("m2", alert.GetProperty("machine").GetString());
            Assert.Equal("open", alert.GetProperty("status").GetString());
            Assert.Equal("temperature", alert.GetProperty("dominantChannel").GetString());
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    private static WebApplication Monitor(int brokerPort, Dictionary<string, string?> extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{Loopback.FreePort()}",
            ["Monitor:Mqtt:EmbeddedBroker"] = "false",
            ["Monitor:Mqtt:Port"] = brokerPort.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"tsviz-{brokerPort}",
            ["Monitor:MaxGapSeconds"] = "60",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return MonitorHost.Build(settings);
    }

    private static async Task<ConcurrentQueue<JsonElement>> Observe(int port, string filter, CancellationToken cancellationToken, bool persistent = false)
    {
        var queue = new ConcurrentQueue<JsonElement>();
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            queue.Enqueue(JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray()).RootElement.Clone());
            return Task.CompletedTask;
        };
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId($"observer-{port}-{filter.GetHashCode(StringComparison.Ordinal)}")
            .WithCleanStart(!persistent).WithSessionExpiryInterval(persistent ? 3600u : 0u).Build();
        var subscription = new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build();
        await MqttTestClients.ConnectWithRetry(client, options, cancellationToken);
        await client.SubscribeAsync(subscription, cancellationToken);

        // Keep the observer connected across broker restarts, resubscribing on a new session.
        _ = Task.Run(async () =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(200, CancellationToken.None);
                if (!client.IsConnected)
                {
                    try
                    {
                        await client.ConnectAsync(options, cancellationToken);
                        await client.SubscribeAsync(subscription, cancellationToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Broker still down: try again.
                    }
                }
            }

            client.Dispose();
        }, CancellationToken.None);
        return queue;
    }
}
