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

    [Fact]
    public async Task Run_BrokerRestartMidStream_LosesNoWindow()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var app = Monitor(broker.Port, new Dictionary<string, string?> { ["Monitor:Simulator:Enabled"] = "false" });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var explanations = await Observe(broker.Port, "tsviz/v1/+/explanation", cancel.Token, persistent: true);
        await app.StartAsync(cancel.Token);
        try
        {
            // 800 samples of one machine, published with QoS 1 by a client that rides through the restart.
            const int samples = 800;
            var start = DateTimeOffset.UtcNow.AddMinutes(-5);
            var random = new Random(3);
            using var publisher = new MqttClientFactory().CreateMqttClient();
            var publisherOptions = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId($"plc-{broker.Port}")
                .WithCleanStart(false).WithSessionExpiryInterval(3600).Build();
            await Connect(publisher, publisherOptions, cancel.Token);
            for (int i = 0; i < samples; i++)
            {
                if (i == samples / 2)
                {
                    await broker.RestartAsync();
                }

                string json = string.Create(CultureInfo.InvariantCulture,
                    $$"""{"ts":"{{start.AddMilliseconds(100 * i).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","pressure":{{5 + random.NextDouble()}},"temperature":{{80 + random.NextDouble()}},"torque":{{12 + random.NextDouble()}}}""");
                var message = new MqttApplicationMessageBuilder().WithTopic("plant/line1/press7/telemetry").WithPayload(Encoding.UTF8.GetBytes(json))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
                while (true)
                {
                    try
                    {
                        if (!publisher.IsConnected)
                        {
                            await Connect(publisher, publisherOptions, cancel.Token);
                        }

                        await publisher.PublishAsync(message, cancel.Token);
                        break;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        await Task.Delay(100, cancel.Token);
                    }
                }
            }

            // Windows end at samples 49, 59, ..., 799: 76 windows, each published once at least.
            const int expected = ((samples - 50) / 10) + 1;
            var ids = new HashSet<string>();
            while (ids.Count < expected)
            {
                await Task.Delay(200, cancel.Token);
                while (explanations.TryDequeue(out var e))
                {
                    ids.Add(e.GetProperty("id").GetString()!);
                }
            }

            Assert.Equal(expected, ids.Count);
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
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{FreePort()}",
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
        await Connect(client, options, cancellationToken);
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

    private static async Task Connect(IMqttClient client, MqttClientOptions options, CancellationToken cancellationToken)
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
