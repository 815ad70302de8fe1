using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using TSViz.Monitor.Live;
using TSViz.Plugins.History;

namespace TSViz.Monitor.History;

/// <summary>
/// The live path's history sink. The processor hands over each micro-batch's window records and alert changes once
/// they are published; a background loop writes them (several batches per transaction when it falls behind) and
/// only then releases the batch's input for acknowledgement, so the database write overlaps the next batch's
/// scoring instead of adding to it. The hand-over queue is bounded (backpressure on the processor). A failing store
/// is retried briefly; if it still fails the records are dropped from the history (counted and logged), never the
/// live results.
/// </summary>
internal sealed partial class HistoryWriter(IOptions<MonitorOptions> options, MonitorMetrics metrics, ILogger<HistoryWriter> logger, IHistoryStore? store = null)
{
    private readonly double sampleRate = options.Value.History.FullExplanationSampleRate;
    private readonly Channel<Pending> queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(32) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private Task loop = Task.CompletedTask;
    private IReadOnlyDictionary<string, DateTimeOffset>? newestAtStart;

    private sealed record Pending(IReadOnlyList<WindowRecord> Windows, IReadOnlyList<AlertRecord> Alerts, Action Done);

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

    /// <summary>
    /// The ids among <paramref name="windows"/> whose results are already in the history: input the broker redelivered
    /// (after a restart of the monitor) for windows that were published, stored, but not yet acknowledged. Only
    /// windows ending at or before their machine's newest stored window at start-up can be such repeats (this run's
    /// own windows are newer), so the database is asked about those only: after the redelivered backlog, never.
    /// Called from the processor's loop only.
    /// </summary>
    public async Task<IReadOnlySet<string>> AlreadyStoredAsync(IReadOnlyList<(string Id, string Machine, DateTimeOffset End)> windows, CancellationToken cancellationToken)
    {
        if (store is null)
        {
            return new HashSet<string>();
        }

        try
        {
            newestAtStart ??= await store.NewestWindowEndsAsync(cancellationToken).ConfigureAwait(false);
            var candidates = windows.Where(w => newestAtStart.TryGetValue(w.Machine, out var newest) && w.End <= newest).Select(w => w.Id).ToList();
            return candidates.Count == 0
                ? new HashSet<string>()
                : await store.ExistingWindowIdsAsync(candidates, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogLookupFailed(logger, windows.Count, ex.Message);
            return new HashSet<string>(); // at least once: score and publish again rather than lose a window
        }
    }

    /// <summary>Starts the write loop (the processor does, when it starts).</summary>
    public void Start()
    {
        if (store is not null)
        {
            loop = Task.Run(WriteLoopAsync);
        }
    }

    /// <summary>Queues records for writing; <paramref name="done"/> runs once they are written (or given up on).</summary>
    public ValueTask EnqueueAsync(IReadOnlyList<WindowRecord> windows, IReadOnlyList<AlertRecord> alerts, Action done, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(done);
        if (store is null)
        {
            done();
            return ValueTask.CompletedTask;
        }

        return queue.Writer.WriteAsync(new Pending(windows, alerts, done), cancellationToken);
    }

    /// <summary>Writes what is queued and stops (shutdown: before the input is acknowledged for the last time).</summary>
    public async Task CompleteAsync()
    {
        queue.Writer.TryComplete();
        await loop.ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        var taken = new List<Pending>();
        while (await queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            taken.Clear();
            while (taken.Count < 16 && queue.Reader.TryRead(out var item))
            {
                taken.Add(item);
            }

            await WriteAsync(taken.SelectMany(p => p.Windows).ToList(), taken.SelectMany(p => p.Alerts).ToList(), CancellationToken.None).ConfigureAwait(false);
            foreach (var pending in taken)
            {
                pending.Done();
            }
        }
    }

    private async Task WriteAsync(List<WindowRecord> windows, List<AlertRecord> alerts, CancellationToken cancellationToken)
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

    [LoggerMessage(EventId = 503, Level = LogLevel.Warning, Message = "Could not look up {Windows} possibly redelivered windows in the history; they are scored and published again: {Error}")]
    private static partial void LogLookupFailed(ILogger logger, int windows, string error);

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
