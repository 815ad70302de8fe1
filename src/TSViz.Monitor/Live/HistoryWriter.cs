using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;
using TSViz.Plugins.Windows;

namespace TSViz.Monitor.Live;

/// <summary>
/// The live path's history sink. The processor hands over each micro-batch's window records, alert changes and the
/// machines' checkpoints once they are published; a background loop writes them (several batches in one
/// transaction when it falls behind) and only then releases the batch's input for acknowledgement, so the database
/// write overlaps the next batch's scoring instead of adding to it. The hand-over queue is bounded (backpressure on
/// the processor). A write that fails is retried with backoff until it succeeds: its input stays unacknowledged
/// meanwhile, so nothing is dropped; the backlog shows in /health (stage "history") and in the metrics. It writes
/// through <see cref="IHistoryWriter"/> and asks <see cref="IHistoryRestartState"/> which redelivered windows are stored.
/// </summary>
internal sealed partial class HistoryWriter(
    IOptions<MonitorOptions> options, LiveMetrics metrics, StageHealth health, IHostApplicationLifetime lifetime, ILogger<HistoryWriter> logger,
    IHistoryWriter? store = null, IHistoryRestartState? restart = null)
{
    public const string StageName = "history";

    /// <summary>Hand-overs the queue holds before the processor waits.</summary>
    private const int QueueCapacity = 64;

    /// <summary>Queued hand-overs that end a commit interval's wait early, so the processor never waits on a writer that only lingers.</summary>
    private const int EarlyCommitHandOvers = QueueCapacity / 2;

    private readonly double sampleRate = options.Value.History.FullExplanationSampleRate;
    private readonly TimeSpan commitInterval = TimeSpan.FromSeconds(options.Value.History.CommitIntervalSeconds);
    private readonly Channel<Pending> queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private volatile bool completing;
    private TaskCompletionSource? filling;
    private long lastCommit;
    private readonly StageHealth.Stage stage = health.Register(StageName);
    private Task loop = Task.CompletedTask;
    private IReadOnlyDictionary<string, DateTimeOffset>? newestAtStart;

    private static readonly Pending Wake = new(new HistoryBatch(), static () => { });
    private readonly Lock checkpointGate = new();
    private List<HistoryBatch> pendingCheckpoints = [];
    private List<Action> pendingCheckpointsDone = [];

    private sealed record Pending(HistoryBatch Batch, Action Done);

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
    /// Called from the processor's loop only; a locked database answers within History:BusyTimeoutSeconds.
    /// </summary>
    public async Task<IReadOnlySet<string>> AlreadyStoredAsync(IReadOnlyList<(string Id, string Machine, DateTimeOffset End)> windows, CancellationToken cancellationToken)
    {
        if (store is null || restart is null)
        {
            return new HashSet<string>();
        }

        try
        {
            newestAtStart ??= await restart.NewestWindowEndsAsync(cancellationToken).ConfigureAwait(false);
            var candidates = windows.Where(w => newestAtStart.TryGetValue(w.Machine, out var newest) && w.End <= newest).Select(w => w.Id).ToList();
            return candidates.Count == 0
                ? new HashSet<string>()
                : await restart.ExistingWindowIdsAsync(candidates, cancellationToken).ConfigureAwait(false);
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
        else
        {
            stage.Stopped();
        }
    }

    /// <summary>
    /// Queues records for writing; <paramref name="done"/> runs once they are written (never when they are not). A
    /// hand-over of checkpoints only (no records) never waits: it joins the checkpoints waiting for the next write,
    /// so many small groups of messages cannot fill the hand-over queue ahead of the windows.
    /// </summary>
    public ValueTask EnqueueAsync(HistoryBatch batch, Action done, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(done);
        if (store is null)
        {
            done();
            return ValueTask.CompletedTask;
        }

        if (batch.Windows.Count == 0 && batch.Alerts.Count == 0)
        {
            lock (checkpointGate)
            {
                pendingCheckpoints.Add(batch);
                pendingCheckpointsDone.Add(done);
            }

            queue.Writer.TryWrite(Wake); // the loop is busy anyway when the queue is full
            return ValueTask.CompletedTask;
        }

        stage.Waiting(queue.Reader.Count + 1);
        metrics.HistoryBacklog.Set(queue.Reader.Count + 1);
        var written = queue.Writer.WriteAsync(new Pending(batch, done), cancellationToken);
        if (queue.Reader.Count >= EarlyCommitHandOvers)
        {
            Interlocked.Exchange(ref filling, null)?.TrySetResult();
        }

        return written;
    }

    /// <summary>Writes what is queued and stops (shutdown: before the input is acknowledged for the last time).</summary>
    public async Task CompleteAsync()
    {
        queue.Writer.TryComplete();
        completing = true;
        Interlocked.Exchange(ref filling, null)?.TrySetResult();
        await loop.ConfigureAwait(false);
        stage.Stopped();
    }

    private async Task WriteLoopAsync()
    {
        var taken = new List<Pending>();
        while (await queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            await LingerAsync().ConfigureAwait(false);
            await WriteRoundAsync(taken).ConfigureAwait(false);
        }

        await WriteRoundAsync(taken).ConfigureAwait(false); // checkpoints that arrived last
    }

    /// <summary>
    /// Group commit: waits until History:CommitIntervalSeconds have passed since the last transaction began, so one
    /// transaction takes what arrived meanwhile. Each transaction rewrites the index pages where its rows land (one per
    /// machine in the time-keyed indexes), so fewer, larger transactions write far fewer bytes per window. It ends early
    /// when the queue is half full (the processor must not wait on a lingering writer) and at shutdown. Under load the
    /// previous transaction took longer than the interval, and it does not wait at all.
    /// </summary>
    private async Task LingerAsync()
    {
        var remaining = commitInterval - Stopwatch.GetElapsedTime(Volatile.Read(ref lastCommit));
        if (remaining <= TimeSpan.Zero || completing || queue.Reader.Count >= EarlyCommitHandOvers)
        {
            return;
        }

        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref filling, signal); // a full fence: the checks below see a completion or hand-over that missed the signal
        if (queue.Reader.Count >= EarlyCommitHandOvers || completing)
        {
            return; // filled (or stopping) before the signal was in place
        }

        try
        {
            await Task.WhenAny(signal.Task, Task.Delay(remaining)).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.CompareExchange(ref filling, null, signal);
        }
    }

    /// <summary>
    /// One transaction: queued hand-overs and the checkpoints waiting. The checkpoints are taken first and then the
    /// queue is drained whole, so every window handed over before a checkpoint is in the same transaction or an
    /// earlier one, never a later one.
    /// </summary>
    private async Task WriteRoundAsync(List<Pending> taken)
    {
        taken.Clear();
        List<HistoryBatch> checkpoints;
        List<Action> checkpointsDone;
        lock (checkpointGate)
        {
            checkpoints = pendingCheckpoints;
            checkpointsDone = pendingCheckpointsDone;
            pendingCheckpoints = [];
            pendingCheckpointsDone = [];
        }

        while (queue.Reader.TryRead(out var item))
        {
            if (!ReferenceEquals(item, Wake))
            {
                taken.Add(item);
            }
        }

        if (taken.Count == 0 && checkpoints.Count == 0)
        {
            return;
        }

        stage.Waiting(queue.Reader.Count + taken.Count + checkpoints.Count);
        Volatile.Write(ref lastCommit, Stopwatch.GetTimestamp());
        if (!await WriteAsync(Merge([.. taken.Select(p => p.Batch), .. checkpoints])).ConfigureAwait(false))
        {
            return; // given up at shutdown: the input stays unacknowledged and is redelivered to the next run
        }

        foreach (var pending in taken)
        {
            pending.Done();
        }

        foreach (var done in checkpointsDone)
        {
            done();
        }

        stage.Progress();
        stage.Waiting(queue.Reader.Count);
        metrics.HistoryBacklog.Set(queue.Reader.Count);
    }

    /// <summary>
    /// Several hand-overs as one transaction, in order: records as they came; per machine only its last checkpoint
    /// operation counts (a checkpoint, or a removal when the machine was evicted after it).
    /// </summary>
    internal static HistoryBatch Merge(IReadOnlyList<HistoryBatch> taken)
    {
        var last = new Dictionary<string, WindowCheckpoint?>(StringComparer.Ordinal);
        foreach (var batch in taken)
        {
            foreach (var checkpoint in batch.Checkpoints)
            {
                last[checkpoint.Machine] = checkpoint;
            }

            foreach (string machine in batch.RemovedCheckpoints)
            {
                last[machine] = null;
            }
        }

        return new HistoryBatch
        {
            Windows = taken.SelectMany(b => b.Windows).ToList(),
            Alerts = taken.SelectMany(b => b.Alerts).ToList(),
            Checkpoints = last.Values.OfType<WindowCheckpoint>().ToList(),
            RemovedCheckpoints = last.Where(p => p.Value is null).Select(p => p.Key).ToList(),
        };
    }

    /// <summary>Writes the batch, retrying with backoff until it succeeds; false only when given up at shutdown.</summary>
    private async Task<bool> WriteAsync(HistoryBatch batch)
    {
        if (store is null || (batch.Windows.Count == 0 && batch.Alerts.Count == 0 && batch.Checkpoints.Count == 0 && batch.RemovedCheckpoints.Count == 0))
        {
            return true;
        }

        var watch = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(100);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                int added = await store.WriteBatchAsync(batch, CancellationToken.None).ConfigureAwait(false);
                metrics.HistoryWindows.WithLabels("stored").Inc(added);
                metrics.HistoryWindows.WithLabels("duplicate").Inc(batch.Windows.Count - added);
                metrics.StageDuration.WithLabels("history").Observe(watch.Elapsed.TotalSeconds);
                if (attempt > 1)
                {
                    stage.Backpressure(null);
                    LogRecovered(logger, attempt);
                }

                return true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                metrics.HistoryWriteFailures.Inc();
                if (lifetime.ApplicationStopping.IsCancellationRequested && attempt >= 3)
                {
                    LogGivenUp(logger, batch.Windows.Count, batch.Alerts.Count, ex.Message);
                    return false;
                }

                stage.Backpressure($"history writes failing (attempt {attempt}): {ex.Message}");
                LogRetry(logger, attempt, batch.Windows.Count, delay.TotalSeconds, ex.Message);
                await Task.Delay(delay).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(5000, delay.TotalMilliseconds * 2));
            }
        }
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Error, Message = "History write failed (attempt {Attempt}, {Windows} windows); their input stays unacknowledged, retrying in {Seconds} s: {Error}")]
    private static partial void LogRetry(ILogger logger, int attempt, int windows, double seconds, string error);

    [LoggerMessage(EventId = 503, Level = LogLevel.Warning, Message = "Could not look up {Windows} possibly redelivered windows in the history; they are scored and published again: {Error}")]
    private static partial void LogLookupFailed(ILogger logger, int windows, string error);

    [LoggerMessage(EventId = 501, Level = LogLevel.Error, Message = "Stopping with the history unwritable: {Windows} window records and {Alerts} alert updates are not stored; their input is not acknowledged and comes back to the next run: {Error}")]
    private static partial void LogGivenUp(ILogger logger, int windows, int alerts, string error);

    [LoggerMessage(EventId = 504, Level = LogLevel.Information, Message = "History writes succeed again (after {Attempts} attempts)")]
    private static partial void LogRecovered(ILogger logger, int attempts);
}
