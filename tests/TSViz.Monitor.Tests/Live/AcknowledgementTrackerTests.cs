using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>The acknowledgement stage alone, without a broker.</summary>
public sealed class AcknowledgementTrackerTests
{
    private static readonly Lazy<LiveModel> Model = new(() => new LiveModel(RepositoryPaths.AnomalyModel));

    [Fact]
    public async Task AcknowledgeCompleted_HeadStillPending_NothingBehindItIsAcknowledged()
    {
        var (tracker, acknowledged) = Tracker();
        var first = Message("a", acknowledged);
        var second = Message("b", acknowledged);
        tracker.Track(first);
        tracker.Track(second);
        first.AddPending();
        first.Decoded = true;
        second.Decoded = true;

        await tracker.AcknowledgeCompletedAsync(CancellationToken.None);
        Assert.Empty(acknowledged);
        Assert.Equal(2, tracker.Count);

        first.PendingDone();
        await tracker.AcknowledgeCompletedAsync(CancellationToken.None);
        Assert.Equal(["a", "b"], acknowledged);
        Assert.Equal(0, tracker.Count);
    }

    [Fact]
    public async Task AcknowledgeCompleted_NotYetDecoded_WaitsInArrivalOrder()
    {
        var (tracker, acknowledged) = Tracker();
        var first = Message("a", acknowledged);
        var second = Message("b", acknowledged);
        tracker.Track(first);
        tracker.Track(second);
        second.Decoded = true;

        await tracker.AcknowledgeCompletedAsync(CancellationToken.None);
        Assert.Empty(acknowledged);

        first.Decoded = true;
        await tracker.AcknowledgeCompletedAsync(CancellationToken.None);
        Assert.Equal(["a", "b"], acknowledged);
    }

    [Fact]
    public async Task AcknowledgeCompleted_ConnectionGone_SkippedForRedeliveryAndTheRestGoOn()
    {
        var (tracker, acknowledged) = Tracker();
        var stale = Message("stale", acknowledged, deliverable: false);
        var fresh = Message("fresh", acknowledged);
        tracker.Track(stale);
        tracker.Track(fresh);
        stale.Decoded = true;
        fresh.Decoded = true;

        await tracker.AcknowledgeCompletedAsync(CancellationToken.None);
        Assert.Equal(["fresh"], acknowledged);
        Assert.Equal(0, tracker.Count);
    }

    [Fact]
    public async Task AcknowledgeCompleted_AcknowledgementThrows_LoggedAndTheNextIsStillAcknowledged()
    {
        var (tracker, acknowledged) = Tracker();
        var failing = new InFlightMessage("t", [], false, 0, _ => throw new InvalidOperationException("socket closed"), () => true) { Decoded = true };
        var next = Message("next", acknowledged);
        next.Decoded = true;
        tracker.Track(failing);
        tracker.Track(next);

        await tracker.AcknowledgeCompletedAsync(CancellationToken.None);
        Assert.Equal(["next"], acknowledged);
    }

    /// <summary>
    /// Forwarded samples (cluster mode) complete on other threads, as their hand-overs finish, while the loop collects
    /// the complete ones: each is acknowledged exactly once, however the two interleave. (It used to collect the
    /// complete ones, then remove every complete one: a message that completed in between was removed unacknowledged,
    /// and the takeover of a dead node's session waited on it for ever.)
    /// </summary>
    [Fact]
    public async Task AcknowledgeForwarded_CompletingWhileCollected_EachAcknowledgedOnce()
    {
        const int Count = 20_000;
        var (tracker, _) = Tracker();
        var acknowledged = new int[Count];
        var messages = Enumerable.Range(0, Count).Select(i => new InFlightMessage("plant/line1/m1/telemetry", [], false, 0, _ =>
        {
            Interlocked.Increment(ref acknowledged[i]);
            return Task.CompletedTask;
        }, () => true)).ToList();
        foreach (var message in messages)
        {
            message.AddPending();
            message.Decoded = true;
            tracker.TrackForwarded(message);
        }

        using var done = new CancellationTokenSource();
        var collecting = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                await tracker.AcknowledgeCompletedAsync(CancellationToken.None);
            }
        });
        await Task.Run(() =>
        {
            foreach (var message in messages)
            {
                message.PendingDone();
                Thread.SpinWait(50);
            }
        });
        await done.CancelAsync();
        await collecting;
        await tracker.AcknowledgeCompletedAsync(CancellationToken.None);

        Assert.All(acknowledged, times => Assert.Equal(1, times));
    }

    private static InFlightMessage Message(string name, List<string> acknowledged, bool deliverable = true)
        => new("plant/line1/m1/telemetry", [], false, 0, _ =>
        {
            acknowledged.Add(name);
            return Task.CompletedTask;
        }, () => deliverable);

    private static (AcknowledgementTracker Tracker, List<string> Acknowledged) Tracker()
    {
        var options = Options.Create(new MonitorOptions());
        var metrics = new LiveMetrics(new CollectorRegistry(), Model.Value);
        var tracker = new AcknowledgementTracker(metrics, new StageHealth(TimeProvider.System, options), NullLogger<AcknowledgementTracker>.Instance);
        return (tracker, []);
    }
}
