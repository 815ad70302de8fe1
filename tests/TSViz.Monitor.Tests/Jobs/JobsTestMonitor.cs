using System.Net.Http.Json;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using TSViz.Explain.Onnx;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Jobs;

/// <summary>The monitor in-process on a history file for the job tests, with its HTTP API and helpers to run a job and read its outcome.</summary>
internal sealed class JobsTestMonitor : IAsyncDisposable
{
    private JobsTestMonitor(WebApplication app, int httpPort, int mqttPort)
    {
        App = app;
        MqttPort = mqttPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort.ToString(CultureInfo.InvariantCulture)}") };
    }

    public WebApplication App { get; }

    public HttpClient Http { get; }

    public int MqttPort { get; }

    public static async Task<JobsTestMonitor> StartAsync(string database, bool simulator, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? extra = null)
    {
        int httpPort = Loopback.FreePort();
        int mqttPort = Loopback.FreePort();
        var settings = new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{httpPort.ToString(CultureInfo.InvariantCulture)}",
            ["Monitor:Mqtt:Port"] = mqttPort.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"tsviz-jobs-{mqttPort.ToString(CultureInfo.InvariantCulture)}",
            ["Monitor:History:Path"] = database,
            ["Monitor:Simulator:Enabled"] = simulator ? "true" : "false",
            ["Monitor:Simulator:Machines"] = "2",
            ["Monitor:Simulator:RateHz"] = "50",
            ["Monitor:Simulator:AnomalyEverySeconds"] = "2",
            ["Monitor:Simulator:Seed"] = "5",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var app = MonitorHost.Build(settings);
        await app.StartAsync(cancellationToken);
        return new JobsTestMonitor(app, httpPort, mqttPort);
    }

    public async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<string> MetricsAsync(CancellationToken cancellationToken)
        => await Http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken);

    /// <summary>The job's entry in GET /api/jobs.</summary>
    public async Task<JsonElement> JobAsync(string name, CancellationToken cancellationToken)
        => (await GetAsync("/api/jobs", cancellationToken)).GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == name);

    /// <summary>Triggers the job through the API (202) and waits for its run to be recorded; returns the run.</summary>
    public async Task<JsonElement> RunJobAsync(string name, CancellationToken cancellationToken)
    {
        var before = (await JobAsync(name, cancellationToken)).GetProperty("lastRun");
        string? previous = before.ValueKind == JsonValueKind.Object ? before.GetProperty("finishedAt").GetString() : null;
        using var response = await Http.PostAsJsonAsync(new Uri($"/api/jobs/{name}/trigger", UriKind.Relative), new { }, cancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("/api/jobs", response.Headers.Location?.OriginalString);
        var accepted = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
        Assert.Equal(name, accepted.GetProperty("job").GetString());
        Assert.True(accepted.TryGetProperty("fireTime", out _));
        while (true)
        {
            await Task.Delay(200, cancellationToken);
            var run = (await JobAsync(name, cancellationToken)).GetProperty("lastRun");
            if (run.ValueKind == JsonValueKind.Object && run.GetProperty("finishedAt").GetString() != previous)
            {
                return run;
            }
        }
    }

    /// <summary>Rows of a query on the history file, as the test sees it from outside the monitor.</summary>
    public static long Scalar(string database, string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, DefaultTimeout = 30, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Stored windows with their inputs (what the live path keeps in full), the shipped model's shape: a slow sine per
    /// channel with noise, ending at <paramref name="end"/> one second apart.
    /// </summary>
    public static async Task<IReadOnlyList<WindowRecord>> StoreWindowsAsync(string database, int count, DateTimeOffset end, string machine, CancellationToken cancellationToken)
    {
        var metadata = OnnxModelFile.Load(RepositoryPaths.AnomalyModel).Metadata;
        int channels = metadata.Channels.Count;
        int length = metadata.WindowLength;
        var random = new Random(3);
        var store = new SqliteHistoryStore(database);
        await store.InitializeAsync(cancellationToken);
        var records = new List<WindowRecord>();
        for (int i = 0; i < count; i++)
        {
            var input = new float[channels * length];
            for (int c = 0; c < channels; c++)
            {
                for (int t = 0; t < length; t++)
                {
                    input[c * length + t] = (float)(Math.Sin((i + t) * 0.1 + c) * (5 + c) + 50 * c + random.NextDouble());
                }
            }

            var windowEnd = end.AddSeconds(-i);
            records.Add(new WindowRecord
            {
                Id = $"{machine}|{windowEnd.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}|test",
                Machine = machine,
                ModelVersion = metadata.Version,
                WindowStart = windowEnd.AddSeconds(-1),
                WindowEnd = windowEnd,
                Score = 0.1f,
                Decision = false,
                ReasonCode = "normal",
                Detail = new WindowDetail("{}"u8.ToArray(), input, channels, length),
            });
        }

        await store.WriteWindowsAsync(records, cancellationToken);
        return records;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
    }
}
