using System.Text.Json;
using TSViz.Monitor.Tests.Jobs;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Web;

/// <summary>
/// The jobs tests' monitor with the simulator injecting a temperature anomaly on m2 (no random ones, every window
/// kept in full), once its alert is recorded.
/// </summary>
internal sealed class WebTestMonitor : IAsyncDisposable
{
    private readonly JobsTestMonitor monitor;

    private WebTestMonitor(JobsTestMonitor monitor) => this.monitor = monitor;

    public string BaseUrl => monitor.Http.BaseAddress!.ToString().TrimEnd('/');

    public HttpClient Http => monitor.Http;

    /// <summary>The injected anomaly's alert episode.</summary>
    public string AlertId { get; private set; } = "";

    /// <summary>The monitor's services (the live model, the history store, the interactive explainer).</summary>
    public IServiceProvider Services => monitor.App.Services;

    /// <summary>Starts it; <paramref name="extra"/> settings (key = "Monitor:...") win over the web tests' own.</summary>
    public static async Task<WebTestMonitor> StartAsync(CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Monitor:History:FullExplanationSampleRate"] = "1",
            ["Monitor:Simulator:AnomalyEverySeconds"] = "0",
            ["Monitor:Simulator:Inject:0"] = "m2:temperature@3",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var started = new WebTestMonitor(await JobsTestMonitor.StartAsync(Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"), simulator: true, cancellationToken, settings));
        while (started.AlertId.Length == 0)
        {
            await Task.Delay(500, cancellationToken);
            var alerts = await started.GetAsync("/api/alerts", cancellationToken);
            started.AlertId = alerts.GetProperty("items").EnumerateArray().Where(a => a.GetProperty("machine").GetString() == "line1/m2")
                .Select(a => a.GetProperty("id").GetString()).FirstOrDefault() ?? "";
        }

        return started;
    }

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken) => monitor.GetAsync(path, cancellationToken);

    /// <summary>Runs the nightly analysis through the API and returns its stored summary.</summary>
    public async Task<JsonElement> RunAnalysisAsync(CancellationToken cancellationToken)
    {
        var run = await monitor.RunJobAsync("analysis", cancellationToken);
        Assert.Equal("succeeded", run.GetProperty("outcome").GetString());
        return (await GetAsync("/api/analyses?job=analysis&limit=1", cancellationToken)).GetProperty("items")[0].GetProperty("summary");
    }

    /// <summary>The alert's peak window id, escaped for a path or an address.</summary>
    public async Task<string> PeakWindowAsync(CancellationToken cancellationToken)
        => Uri.EscapeDataString((await GetAsync($"/api/alerts/{Uri.EscapeDataString(AlertId)}", cancellationToken)).GetProperty("alert").GetProperty("peakWindowId").GetString()!);

    public ValueTask DisposeAsync() => monitor.DisposeAsync();
}
