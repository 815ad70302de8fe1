using Microsoft.Extensions.DependencyInjection;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Live;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Monitor.Tests.Live;

/// <summary>Alert episodes survive restarts: at most one open episode per machine, ever; none left open.</summary>
public sealed class AlertRestartTests
{
    [Fact]
    public async Task Run_RestartedMidEpisode_TheEpisodeContinuesAndClosesOnceAndAStaleOpenOneIsClosed()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var (database, open) = await FirstRunEndingMidEpisodeAsync(cancel.Token);

        // What earlier versions left behind: an older episode of the same machine still marked open.
        var stale = open with { Id = open.Id.Replace("m1:", "m1:stale-", StringComparison.Ordinal), Since = open.Since.AddHours(-1), Episode = 0 };
        await new SqliteHistoryStore(database).UpsertAlertsAsync([stale], cancel.Token);

        await using (var second = await LiveTestMonitor.StartAsync(cancel.Token, Simulated(), database: database))
        {
            var history = second.App.Services.GetRequiredService<IHistoryStore>();
            IReadOnlyList<AlertRecord> alerts = [];
            await LiveTestMonitor.Until(() =>
            {
                alerts = history.QueryAlertsAsync(new AlertQuery { Machine = "line1/m1" }, cancel.Token).GetAwaiter().GetResult().Items;
                Assert.True(alerts.Count(a => a.Status == "open") <= 1, "two open episodes of one machine");
                return alerts.All(a => a.Status == "closed");
            }, cancel.Token);

            var continued = Assert.Single(alerts, a => a.Id == open.Id);
            Assert.Null(continued.CloseReason); // closed by hysteresis on the second run's windows
            Assert.Equal(open.Episode, continued.Episode);
            var closedStale = Assert.Single(alerts, a => a.Id == stale.Id);
            Assert.Equal("monitor_restarted", closedStale.CloseReason);
            Assert.Equal(2, alerts.Count);
        }
    }

    [Fact]
    public async Task Run_RestartedWithoutTheMachinesPartialWindow_TheOpenEpisodeIsClosedAsMonitorRestarted()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var (database, open) = await FirstRunEndingMidEpisodeAsync(cancel.Token);
        // The machine's stream cannot be continued (no partial window to resume): the episode cannot be either.
        await new SqliteHistoryStore(database).WriteBatchAsync(new HistoryBatch { RemovedCheckpoints = ["line1/m1"] }, cancel.Token);

        await using var second = await LiveTestMonitor.StartAsync(cancel.Token, database: database);
        await LiveTestMonitor.Until(() => second.On("/m1/alert").Count > 0, cancel.Token);
        var retained = second.On("/m1/alert")[^1];
        Assert.True(retained.GetProperty("status").GetString() == "closed", string.Join("\n", second.Received.Select(r => $"{r.Topic}: {r.Body.GetRawText()[..Math.Min(300, r.Body.GetRawText().Length)]}")));
        Assert.Equal("monitor_restarted", retained.GetProperty("closeReason").GetString());
        var stored = await second.App.Services.GetRequiredService<IHistoryStore>().GetAlertAsync(open.Id, cancel.Token);
        Assert.Equal("closed", stored!.Status);
        Assert.Equal("monitor_restarted", stored.CloseReason);
    }

    [Fact]
    public async Task Run_RestartedMidEpisode_TheRepublishedAlertKeepsItsStoredCounterfactual()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var (database, open) = await FirstRunEndingMidEpisodeAsync(cancel.Token);
        await new SqliteHistoryStore(database).WriteBatchAsync(new HistoryBatch { RemovedCheckpoints = ["line1/m1"] }, cancel.Token);
        // The counterfactual of the stored peak, as the first run's worker stores it (written here, so the test does not
        // depend on whether the worker finished before the stop).
        var counterfactual = new CounterfactualMessage(open.PeakWindowId, open.Since.AddSeconds(-1), open.Since, true, 0.3, 1f, 0.21f,
            [new CounterfactualChangeMessage("temperature", 47, open.Since, 75.5f, 60.1f)], "Normal (score 0.210, below the close level 0.3) if ...", null, 7, open.Since, 2.5);
        var document = new CounterfactualDocument(open.Id, "line1/m1", open.ModelVersion, open.Since.AddSeconds(-1), open.Since, ["pressure", "temperature", "torque"], counterfactual,
            [new float[50], new float[50], new float[50]], [new float[50], new float[50], new float[50]]);
        await new SqliteHistoryStore(database).SaveCounterfactualAsync(
            new CounterfactualRecord(open.Id, "line1/m1", open.PeakWindowId, open.Since, true, System.Text.Json.JsonSerializer.Serialize(document, LiveJsonContext.Default.CounterfactualDocument)), cancel.Token);

        await using var second = await LiveTestMonitor.StartAsync(cancel.Token, database: database);
        await LiveTestMonitor.Until(() => second.On("/m1/alert").Count > 0, cancel.Token);
        var retained = second.On("/m1/alert")[^1];
        Assert.Equal("monitor_restarted", retained.GetProperty("closeReason").GetString());
        Assert.True(retained.TryGetProperty("counterfactual", out var carried), "the republished alert lost its counterfactual");
        Assert.Equal(open.PeakWindowId, carried.GetProperty("peakWindowId").GetString());
        Assert.Equal(60.1f, carried.GetProperty("changes")[0].GetProperty("to").GetSingle());
    }

    /// <summary>One machine, anomalies injected for a few seconds; stops (SIGTERM-like) while the alert is open.</summary>
    private static async Task<(string Database, AlertRecord Open)> FirstRunEndingMidEpisodeAsync(CancellationToken cancellationToken)
    {
        var settings = Simulated();
        for (int i = 0; i < 12; i++)
        {
            settings[$"Monitor:Simulator:Inject:{i}"] = FormattableString.Invariant($"m1:temperature@{3 + (0.5 * i)}");
        }

        await using var first = await LiveTestMonitor.StartAsync(cancellationToken, settings);
        var history = first.App.Services.GetRequiredService<IHistoryStore>();
        AlertRecord? open = null;
        await LiveTestMonitor.Until(() =>
        {
            open = history.QueryAlertsAsync(new AlertQuery { Machine = "line1/m1" }, cancellationToken).GetAwaiter().GetResult().Items.FirstOrDefault(a => a.Status == "open");
            return open is not null;
        }, cancellationToken);
        await first.StopAsync();
        var after = await new SqliteHistoryStore(first.Database).GetAlertAsync(open!.Id, cancellationToken);
        Assert.Equal("open", after!.Status);
        return (first.Database, after);
    }

    private static Dictionary<string, string?> Simulated() => new()
    {
        ["Monitor:Simulator:Enabled"] = "true",
        ["Monitor:Simulator:Machines"] = "1",
        ["Monitor:Simulator:RateHz"] = "50",
        ["Monitor:Simulator:AnomalyEverySeconds"] = "0",
        ["Monitor:MaxGapSeconds"] = "30",
    };
}
