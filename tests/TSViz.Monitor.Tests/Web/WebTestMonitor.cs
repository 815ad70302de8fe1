using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using TSViz.Monitor.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Web;

/// <summary>
/// The monitor on its embedded broker with the simulator injecting a temperature anomaly on m2 (every window kept
/// in full), once its alert is recorded and, on request, the nightly analysis has run.
/// </summary>
internal sealed class WebTestMonitor : IAsyncDisposable
{
    private WebTestMonitor(WebApplication app, string baseUrl)
    {
        App = app;
        BaseUrl = baseUrl;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl) };
    }

    public WebApplication App { get; }

    public string BaseUrl { get; }

    public HttpClient Http { get; }

    /// <summary>The injected anomaly's alert episode.</summary>
    public string AlertId { get; private set; } = "";

    public static async Task<WebTestMonitor> StartAsync(string clientId, CancellationToken cancellationToken)
    {
        int httpPort = Loopback.FreePort();
        int mqttPort = Loopback.FreePort();
        var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{httpPort}",
            ["Monitor:Mqtt:Port"] = mqttPort.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"{clientId}-{mqttPort}",
            ["Monitor:History:FullExplanationSampleRate"] = "1",
            ["Monitor:Simulator:Machines"] = "2",
            ["Monitor:Simulator:RateHz"] = "50",
            ["Monitor:Simulator:AnomalyEverySeconds"] = "0",
            ["Monitor:Simulator:Inject:0"] = "m2:temperature@3",
        });
        var monitor = new WebTestMonitor(app, $"http://127.0.0.1:{httpPort}");
        await app.StartAsync(cancellationToken);
        while (monitor.AlertId.Length == 0)
        {
            await Task.Delay(500, cancellationToken);
            var alerts = await monitor.GetAsync("/api/alerts", cancellationToken);
            monitor.AlertId = alerts.GetProperty("items").EnumerateArray().Where(a => a.GetProperty("machine").GetString() == "m2")
                .Select(a => a.GetProperty("id").GetString()).FirstOrDefault() ?? "";
        }

        return monitor;
    }

    public async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken)
        => await Http.GetFromJsonAsync<JsonElement>(new Uri(path, UriKind.Relative), cancellationToken);

    /// <summary>Triggers the nightly analysis through the API and waits for its stored result.</summary>
    public async Task<JsonElement> RunAnalysisAsync(CancellationToken cancellationToken)
    {
        using (var trigger = await Http.PostAsync(new Uri("/api/jobs/analysis/trigger", UriKind.Relative), null, cancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, trigger.StatusCode);
        }

        while (true)
        {
            var items = (await GetAsync("/api/analyses?job=analysis&limit=1", cancellationToken)).GetProperty("items");
            if (items.GetArrayLength() > 0)
            {
                return items[0].GetProperty("summary");
            }

            await Task.Delay(500, cancellationToken);
        }
    }

    /// <summary>The alert's peak window id, escaped for a path or an address.</summary>
    public async Task<string> PeakWindowAsync(CancellationToken cancellationToken)
        => Uri.EscapeDataString((await GetAsync($"/api/alerts/{Uri.EscapeDataString(AlertId)}", cancellationToken)).GetProperty("alert").GetProperty("peakWindowId").GetString()!);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
    }
}
