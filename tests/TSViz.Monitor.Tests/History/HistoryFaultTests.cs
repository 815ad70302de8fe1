using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using TSViz.Monitor.Tests.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.History;

/// <summary>The history failing: backpressure, never silent loss; an unreadable file stops start-up with one line.</summary>
public sealed class HistoryFaultTests
{
    private const int Hop = 10;

    [Fact]
    public async Task Run_HistoryLockedByAnotherWriter_InputWaitsUnacknowledgedAndEveryWindowIsStoredOnceItIsFree()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, new Dictionary<string, string?>
        {
            ["Monitor:History:BusyTimeoutSeconds"] = "0.5",
            ["Monitor:Health:StallSeconds"] = "1",
            ["Monitor:Health:ExitAfterStallSeconds"] = "2",
        });
        int length = monitor.WindowLength;
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
        const int Samples = 200;
        int expected = ((Samples - length) / Hop) + 1;

        await using (var holder = new SqliteConnection($"Data Source={monitor.Database};Pooling=False"))
        {
            await holder.OpenAsync(cancel.Token);
            await using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                await begin.ExecuteNonQueryAsync(cancel.Token);
            }

            for (int i = 0; i < Samples; i++)
            {
                await monitor.PublishAsync("plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i), cancel.Token);
            }

            // Scoring goes on (explanations are published), the history cannot take them: the input is held, /health says so.
            await LiveTestMonitor.Until(() => monitor.On("/m1/explanation").Count >= 1, cancel.Token, () => "no explanation while the history is locked");
            JsonElement body = default;
            await LiveTestMonitor.Until(() =>
            {
                using var response = monitor.Http.GetAsync(new Uri("/health", UriKind.Relative), cancel.Token).GetAwaiter().GetResult();
                body = JsonDocument.Parse(response.Content.ReadAsStringAsync(cancel.Token).GetAwaiter().GetResult()).RootElement.Clone();
                return response.StatusCode == HttpStatusCode.ServiceUnavailable
                    && body.GetProperty("stages").GetProperty("history").GetProperty("backpressure").ValueKind == JsonValueKind.String;
            }, cancel.Token, () => $"health did not show the history held back: {body}");
            var history = body.GetProperty("stages").GetProperty("history");
            Assert.Equal("stalled", history.GetProperty("state").GetString());
            Assert.Contains("locked", history.GetProperty("backpressure").GetString(), StringComparison.OrdinalIgnoreCase);
            string metrics = await monitor.MetricsAsync(cancel.Token);
            Assert.True(LiveTestMonitor.Metric(metrics, "tsviz_history_write_failures_total") >= 1);
            Assert.True(LiveTestMonitor.Metric(metrics, "tsviz_input_unacknowledged_messages") >= 1);
            Assert.Null(LiveTestMonitor.Metric(metrics, "tsviz_history_windows_total{outcome=\"failed\"}"));

            // Held back from outside, the monitor waits rather than exit (a restart would not free the database).
            await Task.Delay(TimeSpan.FromSeconds(3), cancel.Token);
            Assert.False(monitor.App.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);

            await using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync(cancel.Token);
        }

        string after = string.Empty;
        await LiveTestMonitor.Until(() =>
        {
            after = monitor.MetricsAsync(cancel.Token).GetAwaiter().GetResult();
            return LiveTestMonitor.Metric(after, "tsviz_history_windows_total{outcome=\"stored\"}") == expected
                && LiveTestMonitor.Metric(after, "tsviz_input_unacknowledged_messages") == 0;
        }, cancel.Token, () => $"expected {expected} stored: {string.Join(" ", after.Split('\n').Where(l => l.StartsWith("tsviz_history", StringComparison.Ordinal) || l.StartsWith("tsviz_input", StringComparison.Ordinal) || l.StartsWith("tsviz_windows", StringComparison.Ordinal)))}");
        using var healthy = await monitor.Http.GetAsync(new Uri("/health", UriKind.Relative), cancel.Token);
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    [Fact]
    public async Task Run_CorruptHistoryFile_StopsStartUpWithOneErrorLineNamingTheFile()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string work = RepositoryPaths.NewTempDirectory();
        string database = Path.Combine(work, "history.db");
        var garbage = new byte[64 * 1024];
        new Random(5).NextBytes(garbage);
        await File.WriteAllBytesAsync(database, garbage, cancel.Token);
        await using var monitor = MonitorProcess.Start(new Dictionary<string, string>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:History:Path"] = database,
            ["Monitor:Mqtt:Port"] = Loopback.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Monitor:Simulator:Enabled"] = "false",
            ["Monitor:WarmUp"] = "false",
        }, work);
        int exit = await monitor.TerminateOnExitAsync(cancel.Token);
        Assert.Equal(2, exit);
        var errors = monitor.Log.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(errors);
        Assert.Contains(database, line, StringComparison.Ordinal);
        Assert.Contains("History:Path", line, StringComparison.Ordinal);
    }
}
