using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>The whole live path in-process: the embedded MQTTnet broker, the simulator, the worker, the HTTP endpoints.</summary>
public sealed class LiveMonitorTests
{
    [Fact]
    public async Task Run_EmbeddedDefaults_SimulatedAnomaliesBecomeExplainedAlertsAndBadMessagesGoToTheDeadLetterTopic()
    {
        int mqttPort = Loopback.FreePort();
        int httpPort = Loopback.FreePort();
        await using var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{httpPort}",
            ["Monitor:Mqtt:Port"] = mqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"tsviz-test-{mqttPort}",
            ["Monitor:Simulator:Machines"] = "2",
            ["Monitor:Simulator:RateHz"] = "50",
            ["Monitor:Simulator:AnomalyEverySeconds"] = "2",
            ["Monitor:Simulator:Seed"] = "7",
        });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await app.StartAsync(cancel.Token);
        try
        {
            var received = new ConcurrentQueue<(string Topic, JsonElement Body)>();
            using var observer = new MqttClientFactory().CreateMqttClient();
            observer.ApplicationMessageReceivedAsync += e =>
            {
                received.Enqueue((e.ApplicationMessage.Topic, JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray()).RootElement.Clone()));
                return Task.CompletedTask;
            };
            await MqttTestClients.ConnectWithRetry(observer, new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", mqttPort).WithClientId($"observer-{mqttPort}").Build(), cancel.Token);
            await observer.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("tsviz/v1/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancel.Token);

            string now = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            string[] malformed =
            [
                "{not json",
                $$"""{"ts": "{{now}}", "pressure": "x", "temperature": 1, "torque": 1}""",
                $$"""{"ts": "{{now}}", "pressure": 1, "temperature": 1}""",
                """{"ts": "1999-01-01T00:00:00Z", "pressure": 1, "temperature": 1, "torque": 1}""",
            ];
            foreach (var payload in malformed)
            {
                await observer.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("plant/line1/bad/telemetry").WithPayload(Encoding.UTF8.GetBytes(payload))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancel.Token);
            }

            var simulator = app.Services.GetRequiredService<Simulator>();
            JsonElement? matchedAlert = null;
            while (matchedAlert is null)
            {
                await Task.Delay(250, cancel.Token);
                var truths = simulator.Injected;
                foreach (var (topic, body) in received.Where(r => r.Topic.EndsWith("/alert", StringComparison.Ordinal)))
                {
                    string machine = body.GetProperty("machine").GetString()!;
                    var since = body.GetProperty("since").GetDateTimeOffset();
                    // An alert whose episode saw exactly one injected anomaly (a window spans 1 s at 50 Hz; the
                    // alert opens at most a window after the spike and may peak on a later window).
                    var truth = truths.Where(t => t.Machine == machine && (t.Timestamp - since).Duration() < TimeSpan.FromSeconds(3)).ToList();
                    bool settled = truths.Count > 0 && truths.Max(t => t.Timestamp) > since.AddSeconds(3);
                    if (body.GetProperty("status").GetString() == "open" && truth.Count == 1 && settled)
                    {
                        Assert.Equal(truth[0].Channel, body.GetProperty("dominantChannel").GetString());
                        matchedAlert = body;
                    }
                }
            }

            Assert.True(matchedAlert.Value.GetProperty("peakScore").GetDouble() >= 0.5);
            Assert.NotEmpty(matchedAlert.Value.GetProperty("topFilters").EnumerateArray());

            // The injected spike is what the model used: removing the peak's top 5 % of cells by saliency lowers the
            // score far more than removing as many random cells.
            var check = matchedAlert.Value.GetProperty("faithfulness");
            Assert.Equal("passed", check.GetProperty("verdict").GetString());
            Assert.Equal(matchedAlert.Value.GetProperty("peakScore").GetDouble(), check.GetProperty("score").GetDouble(), 3);
            Assert.True(check.GetProperty("randomScore").GetDouble() - check.GetProperty("deletionScore").GetDouble() >= 0.1, check.ToString());
            Assert.Equal(0.05, check.GetProperty("fraction").GetDouble());

            // Every scored window came out as an explanation with the documented fields.
            var explanation = received.First(r => r.Topic.EndsWith("/explanation", StringComparison.Ordinal)).Body;
            Assert.Equal(3, explanation.GetProperty("saliency").GetArrayLength());
            Assert.Equal(1f, explanation.GetProperty("channelContributions").EnumerateObject().Sum(p => p.Value.GetSingle()), 3);
            Assert.Equal("logit", explanation.GetProperty("differentiated").GetString());
            Assert.Equal("fgsm", explanation.GetProperty("robustness").GetProperty("method").GetString());
            var alertWindow = received.Select(r => r.Body).FirstOrDefault(b => b.TryGetProperty("robustness", out var rb) && b.TryGetProperty("alert", out var alert)
                && alert.GetProperty("open").GetBoolean() && (rb.TryGetProperty("smallestFlippingEpsilon", out _) || rb.TryGetProperty("notFlippedUpTo", out _)));
            Assert.NotEqual(JsonValueKind.Undefined, alertWindow.ValueKind);
            Assert.True(alertWindow.TryGetProperty("filterSaliency", out _));
            Assert.True(alertWindow.TryGetProperty("faithfulness", out _));
            Assert.Equal("gradient-x-input", explanation.GetProperty("saliencyMethod").GetString());
            Assert.All(received.Where(r => r.Topic.EndsWith("/explanation", StringComparison.Ordinal) && !(r.Body.TryGetProperty("alert", out var a) && a.GetProperty("open").GetBoolean())),
                r => Assert.False(r.Body.TryGetProperty("faithfulness", out _), "a window outside an alert was checked"));

            var letters = received.Where(r => r.Topic == "tsviz/v1/deadletter").Select(r => r.Body.GetProperty("reason").GetString()).ToList();
            Assert.Contains("malformed_json", letters);
            Assert.Contains("wrong_type", letters);
            Assert.Contains("missing_channel", letters);
            Assert.Contains("absurd_timestamp", letters);

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            var health = await http.GetAsync(new Uri("/health", UriKind.Relative), cancel.Token);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            string metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancel.Token);
            Assert.Contains("tsviz_windows_scored_total{outcome=\"anomaly\"}", metrics, StringComparison.Ordinal);
            Assert.Contains("tsviz_messages_rejected_total{reason=\"malformed_json\"} 1", metrics, StringComparison.Ordinal);
            Assert.Contains("tsviz_broker_connected 1", metrics, StringComparison.Ordinal);
            Assert.Matches("tsviz_alert_faithfulness_margin_count\\{verdict=\"passed\"\\} [1-9]", metrics);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Run_InvalidConfiguration_StopsStartUpNamingTheKey()
    {
        await using var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:Mqtt:Port"] = "0",
            ["Monitor:Hop"] = "0",
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{Loopback.FreePort()}",
            // Rules a feature judges (live path, MQTT security, HTTP security): start-up checks them as well.
            ["Monitor:Explanations:0"] = "shap",
            ["Monitor:Health:NativeAllocator"] = "tcmalloc",
            ["Monitor:Mqtt:Users:0:Username"] = "gateway-7",
            ["Monitor:Mqtt:Users:0:Role"] = "admin",
            ["Monitor:Mqtt:Users:0:PasswordHash"] = "plain",
            ["Monitor:Security:RateLimit:WritesPerMinute"] = "0",
        });
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        foreach (string key in new[] { "Monitor:Mqtt:Port", "Monitor:Hop", "Monitor:Explanations", "Monitor:Health:NativeAllocator", "Monitor:Mqtt:Users:0:Role",
            "Monitor:Mqtt:Users:0:PasswordHash", "Monitor:Security:RateLimit:WritesPerMinute" })
        {
            Assert.Contains(error.Failures, f => f.StartsWith(key, StringComparison.Ordinal));
        }
    }
}
