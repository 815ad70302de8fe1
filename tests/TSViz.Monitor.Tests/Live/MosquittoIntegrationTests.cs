using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Hosting;
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
        var received = await Observe(broker.Port, "tsviz/v1/+/+/alert", cancel.Token);
        await app.StartAsync(cancel.Token);
        try
        {
            JsonElement alert;
            while (!received.TryPeek(out alert))
            {
                await Task.Delay(200, cancel.Token);
            }

            Assert.Equal("line1/m2", alert.GetProperty("machine").GetString());
            Assert.Equal("open", alert.GetProperty("status").GetString());
            Assert.Equal("temperature", alert.GetProperty("dominantChannel").GetString());
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Run_BrokerRestartsMidStream_EveryWindowIsStillPublished()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var app = Monitor(broker.Port, new Dictionary<string, string?> { ["Monitor:Simulator:Enabled"] = "false" });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var explanations = await Observe(broker.Port, "tsviz/v1/+/+/explanation", cancel.Token, persistent: true);
        await app.StartAsync(cancel.Token);
        try
        {
            await WaitConnected(app, cancel.Token);
            int length = app.Services.GetRequiredService<LiveModel>().Metadata.WindowLength;
            const int Samples = 1200;
            var start = MillisecondsOnly(DateTimeOffset.UtcNow.AddMinutes(-30));
            await using var publisher = await SamplePublisher.ConnectAsync(broker.Port, cancel.Token);
            Task restart = Task.CompletedTask;
            for (int i = 0; i < Samples; i++)
            {
                if (i == 500)
                {
                    // The stream keeps going while the broker stops, saves its sessions, and comes back.
                    restart = Task.Run(broker.RestartAsync, cancel.Token);
                }

                await publisher.PublishAsync("plant/line1/m1/telemetry", SampleJson(start.AddMilliseconds(100 * i), i), cancel.Token);
            }

            await restart;
            var expected = Enumerable.Range(0, Samples).Where(i => i >= length - 1 && (i - (length - 1)) % 10 == 0)
                .Select(i => start.AddMilliseconds(100 * i)).ToHashSet();
            HashSet<DateTimeOffset> seen = [];
            while (!expected.IsSubsetOf(seen) && !cancel.IsCancellationRequested)
            {
                await Task.Delay(200, CancellationToken.None);
                seen = explanations.ToArray().Select(e => e.GetProperty("windowEnd").GetDateTimeOffset()).ToHashSet();
            }

            var missing = expected.Except(seen).Order().ToList();
            Assert.True(missing.Count == 0,
                $"{missing.Count} of {expected.Count} windows never published, ending at sample(s) {string.Join(", ", missing.Select(m => (m - start).TotalMilliseconds / 100))}; " +
                $"publisher retries {publisher.Retries}; monitor metrics:\n{await MetricsText(app)}\nbroker log:\n{broker.Log}");
            Assert.True(publisher.Retries > 0, "the restart should have interrupted the publisher at least once");
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Run_BadInputAndGaps_EveryMalformedKindIsDeadLetteredAGapSaysInsufficientDataAndTheStreamGoesOn()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var app = Monitor(broker.Port, new Dictionary<string, string?>
        {
            ["Monitor:Simulator:Enabled"] = "false",
            ["Monitor:MaxGapSeconds"] = "5",
            ["Monitor:Mqtt:MaxPayloadBytes"] = "4096",
        });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var letters = await Observe(broker.Port, "tsviz/v1/deadletter", cancel.Token);
        var explanations = await Observe(broker.Port, "tsviz/v1/+/+/explanation", cancel.Token);
        await app.StartAsync(cancel.Token);
        try
        {
            await WaitConnected(app, cancel.Token);
            int length = app.Services.GetRequiredService<LiveModel>().Metadata.WindowLength;
            await using var publisher = await SamplePublisher.ConnectAsync(broker.Port, cancel.Token);
            var start = MillisecondsOnly(DateTimeOffset.UtcNow.AddMinutes(-30));
            string ts = start.ToString("O", CultureInfo.InvariantCulture);
            var malformed = new Dictionary<string, string>
            {
                ["malformed_json"] = "{not json",
                ["wrong_type"] = $$"""{"ts": "{{ts}}", "pressure": "high", "temperature": 60, "torque": 12}""",
                ["missing_channel"] = $$"""{"ts": "{{ts}}", "pressure": 5, "temperature": 60}""",
                ["unknown_channel"] = $$"""{"ts": "{{ts}}", "pressure": 5, "temperature": 60, "torque": 12, "vibration": 1}""",
                ["non_finite_value"] = $$"""{"ts": "{{ts}}", "pressure": 1e999, "temperature": 60, "torque": 12}""",
                ["absurd_timestamp"] = """{"ts": "1970-01-02T00:00:00Z", "pressure": 5, "temperature": 60, "torque": 12}""",
                ["oversize_payload"] = $$"""{"ts": "{{ts}}", "pressure": 5, "temperature": 60, "torque": 12, "note": "{{new string('x', 5000)}}"}""",
                ["empty_batch"] = """{"samples": []}""",
            };

            // Good samples of m1 interleaved with every kind of bad message on m9; then m1 falls silent for 12 s.
            int bad = 0;
            for (int i = 0; i < length + 20; i++)
            {
                var offset = TimeSpan.FromMilliseconds(100 * i) + (i >= length ? TimeSpan.FromSeconds(12) : TimeSpan.Zero);
                await publisher.PublishAsync("plant/line1/m1/telemetry", SampleJson(start + offset, i), cancel.Token);
                if (i % 5 == 0 && bad < malformed.Count)
                {
                    await publisher.PublishAsync("plant/line1/m9/telemetry", malformed.Values.ElementAt(bad++), cancel.Token);
                }
            }

            while ((letters.Count < malformed.Count || !explanations.Any(e => e.GetProperty("reasonCode").GetString() == "insufficient_data")) && !cancel.IsCancellationRequested)
            {
                await Task.Delay(200, CancellationToken.None);
            }

            var reasons = letters.Select(l => l.GetProperty("reason").GetString()).ToList();
            Assert.Equal(malformed.Keys.Order(), reasons.Order());
            Assert.All(letters, l => Assert.Equal("plant/line1/m9/telemetry", l.GetProperty("topic").GetString()));
            Assert.All(letters, l => Assert.False(string.IsNullOrEmpty(l.GetProperty("detail").GetString())));

            // The first window scored normally; the gap then gave insufficient_data, not a score across the gap.
            var first = explanations.First();
            Assert.Equal(start.AddMilliseconds(100 * (length - 1)), first.GetProperty("windowEnd").GetDateTimeOffset());
            Assert.True(first.GetProperty("score").ValueKind == JsonValueKind.Number);
            var gap = explanations.Single(e => e.GetProperty("reasonCode").GetString() == "insufficient_data");
            Assert.Equal(JsonValueKind.Null, gap.GetProperty("score").ValueKind);
            Assert.Equal(12.1, gap.GetProperty("gapSeconds").GetDouble(), 6);
            Assert.Equal(length - 1, gap.GetProperty("samplesUntilNextWindow").GetInt32());
            Assert.Equal(1, explanations.Count(e => e.GetProperty("reasonCode").GetString() != "insufficient_data"));

            string metrics = await MetricsText(app);
            foreach (var reason in malformed.Keys)
            {
                Assert.Contains($"tsviz_messages_rejected_total{{reason=\"{reason}\"}} 1", metrics, StringComparison.Ordinal);
            }

            Assert.Contains("tsviz_insufficient_data_total{machine=\"line1/m1\"} 1", metrics, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Run_OverMutualTls_TrustsThePlantCaAndRefusesAnyOther()
    {
        var pki = TestCertificates.Create();
        await using var broker = await MosquittoBroker.StartAsync(pki);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var tls = new Dictionary<string, string?>
        {
            ["Monitor:Simulator:Enabled"] = "true",
            ["Monitor:Simulator:Machines"] = "1",
            ["Monitor:Simulator:RateHz"] = "50",
            ["Monitor:Mqtt:UseTls"] = "true",
            ["Monitor:Mqtt:ClientCertFile"] = pki.ClientCertFile,
            ["Monitor:Mqtt:ClientKeyFile"] = pki.ClientKeyFile,
        };

        // Trusting another CA: the handshake fails, the monitor keeps retrying and reports itself unhealthy.
        await using (var untrusting = Monitor(broker.Port, new Dictionary<string, string?>(tls) { ["Monitor:Mqtt:CaFile"] = pki.OtherCaFile, ["Monitor:Simulator:Enabled"] = "false" }))
        {
            await untrusting.StartAsync(cancel.Token);
            await Task.Delay(TimeSpan.FromSeconds(2), cancel.Token);
            Assert.False(untrusting.Services.GetRequiredService<MqttGateway>().IsConnected);
            Assert.Contains("tsviz_broker_connected 0", await MetricsText(untrusting), StringComparison.Ordinal);
            await untrusting.StopAsync(CancellationToken.None);
        }

        // The plant CA and a client certificate: connected, and the simulator's windows come out explained
        // (the simulator shares the monitor's broker settings, so it too speaks mutual TLS).
        await using var app = Monitor(broker.Port, new Dictionary<string, string?>(tls) { ["Monitor:Mqtt:CaFile"] = pki.CaFile });
        await app.StartAsync(cancel.Token);
        try
        {
            await WaitConnected(app, cancel.Token);
            string metrics;
            do
            {
                await Task.Delay(250, cancel.Token);
                metrics = await MetricsText(app);
            }
            while (!metrics.Contains("tsviz_windows_scored_total{", StringComparison.Ordinal));
            Assert.Contains("tsviz_broker_connected 1", metrics, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    private static string SampleJson(DateTimeOffset timestamp, int i)
        => string.Create(CultureInfo.InvariantCulture,
            $$"""{"ts":"{{timestamp.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","pressure":{{5 + (0.05 * Math.Sin(i / 7.0)):R}},"temperature":{{60 + (0.2 * Math.Cos(i / 11.0)):R}},"torque":{{12 + (0.1 * Math.Sin(i / 5.0)):R}}}""");

    private static DateTimeOffset MillisecondsOnly(DateTimeOffset time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private static async Task WaitConnected(WebApplication app, CancellationToken cancellationToken)
    {
        var worker = app.Services.GetRequiredService<MqttGateway>();
        while (!worker.IsConnected)
        {
            await Task.Delay(100, cancellationToken);
        }
    }

    private static async Task<string> MetricsText(WebApplication app)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(new Uri(new Uri(app.Urls.First()), "/metrics"));
    }

    /// <summary>The monitor on an external broker (a test's own Mosquitto on <paramref name="brokerPort"/>); <paramref name="extra"/> wins.</summary>
    internal static WebApplication Monitor(int brokerPort, Dictionary<string, string?> extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{Loopback.FreePort()}",
            ["Monitor:Mqtt:EmbeddedBroker"] = "false",
            ["Monitor:Mqtt:Port"] = brokerPort.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"tsviz-{brokerPort}",
            ["Monitor:MaxGapSeconds"] = "60",
            ["Monitor:Simulator:PublishToExternalBroker"] = "true", // the tests that enable the simulator use it on their own Mosquitto
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return MonitorHost.Build(settings);
    }

    internal static async Task<ConcurrentQueue<JsonElement>> Observe(int port, string filter, CancellationToken cancellationToken, bool persistent = false)
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
