using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using TSViz.Plugins.Windows;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

public sealed class HistoryWriterTests
{
    [Fact]
    public void Merge_CheckpointsAndEvictions_LastOperationPerMachineWins()
    {
        static WindowCheckpoint Checkpoint(string machine, int seconds)
            => new(machine, [DateTimeOffset.UnixEpoch.AddSeconds(seconds)], [1f, 2f, 3f], 1, 0);

        var merged = HistoryWriter.Merge(
        [
            new HistoryBatch { Windows = [new WindowRecord { Id = "w1", Machine = "a", ModelVersion = "v", WindowEnd = DateTimeOffset.UnixEpoch, ReasonCode = "normal" }], Checkpoints = [Checkpoint("a", 1), Checkpoint("b", 1)] },
            new HistoryBatch { RemovedCheckpoints = ["b"], Checkpoints = [Checkpoint("a", 2)] },
            new HistoryBatch { Windows = [new WindowRecord { Id = "w2", Machine = "c", ModelVersion = "v", WindowEnd = DateTimeOffset.UnixEpoch, ReasonCode = "normal" }], RemovedCheckpoints = ["c"] },
            new HistoryBatch { Checkpoints = [Checkpoint("c", 3)] },
        ]);

        Assert.Equal(["w1", "w2"], merged.Windows.Select(w => w.Id));
        Assert.Equal(["a", "c"], merged.Checkpoints.Select(c => c.Machine).Order());
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(2), merged.Checkpoints.Single(c => c.Machine == "a").Last);
        Assert.Equal(["b"], merged.RemovedCheckpoints);
    }

    private static readonly Lazy<LiveModel> Model = new(() => new LiveModel(RepositoryPaths.AnomalyModel));

    [Fact]
    public async Task CommitInterval_HandOversArrivingWithinIt_ShareOneTransaction_AndEveryWindowIsStored()
    {
        var (writer, store, transactions) = await NewWriter(commitIntervalSeconds: 2);
        var done = new List<Task>();
        for (int i = 0; i < 10; i++)
        {
            done.Add(await Enqueue(writer, i));
            await Task.Delay(20);
        }

        await Task.WhenAll(done).WaitAsync(TimeSpan.FromSeconds(30));
        await writer.CompleteAsync();

        // The first hand-over is written at once (nothing was written before); the nine after it wait for the interval and go together.
        Assert.InRange(transactions(), 2, 3);
        Assert.Equal(10, (await store.QueryWindowsAsync(new WindowQuery { Limit = 100 }, CancellationToken.None)).Items.Count);
    }

    [Fact]
    public async Task CommitInterval_Zero_EachHandOverIsWrittenAsItComes()
    {
        var (writer, _, transactions) = await NewWriter(commitIntervalSeconds: 0);
        for (int i = 0; i < 5; i++)
        {
            await (await Enqueue(writer, i)).WaitAsync(TimeSpan.FromSeconds(30)); // each one written before the next comes
        }

        await writer.CompleteAsync();
        Assert.Equal(5, transactions());
    }

    [Fact]
    public async Task CommitInterval_QueueHalfFull_WritesWithoutWaitingForTheInterval()
    {
        var (writer, store, transactions) = await NewWriter(commitIntervalSeconds: 5);
        await (await Enqueue(writer, 0)).WaitAsync(TimeSpan.FromSeconds(30)); // the interval starts now

        // Half the queue's 64 hand-overs: the processor must not wait on a writer that only lingers.
        var done = new List<Task> { await Enqueue(writer, 1) };
        await Task.Delay(200); // the writer waits for the interval with one hand-over taken
        for (int i = 2; i <= 32; i++)
        {
            done.Add(await Enqueue(writer, i));
        }

        await Task.WhenAll(done).WaitAsync(TimeSpan.FromSeconds(4)); // well before the 5 s interval
        Assert.Equal(2, transactions());
        await writer.CompleteAsync();
        Assert.Equal(33, (await store.QueryWindowsAsync(new WindowQuery { Limit = 100 }, CancellationToken.None)).Items.Count);
    }

    [Fact]
    public async Task CommitInterval_ShutdownDuringTheWait_WritesWhatIsQueuedAtOnce()
    {
        var (writer, store, _) = await NewWriter(commitIntervalSeconds: 5);
        await (await Enqueue(writer, 0)).WaitAsync(TimeSpan.FromSeconds(30));
        var last = await Enqueue(writer, 1);
        await Task.Delay(100); // the writer is waiting for the interval

        await writer.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(4));
        Assert.True(last.IsCompletedSuccessfully);
        Assert.Equal(2, (await store.QueryWindowsAsync(new WindowQuery { Limit = 100 }, CancellationToken.None)).Items.Count);
    }

    [Fact]
    public void CommitInterval_OutOfRange_NamesTheKey()
    {
        foreach (double seconds in new[] { -0.1, 5.5 })
        {
            var result = MonitorHost.ValidateOptions(new MonitorOptions { History = new HistorySettings { CommitIntervalSeconds = seconds } });
            Assert.True(result.Failed);
            Assert.Contains(result.Failures!, f => f.Contains("History:CommitIntervalSeconds", StringComparison.Ordinal));
        }

        Assert.False(MonitorHost.ValidateOptions(new MonitorOptions { History = new HistorySettings { CommitIntervalSeconds = 0 } }).Failed);
    }

    /// <summary>A writer over a real SQLite history; transactions are counted by the history stage's duration histogram (one observation per transaction).</summary>
    private static async Task<(HistoryWriter Writer, SqliteHistoryStore Store, Func<long> Transactions)> NewWriter(double commitIntervalSeconds)
    {
        var store = new SqliteHistoryStore(Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"));
        await store.InitializeAsync(CancellationToken.None);
        var options = Options.Create(new MonitorOptions { History = new HistorySettings { CommitIntervalSeconds = commitIntervalSeconds } });
        var metrics = new LiveMetrics(new CollectorRegistry(), Model.Value);
        var writer = new HistoryWriter(options, metrics, new StageHealth(TimeProvider.System, options), new Lifetime(), NullLogger<HistoryWriter>.Instance, store);
        writer.Start();
        return (writer, store, () => metrics.StageDuration.WithLabels(HistoryWriter.StageName).Count);
    }

    /// <summary>Hands over one window of machine m{i % 4}; the task completes when it is written.</summary>
    private static async Task<Task> Enqueue(HistoryWriter writer, int i)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var record = new WindowRecord { Id = $"w{i}", Machine = $"m{i % 4}", ModelVersion = "v", WindowEnd = DateTimeOffset.UnixEpoch.AddSeconds(i), ReasonCode = "normal", Score = 0.01f };
        await writer.EnqueueAsync(new HistoryBatch { Windows = [record] }, written.SetResult, CancellationToken.None);
        return written.Task;
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}
