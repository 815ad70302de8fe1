using System.Collections.Concurrent;
using System.Globalization;
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

/// <summary>
/// A monitor in-process on its embedded broker (simulator and jobs off), with an observer subscribed to everything it
/// publishes and a QoS 1 publisher, for tests of the live path's behaviour under faults.
/// </summary>
internal sealed class LiveTestMonitor : IAsyncDisposable
{
    private readonly IMqttClient observer = new MqttClientFactory().CreateMqttClient();
    private readonly IMqttClient publisher = new MqttClientFactory().CreateMqttClient();
    private bool stopped;

    private LiveTestMonitor(WebApplication app, int mqttPort, int httpPort, string database)
    {
        App = app;
        MqttPort = mqttPort;
        HttpPort = httpPort;
        Database = database;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
    }

    public WebApplication App { get; }

    public int MqttPort { get; }

    public int HttpPort { get; }

    public string Database { get; }

    public HttpClient Http { get; }

    /// <summary>Every message observed, as bytes (Sparkplug B ones only here), in arrival order.</summary>
    public ConcurrentQueue<(string Topic, byte[] Payload)> Raw { get; } = new();

    /// <summary>Everything the monitor published as JSON, in arrival order.</summary>
    public ConcurrentQueue<(string Topic, JsonElement Body)> Received { get; } = new();

    public int WindowLength => App.Services.GetRequiredService<LiveModel>().Metadata.WindowLength;

    public static async Task<LiveTestMonitor> StartAsync(
        CancellationToken cancellationToken, Dictionary<string, string?>? extra = null, Action<IServiceCollection>? services = null, string? database = null)
    {
        int mqttPort = Loopback.FreePort();
        int httpPort = Loopback.FreePort();
        database ??= Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        var settings = new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:History:Path"] = database,
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{httpPort}",
            ["Monitor:Mqtt:Port"] = mqttPort.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"tsviz-test-{mqttPort}",
            ["Monitor:Simulator:Enabled"] = "false",
            ["Monitor:Jobs:Enabled"] = "false",
            ["Monitor:MaxGapSeconds"] = "600",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var app = MonitorHost.Build(settings, services);
        var monitor = new LiveTestMonitor(app, mqttPort, httpPort, database);
        await app.StartAsync(cancellationToken);
        monitor.observer.ApplicationMessageReceivedAsync += e =>
        {
            var payload = System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload);
            monitor.Raw.Enqueue((e.ApplicationMessage.Topic, payload));
            if (!e.ApplicationMessage.Topic.StartsWith("spBv1.0/", StringComparison.Ordinal))
            {
                monitor.Received.Enqueue((e.ApplicationMessage.Topic, JsonDocument.Parse(payload).RootElement.Clone()));
            }

            return Task.CompletedTask;
        };
        await MqttTestClients.ConnectWithRetry(monitor.observer, new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", mqttPort).WithClientId($"observer-{mqttPort}").Build(), cancellationToken);
        await monitor.observer.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("tsviz/v1/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);
        await MqttTestClients.ConnectWithRetry(monitor.publisher, new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", mqttPort).WithClientId($"gateway-{mqttPort}").Build(), cancellationToken);
        return monitor;
    }

    /// <summary>Adds <paramref name="filter"/> to what the observer receives (it starts with tsviz/v1/#).</summary>
    public async Task ObserveAsync(string filter, CancellationToken cancellationToken)
        => await observer.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);

    public Task PublishAsync(string topic, string payload, CancellationToken cancellationToken) => PublishAsync(topic, Encoding.UTF8.GetBytes(payload), cancellationToken);

    public async Task PublishAsync(string topic, byte[] payload, CancellationToken cancellationToken)
        => await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);

    public async Task PublishAtMostOnceAsync(string topic, string payload, CancellationToken cancellationToken)
        => await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Encoding.UTF8.GetBytes(payload))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce).Build(), cancellationToken);

    /// <summary>Bodies published on topics ending in <paramref name="suffix"/>.</summary>
    public List<JsonElement> On(string suffix) => [.. Received.Where(r => r.Topic.EndsWith(suffix, StringComparison.Ordinal)).Select(r => r.Body)];

    /// <summary>Waits until <paramref name="done"/> holds (polling), or the token fires.</summary>
    public static async Task Until(Func<bool> done, CancellationToken cancellationToken, Func<string>? state = null)
    {
        while (!done())
        {
            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException) when (state is not null)
            {
                throw new TimeoutException($"Gave up waiting: {state()}");
            }
        }
    }

    public async Task<string> MetricsAsync(CancellationToken cancellationToken) => await Http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken);

    /// <summary>The value of one exported series (exact name with labels), or null.</summary>
    public static double? Metric(string metrics, string series)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>One sample as the gateways send it (plain values around a steady operating point).</summary>
    public static string SampleJson(DateTimeOffset timestamp, int i, double temperatureSpike = 0)
        => string.Create(CultureInfo.InvariantCulture,
            $$"""{"ts":"{{timestamp.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","pressure":{{5 + (0.05 * Math.Sin(i / 7.0)):R}},"temperature":{{60 + (0.2 * Math.Cos(i / 11.0)) + temperatureSpike:R}},"torque":{{12 + (0.1 * Math.Sin(i / 5.0)):R}}}""");

    public static DateTimeOffset WholeSeconds(DateTimeOffset time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    public async Task StopAsync()
    {
        if (!stopped)
        {
            stopped = true;
            await App.StopAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        observer.Dispose();
        publisher.Dispose();
        await StopAsync();
        Http.Dispose();
        await App.DisposeAsync();
    }
}
