using System.Diagnostics;
using Microsoft.Extensions.Options;
using TSViz.Monitor.Live;
using TSViz.Plugins.History;

namespace TSViz.Monitor.History;

/// <summary>
/// The live path's history sink: writes each micro-batch's window records and alert changes in one go, after they
/// are published and before their input is acknowledged. A failing store is retried briefly; if it still fails the
/// batch's records are dropped from the history (counted and logged), never the live results.
/// </summary>
internal sealed partial class HistoryWriter(IOptions<MonitorOptions> options, MonitorMetrics metrics, ILogger<HistoryWriter> logger, IHistoryStore? store = null)
{
    private readonly double sampleRate = options.Value.History.FullExplanationSampleRate;

    public bool Enabled => store is not null;

    /// <summary>Whether a normal window's full explanation is kept: a stable hash of its id, so a redelivery decides the same way.</summary>
    public bool Sampled(string id)
    {
        if (sampleRate <= 0)
        {
            return false;
        }

        uint hash = 2166136261;
        foreach (char c in id)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash % 10_000 < sampleRate * 10_000;
    }

    public async Task WriteAsync(IReadOnlyList<WindowRecord> windows, IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken)
    {
        if (store is null || (windows.Count == 0 && alerts.Count == 0))
        {
            return;
        }

        var watch = Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                int added = await store.WriteWindowsAsync(windows, cancellationToken).ConfigureAwait(false);
                await store.UpsertAlertsAsync(alerts, cancellationToken).ConfigureAwait(false);
                metrics.HistoryWindows.WithLabels("stored").Inc(added);
                metrics.HistoryWindows.WithLabels("duplicate").Inc(windows.Count - added);
                metrics.StageDuration.WithLabels("history").Observe(watch.Elapsed.TotalSeconds);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && attempt < 3)
            {
                LogRetry(logger, attempt, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                metrics.HistoryWindows.WithLabels("failed").Inc(windows.Count);
                LogFailed(logger, windows.Count, alerts.Count, ex.Message);
                return;
            }
        }
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "History write failed (attempt {Attempt}), retrying: {Error}")]
    private static partial void LogRetry(ILogger logger, int attempt, string error);

    [LoggerMessage(EventId = 501, Level = LogLevel.Error, Message = "History write failed: {Windows} window records and {Alerts} alert updates are not in the history (they were published): {Error}")]
    private static partial void LogFailed(ILogger logger, int windows, int alerts, string error);
}

/// <summary>Creates the history schema before anything writes to it (registered first among the hosted services).</summary>
internal sealed partial class HistoryInitializer(IHistoryStore store, ILogger<HistoryInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        if (store is SqliteHistoryStore sqlite)
        {
            LogReady(logger, sqlite.Path);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "Explanation history in {Path}")]
    private static partial void LogReady(ILogger logger, string path);
}
