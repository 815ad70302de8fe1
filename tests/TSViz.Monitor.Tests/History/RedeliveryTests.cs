using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.Tests.Live;
using TSViz.Plugins.History;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.History;

/// <summary>The idempotency key at work: input redelivered after a restart does not produce or count a window twice.</summary>
public sealed class RedeliveryTests
{
    [Fact]
    public async Task Run_WindowsAlreadyInTheHistory_AreNotScoredPublishedOrCountedAgain()
    {
        int mqttPort = Loopback.FreePort();
        int httpPort = Loopback.FreePort();
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        await using var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:History:Path"] = database,
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{httpPort}",
            ["Monitor:Mqtt:Port"] = mqttPort.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"tsviz-redelivery-{mqttPort}",
            ["Monitor:Simulator:Enabled"] = "false",
            ["Monitor:Jobs:Enabled"] = "false",
            ["Monitor:MaxGapSeconds"] = "600",
        });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await app.StartAsync(cancel.Token);
        try
        {
            var metadata = app.Services.GetRequiredService<LiveModel>().Metadata;
            int length = metadata.WindowLength;
            var start = new DateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(-10).Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
            string Id(int lastSample) => $"line1/m1:{start.AddMilliseconds(100 * lastSample).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}:{metadata.Name}/{metadata.Version}";

            // A previous run published and stored the first two windows, then stopped before acknowledging them.
            var store = app.Services.GetRequiredService<IHistoryStore>();
            await store.WriteWindowsAsync(new[] { length - 1, length + 9 }.Select(last => new WindowRecord
            {
                Id = Id(last), Machine = "line1/m1", ModelVersion = metadata.Version, WindowEnd = start.AddMilliseconds(100 * last), Score = 0.1f, Decision = false, ReasonCode = "normal",
            }).ToList(), cancel.Token);

            var explanations = new ConcurrentQueue<string>();
            using var client = new MqttClientFactory().CreateMqttClient();
            client.ApplicationMessageReceivedAsync += e =>
            {
                explanations.Enqueue(JsonDocument.Parse(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload)).RootElement.GetProperty("id").GetString()!);
                return Task.CompletedTask;
            };
            await MqttTestClients.ConnectWithRetry(client, new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", mqttPort).WithClientId($"redeliverer-{mqttPort}").Build(), cancel.Token);
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("tsviz/v1/+/+/explanation", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancel.Token);

            // The broker redelivers the stream: three windows complete (samples length-1, length+9, length+19).
            for (int i = 0; i < length + 20; i++)
            {
                string json = string.Create(CultureInfo.InvariantCulture,
                    $$"""{"ts":"{{start.AddMilliseconds(100 * i).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","pressure":{{5 + (0.05 * Math.Sin(i / 7.0)):R}},"temperature":{{60 + (0.2 * Math.Cos(i / 11.0)):R}},"torque":{{12 + (0.1 * Math.Sin(i / 5.0)):R}}}""");
                await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("plant/line1/m1/telemetry").WithPayload(Encoding.UTF8.GetBytes(json))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancel.Token);
            }

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            string metrics;
            do
            {
                await Task.Delay(200, cancel.Token);
                metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancel.Token);
            }
            while (explanations.IsEmpty || !metrics.Contains("tsviz_windows_repeated_total 2", StringComparison.Ordinal));

            await Task.Delay(500, cancel.Token);
            Assert.Equal([Id(length + 19)], explanations.ToArray());
            Assert.Matches(@"tsviz_windows_scored_total\{outcome=""\w+""\} 1\n", metrics);
            Assert.Equal(3, (await store.QueryWindowsAsync(new WindowQuery { Machine = "line1/m1" }, cancel.Token)).Items.Count);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }
}
