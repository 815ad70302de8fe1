using System.Net.Http.Json;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.Tests.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Prometheus;

/// <summary>
/// The monitor in-process (embedded broker, three simulated machines at 50 Hz with an anomaly every 2 s, the shipped
/// model) scraped every second by a real Prometheus that runs the shipped configuration and rules. Bad input is
/// published once so that the labelled counters that only exist after their first event (rejections by reason,
/// dropped samples) have series.
/// </summary>
public sealed class MonitoredPlantFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly int mqttPort = Loopback.FreePort();
    private WebApplication? app;
    private PrometheusServer? prometheus;

    public int MonitorPort { get; } = Loopback.FreePort();

    internal PrometheusServer Prometheus => prometheus ?? throw new InvalidOperationException("The fixture has not started.");

    public async Task InitializeAsync()
    {
        using var cancel = new CancellationTokenSource(StartTimeout);
        app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{MonitorPort.ToString(CultureInfo.InvariantCulture)}",
            ["Monitor:Mqtt:Port"] = mqttPort.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"tsviz-prometheus-test-{mqttPort.ToString(CultureInfo.InvariantCulture)}",
            ["Monitor:Simulator:Machines"] = "3",
            ["Monitor:Simulator:RateHz"] = "50",
            ["Monitor:Simulator:AnomalyEverySeconds"] = "2",
            ["Monitor:Simulator:Seed"] = "11",
            // Drift references within seconds (the drift panels and rule need their series).
            ["Monitor:Drift:RollingWindows"] = "10",
            ["Monitor:Drift:MinReferenceWindows"] = "40",
            ["Monitor:Drift:PublishEveryWindows"] = "5",
        });
        await app.StartAsync(cancel.Token);
        await PublishBadInputAsync(cancel.Token);
        await RunRetentionJobAsync(cancel.Token);
        var references = BuildDriftReferencesAsync(cancel.Token);
        prometheus = await PrometheusServer.StartAsync(RuleFiles.ConfigurationForTest(MonitorPort), cancel.Token);
        await references;

        // Several scrapes, so that rate() and increase() have samples to work with.
        while ((await prometheus.QueryAsync("count_over_time(up{job=\"tsviz-monitor\"}[1m]) >= 5", cancel.Token)).Values.Count == 0)
        {
            await Task.Delay(500, cancel.Token);
        }
    }

    public async Task<string> ScrapeMonitorAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(new Uri($"http://127.0.0.1:{MonitorPort.ToString(CultureInfo.InvariantCulture)}/metrics"), cancellationToken);
    }

    public async Task DisposeAsync()
    {
        prometheus?.Dispose();
        if (app is not null)
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// Runs the retention job through the API and waits for its success, so the nightly-job series that only exist
    /// after a first success (tsviz_job_last_success_timestamp_seconds) are there for the dashboard and the rule.
    /// </summary>
    private async Task RunRetentionJobAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{MonitorPort.ToString(CultureInfo.InvariantCulture)}") };
        using var response = await http.PostAsJsonAsync(new Uri("/api/jobs/retention/trigger", UriKind.Relative), new { }, cancellationToken);
        response.EnsureSuccessStatusCode();
        while (!(await ScrapeMonitorAsync(cancellationToken)).Contains("tsviz_job_last_success_timestamp_seconds{job=\"retention\"}", StringComparison.Ordinal))
        {
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>
    /// Runs the drift job every 2 seconds until every simulated machine has a reference (each needs
    /// Drift:MinReferenceWindows normal windows stored first), so the drift series exist.
    /// </summary>
    private async Task BuildDriftReferencesAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{MonitorPort.ToString(CultureInfo.InvariantCulture)}") };
        while (!(await ScrapeMonitorAsync(cancellationToken)).Contains("tsviz_drift_references 3", StringComparison.Ordinal))
        {
            using var response = await http.PostAsJsonAsync(new Uri("/api/jobs/drift/trigger", UriKind.Relative), new { }, cancellationToken);
            response.EnsureSuccessStatusCode();
            await Task.Delay(2000, cancellationToken);
        }

        while (!(await ScrapeMonitorAsync(cancellationToken)).Contains("tsviz_drift_state{", StringComparison.Ordinal))
        {
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>
    /// A malformed message, a wrongly typed one and, once machine m1 is being scored, a sample older than m1's latest,
    /// all on m1's input topic (plant/line1/m1/telemetry).
    /// </summary>
    private async Task PublishBadInputAsync(CancellationToken cancellationToken)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", mqttPort).WithClientId($"bad-input-{mqttPort.ToString(CultureInfo.InvariantCulture)}").Build();
        await MqttTestClients.ConnectWithRetry(client, options, cancellationToken);
        while (!(await ScrapeMonitorAsync(cancellationToken)).Contains("tsviz_score{machine=\"line1/m1\"}", StringComparison.Ordinal))
        {
            await Task.Delay(200, cancellationToken);
        }

        string past = DateTimeOffset.UtcNow.AddSeconds(-30).ToString("O", CultureInfo.InvariantCulture);
        string[] payloads =
        [
            "{not json",
            $$"""{"ts": "{{past}}", "pressure": "x", "temperature": 1, "torque": 1}""",
            $$"""{"ts": "{{past}}", "pressure": 5, "temperature": 80, "torque": 12}""",
        ];
        foreach (string payload in payloads)
        {
            await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("plant/line1/m1/telemetry").WithPayload(Encoding.UTF8.GetBytes(payload))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);
        }

        await client.DisconnectAsync(cancellationToken: cancellationToken);
    }
}
