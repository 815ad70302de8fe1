using System.Collections.Concurrent;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Benchmarking;
using TSViz.Monitor.Tests.Cli;
using TSViz.Monitor.Tests.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Benchmarking;

/// <summary>
/// The bench's lean MQTT client (`bench --live --harness raw`) against Debian's Mosquitto with the plant settings, and
/// against MQTTnet on the other end: what it publishes arrives intact and acknowledged, what it subscribes to arrives
/// whole and is acknowledged back, and a refused or broken connection says so.
/// </summary>
public sealed class RawMqttClientTests
{
    [Fact]
    public async Task PublishAndSubscribe_ThroughPlantMosquitto_EveryMessageArrivesIntactInOrderAndIsAcknowledged()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var broker = await MosquittoBroker.StartAsync();

        // Payload sizes across the remaining length's one-, two- and three-byte forms, and one larger than the reader's first buffer.
        int[] sizes = [0, 1, 100, 127, 128, 16_000, 16_400, 70_000, 300_000, .. Enumerable.Range(0, 400).Select(i => 50 + (i * 37 % 2_000))];
        var payloads = sizes.Select((size, i) => Enumerable.Range(0, size).Select(k => (byte)((k * 31) + i)).ToArray()).ToArray();

        var rawReceived = new ConcurrentQueue<(string Topic, byte[] Payload)>();
        using var observer = await RawMqttClient.ConnectAsync("127.0.0.1", broker.Port, "raw-observer", maxInFlight: 1, acknowledged: null,
            (topic, payload) => rawReceived.Enqueue((Encoding.UTF8.GetString(topic), payload.ToArray())), cancel.Token);
        await observer.SubscribeAsync("bench/+/data", cancel.Token);

        using var mqttnet = new MqttClientFactory().CreateMqttClient();
        var mqttnetReceived = new ConcurrentQueue<byte[]>();
        mqttnet.ApplicationMessageReceivedAsync += e =>
        {
            mqttnetReceived.Enqueue(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload));
            return Task.CompletedTask;
        };
        await mqttnet.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("mqttnet-observer").Build(), cancel.Token);
        await mqttnet.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("bench/+/data", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancel.Token);

        int acknowledged = 0;
        using var publisher = await RawMqttClient.ConnectAsync("127.0.0.1", broker.Port, "raw-gateway", maxInFlight: 16,
            () => Interlocked.Increment(ref acknowledged), handler: null, cancel.Token);
        var topic = Encoding.UTF8.GetBytes("bench/g1/data");
        foreach (var payload in payloads)
        {
            Assert.True(publisher.Publish(topic, payload, cancel.Token));
        }

        await Until(() => Volatile.Read(ref acknowledged) == payloads.Length && rawReceived.Count == payloads.Length && mqttnetReceived.Count == payloads.Length, cancel.Token);
        Assert.Equal(0, publisher.Unacknowledged);
        Assert.All(rawReceived, m => Assert.Equal("bench/g1/data", m.Topic));
        Assert.Equal(payloads, rawReceived.Select(m => m.Payload));
        Assert.Equal(payloads, mqttnetReceived);

        // Nothing more comes: the broker redelivers no message, and both clients are still connected.
        await Task.Delay(500, cancel.Token);
        Assert.Equal(payloads.Length, rawReceived.Count);
        Assert.True(publisher.IsConnected);
        Assert.True(observer.IsConnected);
    }

    [Fact]
    public async Task Connect_ToAnAuthenticatedBrokerWithoutCredentials_RefusedWithTheConnAck()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using var broker = await MosquittoBroker.StartAuthenticatedAsync(new Dictionary<string, string> { ["gateway"] = "secret-1" });

        var error = await Assert.ThrowsAsync<IOException>(() => RawMqttClient.ConnectAsync("127.0.0.1", broker.Port, "raw-gateway", 16, null, null, cancel.Token));
        Assert.Contains("CONNACK", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_AfterTheBrokerStopped_ReportsTheConnectionBroken()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using var broker = await MosquittoBroker.StartAsync();
        using var publisher = await RawMqttClient.ConnectAsync("127.0.0.1", broker.Port, "raw-gateway", 16, null, null, cancel.Token);
        Assert.True(publisher.Publish("bench/g1/data"u8, "{}"u8, cancel.Token));
        await broker.DisposeAsync();

        await Until(() => !publisher.IsConnected, cancel.Token);
        Assert.False(publisher.Publish("bench/g1/data"u8, "{}"u8, cancel.Token));
    }

    [Theory]
    [InlineData("--harness", "paho")]
    [InlineData("--monitor", "/nonexistent/TSViz.Monitor")]
    public async Task Bench_LiveWithAHarnessOrMonitorItCannotUse_ExitCode2NamingTheOption(string option, string value)
    {
        var (exit, _, error) = await VerbRunner.Run(["bench", "--live", option, value]);

        Assert.Equal(2, exit);
        Assert.Contains(option, error, StringComparison.Ordinal);
    }

    private static async Task Until(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(20, cancellationToken);
        }
    }
}
