using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Prometheus;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Monitor.Tests.Docs;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using TSViz.Plugins.Ingest;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>The ingest stage alone: messages in, items out, no broker.</summary>
public sealed class IngestStageTests
{
    private static readonly Lazy<LiveModel> Model = new(() => new LiveModel(RepositoryPaths.AnomalyModel));

    [Fact]
    public void ReasonCode_EveryRejectionReason_IsSnakeCaseAndDocumented()
    {
        // The README and the docs/ pages (the reasons are listed in docs/mqtt.md, "Dead letters").
        string docs = string.Join('\n', Documentation.Files().Select(file => File.ReadAllText(file)));
        Assert.Equal("malformed_json", IngestStage.ReasonCode(RejectionReason.MalformedJson));
        foreach (var reason in Enum.GetValues<RejectionReason>())
        {
            string code = IngestStage.ReasonCode(reason);
            Assert.Matches("^[a-z]+(_[a-z]+)*$", code);
            Assert.Contains($"`{code}`", docs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Execute_GoodAndBadMessages_WindowsThenACheckpointTheMessagesWaitForAndADeadLetter()
    {
        await using var stage = await Stage.StartAsync();
        int length = Model.Value.Metadata.WindowLength;
        var start = LiveTestMonitor.WholeSeconds(stage.Time.GetUtcNow().AddMinutes(-5));
        var messages = Enumerable.Range(0, length + 10).Select(i => stage.Message("plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i))).ToList();
        var bad = stage.Message("plant/line1/m1/telemetry", """{"ts":"\uDC00","pressure":1,"temperature":2,"torque":3}""");
        foreach (var message in messages.Take(length / 2).Append(bad).Concat(messages.Skip(length / 2)))
        {
            await stage.Send(message);
        }

        var items = await stage.ReadUntil(items => items.OfType<WindowItem>().Count() == 2 && items[^1] is CheckpointItem);
        var windows = items.OfType<WindowItem>().ToList();
        Assert.Equal([messages[length - 1], messages[length + 9]], windows.Select(w => w.Source));
        var checkpoint = (CheckpointItem)items[^1];
        Assert.Equal("line1/m1", Assert.Single(checkpoint.Checkpoints.DistinctBy(c => c.Machine)).Machine);
        Assert.Equal(start.AddMilliseconds(100 * (length + 9)), checkpoint.Checkpoints[^1].Last);

        // Every good message waits for durability (its windows and the checkpoint); the refused one does not.
        Assert.All(messages, m => Assert.True(m.Decoded && m.Pending > 0));
        Assert.True(bad.Decoded);
        Assert.Equal(0, bad.Pending);
        var letter = Assert.Single(stage.Published);
        Assert.Equal("tsviz/v1/deadletter", letter.Topic);
        Assert.Contains("\"malformed_json\"", letter.Payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_MachineSilentPastTheIdleTime_IsForgottenWithoutAnyInput()
    {
        await using var stage = await Stage.StartAsync();
        var now = stage.Time.GetUtcNow();
        await stage.Send(stage.Message("plant/line1/m7/telemetry", LiveTestMonitor.SampleJson(now.AddSeconds(-1), 0)));
        await stage.ReadUntil(items => items.Any(i => i is CheckpointItem));
        Assert.Equal(1, stage.Ingest.Machines);

        // The stage may arm its sweep timer after the clock moved (it is between two waits): keep the clock moving
        // until the sweep has run, as real time would.
        stage.Time.Advance(TimeSpan.FromSeconds(61));
        using var ticking = new CancellationTokenSource();
        var clock = Task.Run(async () =>
        {
            while (!ticking.IsCancellationRequested)
            {
                await Task.Delay(50, CancellationToken.None);
                stage.Time.Advance(TimeSpan.FromSeconds(1));
            }
        }, CancellationToken.None);
        var evicted = await stage.ReadUntil(items => items.Any(i => i is EvictItem));
        await ticking.CancelAsync();
        await clock;
        Assert.Equal("line1/m7", evicted.OfType<EvictItem>().Single().Machine);
        Assert.Equal(0, stage.Ingest.Machines);
    }

    private sealed class Stage : IAsyncDisposable, IResultPublisher
    {
        private readonly List<LiveItem> read = [];

        private Stage(MonitorOptions settings)
        {
            var options = Options.Create(settings);
            Queues = new LiveQueues(options);
            var metrics = new LiveMetrics(new CollectorRegistry(), Model.Value);
            var health = new StageHealth(Time, options);
            Tracker = new AcknowledgementTracker(metrics, health, NullLogger<AcknowledgementTracker>.Instance);
            var decoder = new JsonTelemetryDecoder(new JsonDecoderSettings { Channels = Model.Value.Metadata.Channels }, Time);
            var store = new SqliteHistoryStore(Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"));
            store.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
            Ingest = new IngestStage(options, Queues, Tracker, this, decoder, Model.Value, metrics, health, Time, NullLogger<IngestStage>.Instance, store);
        }

        public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

        public LiveQueues Queues { get; }

        public AcknowledgementTracker Tracker { get; }

        public IngestStage Ingest { get; }

        public List<(string Topic, string Payload)> Published { get; } = [];

        public static async Task<Stage> StartAsync()
        {
            var stage = new Stage(new MonitorOptions { MachineIdleSeconds = 60, MaxGapSeconds = 600 });
            await stage.Ingest.StartAsync(CancellationToken.None);
            return stage;
        }

        public InFlightMessage Message(string topic, string payload)
            => new(topic, Encoding.UTF8.GetBytes(payload), false, Time.GetTimestamp(), _ => Task.CompletedTask, () => true);

        public async Task Send(InFlightMessage message)
        {
            Tracker.Track(message);
            await Queues.Ingest.Writer.WriteAsync(message);
        }

        /// <summary>Items the stage queued so far, read until <paramref name="done"/> holds (10 s at most).</summary>
        public async Task<List<LiveItem>> ReadUntil(Func<List<LiveItem>, bool> done)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (!done(read))
            {
                read.Add(await Queues.Items.Reader.ReadAsync(timeout.Token));
            }

            return read;
        }

        public string Topic(string machine, string kind) => $"tsviz/v1/{machine}/{kind}";

        public Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancellationToken)
        {
            lock (Published)
            {
                Published.Add((topic, Encoding.UTF8.GetString(payload)));
            }

            return Task.CompletedTask;
        }

        public async ValueTask DisposeAsync()
        {
            Queues.Ingest.Writer.TryComplete();
            await Ingest.StopAsync(CancellationToken.None);
            Ingest.Dispose();
            Tracker.Dispose();
        }
    }
}
