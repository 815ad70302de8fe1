using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TSViz.Explain.Data;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.History;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Alerts;
using TSViz.Plugins.Drift;
using TSViz.Plugins.History;
using TSViz.Plugins.Windows;

namespace TSViz.Monitor.Live;

/// <summary>
/// The live path's processor: micro-batches windows across machines (bounded size, bounded wait), scores them in
/// ONNX Runtime, updates each machine's alert episode, explains them on the same model file, publishes the results
/// and hands them to the history with the checkpoints queued behind them; the input is released for
/// acknowledgement once the history has them. A window whose explanation fails is still published and stored with
/// its score and reason code explanation_failed. Alert episodes are restored from the history at start.
/// </summary>
internal sealed partial class WindowProcessor(
    IOptions<MonitorOptions> options, LiveModel model, LiveQueues queues, AcknowledgementTracker tracker, IEnumerable<IResultSink> sinks,
    ILiveExplainer explainer, LiveMetrics metrics, HistoryWriter history, StageHealth health, TimeProvider time, ILogger<WindowProcessor> logger,
    AlertCounterfactuals counterfactuals, AlertPatternMatcher patterns, DriftMonitor drift, IHistoryRestartState? store = null)
    : BackgroundService
{
    public const string StageName = "process";

    private readonly AlertTracker alerts = new(new AlertSettings
    {
        OpenAt = model.Threshold,
        CloseBelow = Math.Max(0, model.Threshold - options.Value.AlertHysteresis),
        CloseAfterWindows = options.Value.AlertCloseAfterWindows,
    });

    private readonly StageHealth.Stage stage = health.Register(StageName);
    private readonly IResultSink[] sinkList = [.. sinks];
    private readonly Dictionary<string, ExplanationMessage> peaks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (float[] Signature, int SaliencyLength)> peakSignatures = new(StringComparer.Ordinal);

    /// <summary>Open episodes restored from the history: their peak details until a live window raises the peak.</summary>
    private readonly Dictionary<string, AlertRecord> restored = new(StringComparer.Ordinal);

    /// <summary>Cluster mode: machines whose alert state was looked up since this node came to own them.</summary>
    private readonly HashSet<string> owned = new(StringComparer.Ordinal);

    /// <summary>Alert records to store and retained alert messages to publish once the loop starts (restored state).</summary>
    private readonly List<AlertRecord> closedAtStart = [];

    private readonly List<AlertState> republishAtStart = [];

    /// <summary>
    /// Batches whose publishes may still await the broker's acknowledgements while the processor goes on: the broker's
    /// round trip for a batch overlaps the work on the next ones instead of idling the processor. Two, so that a small
    /// batch of checkpoints between two batches of windows does not stop it. The hand-overs to the history stay in
    /// batch order.
    /// </summary>
    private const int BatchesAwaitingBroker = 2;

    /// <summary>The last hand-over of each batch still running (<see cref="HandOver"/>, <see cref="ThrottleAsync"/>).</summary>
    private readonly Queue<Task> batchesBehind = new();
    private Task lastHandOver = Task.CompletedTask;

    /// <summary>
    /// Restores alert state before any input arrives: each machine's newest episode (so numbering continues); an
    /// open one continues when the machine's partial window was checkpointed (its stream resumes where it stopped),
    /// otherwise it is closed with reason monitor_restarted; older episodes still marked open are closed the same way.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Cluster mode: a machine's alert state is looked up when this node first gets one of its windows (it owns the
        // machine from then on), not for every machine of the plant at start (RestoreOwnedAsync).
        if (store is not null && options.Value.History.Enabled && !options.Value.Cluster.Enabled)
        {
            var latest = await store.LatestAlertsAsync(cancellationToken).ConfigureAwait(false);
            var open = await store.OpenAlertsAsync(cancellationToken).ConfigureAwait(false);
            var checkpointed = (await store.LoadCheckpointsAsync(cancellationToken).ConfigureAwait(false)).Select(c => c.Machine).ToHashSet(StringComparer.Ordinal);
            var newestEnds = await store.NewestWindowEndsAsync(cancellationToken).ConfigureAwait(false);
            foreach (var record in latest)
            {
                var state = StateOf(record);
                if (state.Open && !checkpointed.Contains(record.Machine))
                {
                    state = state with { Open = false, ClosedAt = newestEnds.GetValueOrDefault(record.Machine, time.GetUtcNow()), CloseReason = "monitor_restarted" };
                    closedAtStart.Add(record with { Status = "closed", ClosedAt = state.ClosedAt, CloseReason = state.CloseReason });
                    republishAtStart.Add(state);
                    restored[record.Machine] = record;
                }
                else if (state.Open)
                {
                    restored[record.Machine] = record;
                }

                alerts.Restore(state);
            }

            var newestIds = latest.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var record in open.Where(r => !newestIds.Contains(r.Id)))
            {
                closedAtStart.Add(record with { Status = "closed", ClosedAt = newestEnds.GetValueOrDefault(record.Machine, time.GetUtcNow()), CloseReason = "monitor_restarted" });
            }

            int continued = latest.Count(r => r.Status == "open") - republishAtStart.Count;
            if (closedAtStart.Count > 0 || continued > 0)
            {
                LogAlertsRestored(logger, continued, closedAtStart.Count);
            }

            foreach (var record in latest)
            {
                metrics.AlertOpen.WithLabels(record.Machine).Set(alerts.Current(record.Machine) is { Open: true } ? 1 : 0);
            }

            // Their next published state (continued, or closed now as monitor_restarted) keeps the counterfactual.
            await counterfactuals.PreloadAsync(latest.Where(r => r.Status == "open").Select(r => r.Id), cancellationToken).ConfigureAwait(false);
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Cluster mode: the newest alert episode of each machine of <paramref name="batch"/> this node has not seen since it
    /// came to own it (a failover or a move brought it here): an open episode continues here, a closed one keeps the
    /// numbering going, so a machine never has two open episodes and no episode id is used twice.
    /// </summary>
    private async Task RestoreOwnedAsync(List<WindowItem> batch, CancellationToken cancellationToken)
    {
        if (store is null || !options.Value.Cluster.Enabled || !options.Value.History.Enabled)
        {
            return;
        }

        var arrived = batch.Select(b => b.Window.Machine).Where(owned.Add).ToHashSet(StringComparer.Ordinal);
        if (arrived.Count == 0)
        {
            return;
        }

        foreach (string machine in arrived)
        {
            if (alerts.Current(machine) is null && await store.LatestAlertAsync(machine, cancellationToken).ConfigureAwait(false) is { } record)
            {
                alerts.Restore(StateOf(record));
                if (record.Status == "open")
                {
                    restored[record.Machine] = record;
                    await counterfactuals.PreloadAsync([record.Id], cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static AlertState StateOf(AlertRecord record)
        => new(record.Machine, record.Status == "open", record.Since, record.ClosedAt, record.PeakScore, record.PeakWindowId ?? string.Empty, record.Episode) { CloseReason = record.CloseReason };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        history.Start();
        try
        {
            await PublishRestoredAsync().ConfigureAwait(false);
            await RunAsync().ConfigureAwait(false);
            await DrainHandOversAsync().ConfigureAwait(false);
            await history.CompleteAsync().ConfigureAwait(false);
            stage.Stopped();
        }
        catch (Exception ex)
        {
            stage.Fault(ex);
            LogStageDied(logger, ex);
            throw;
        }
        finally
        {
            queues.MarkDrained();
        }
    }

    private async Task PublishRestoredAsync()
    {
        foreach (var state in republishAtStart)
        {
            await PublishAlertAsync(state, CancellationToken.None).ConfigureAwait(false);
        }

        if (closedAtStart.Count > 0)
        {
            await history.EnqueueAsync(new HistoryBatch { Alerts = closedAtStart.ToList() }, static () => { }, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs until the ingest stage completes the queue at shutdown (not on this service's own stop signal): the gateway
    /// stops first and waits for this loop to publish and store what is queued.
    /// </summary>
    private async Task RunAsync()
    {
        var settings = options.Value;
        var reader = queues.Items.Reader;
        var batch = new List<LiveItem>(settings.MaxBatch);
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            batch.Clear();
            int windows = 0;
            var deadline = time.GetTimestamp() + (long)(settings.MaxWaitMilliseconds / 1000.0 * time.TimestampFrequency);
            while (windows < settings.MaxBatch)
            {
                if (reader.TryRead(out var item))
                {
                    batch.Add(item);
                    windows += item is WindowItem ? 1 : 0;
                    continue;
                }

                if (time.GetTimestamp() >= deadline || windows == 0)
                {
                    break; // a batch without windows (checkpoints, notices) goes at once
                }

                using var wait = new CancellationTokenSource();
                wait.CancelAfter(time.GetElapsedTime(time.GetTimestamp(), deadline) is var remaining && remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1));
                try
                {
                    if (!await reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            stage.Waiting(reader.Count + batch.Count);
            await ProcessInOrderAsync(batch).ConfigureAwait(false);
            await ThrottleAsync().ConfigureAwait(false);
            stage.Progress();
            stage.Waiting(reader.Count);
            metrics.QueueDepth.Set(reader.Count);
        }
    }

    /// <summary>
    /// Scores the batch's windows in runs; a gap notice or an eviction is handled between the windows before and after
    /// it. The checkpoints go to the history after every window of the batch, so they are never stored ahead of the
    /// windows of the messages they cover.
    /// </summary>
    private async Task ProcessInOrderAsync(List<LiveItem> batch)
    {
        var run = new List<WindowItem>();
        var checkpoints = new List<WindowCheckpoint>();
        var removed = new HashSet<string>(StringComparer.Ordinal);
        var sources = new List<InFlightMessage>();
        foreach (var item in batch)
        {
            switch (item)
            {
                case WindowItem window:
                    run.Add(window);
                    break;
                case CheckpointItem checkpoint:
                    // In stream order: a removal voids the machine's earlier checkpoints, a checkpoint an earlier removal.
                    foreach (string machine in checkpoint.Removed)
                    {
                        checkpoints.RemoveAll(c => c.Machine == machine);
                        removed.Add(machine);
                    }

                    foreach (var c in checkpoint.Checkpoints)
                    {
                        removed.Remove(c.Machine);
                    }

                    checkpoints.AddRange(checkpoint.Checkpoints);
                    sources.AddRange(checkpoint.Sources);
                    break;
                case GapItem gap:
                    await ProcessWindowsAsync(run).ConfigureAwait(false);
                    await PublishGapAsync(gap).ConfigureAwait(false);
                    break;
                case EvictItem evict:
                    await ProcessWindowsAsync(run).ConfigureAwait(false);
                    await EvictAsync(evict).ConfigureAwait(false);
                    checkpoints.RemoveAll(c => c.Machine == evict.Machine);
                    removed.Add(evict.Machine);
                    break;
            }
        }

        await ProcessWindowsAsync(run).ConfigureAwait(false);
        if (checkpoints.Count > 0 || removed.Count > 0)
        {
            // Of several checkpoints of one machine the last wins; a machine evicted or reset after its checkpoint has none.
            var latest = checkpoints.GroupBy(c => c.Machine, StringComparer.Ordinal).Select(g => g.Last()).ToList();
            HandOver(Task.CompletedTask, new HistoryBatch { Checkpoints = latest, RemovedCheckpoints = [.. removed] }, () => Release(sources));
        }
    }

    /// <summary>
    /// Hands <paramref name="batch"/> to the history once <paramref name="published"/> is done and every earlier
    /// hand-over is made, so the history (and the input's acknowledgement) keeps the processor's order. The processor
    /// goes on meanwhile (<see cref="ThrottleAsync"/> bounds how far); a hand-over that failed (a publish, or the
    /// history's queue) fails every later one and, through <see cref="ThrottleAsync"/>, the stage, as an inline one did.
    /// </summary>
    private void HandOver(Task published, HistoryBatch batch, Action done, Action? afterPublished = null)
    {
        lastHandOver = AfterAsync(lastHandOver, published, batch, done, afterPublished);

        async Task AfterAsync(Task previous, Task published, HistoryBatch batch, Action done, Action? afterPublished)
        {
            await published.ConfigureAwait(false);
            afterPublished?.Invoke();
            await previous.ConfigureAwait(false);
            await history.EnqueueAsync(batch, done, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>After a batch: waits until at most <see cref="BatchesAwaitingBroker"/> earlier batches are still handing over.</summary>
    private async Task ThrottleAsync()
    {
        if (batchesBehind.Count == 0 || !ReferenceEquals(batchesBehind.Last(), lastHandOver))
        {
            batchesBehind.Enqueue(lastHandOver);
        }

        while (batchesBehind.Count > 0 && (batchesBehind.Count > BatchesAwaitingBroker || batchesBehind.Peek().IsCompleted))
        {
            await batchesBehind.Dequeue().ConfigureAwait(false);
        }
    }

    /// <summary>Waits for every hand-over (shutdown, before the history completes).</summary>
    private async Task DrainHandOversAsync()
    {
        batchesBehind.Clear();
        await lastHandOver.ConfigureAwait(false);
    }

    private void Release(IEnumerable<InFlightMessage> sources)
    {
        foreach (var source in sources)
        {
            source.PendingDone();
        }

        tracker.Request();
    }

    private async Task ProcessWindowsAsync(List<WindowItem> run)
    {
        if (run.Count == 0)
        {
            return;
        }

        var fresh = await WithoutRepeatsAsync(run).ConfigureAwait(false);
        if (fresh.Count > 0)
        {
            await ProcessAsync(fresh, CancellationToken.None).ConfigureAwait(false);
        }

        run.Clear();
    }

    private async Task PublishGapAsync(GapItem item)
    {
        var gap = item.Notice;
        HandOver(
            PublishResultAsync(new LiveResult(gap.Machine, "explanation", JsonSerializer.SerializeToUtf8Bytes(gap, LiveJsonContext.Default.InsufficientDataMessage), false) { Gap = gap }, CancellationToken.None),
            new HistoryBatch { Windows = [new WindowRecord { Id = gap.Id, Machine = gap.Machine, ModelVersion = gap.ModelVersion, WindowStart = gap.GapStart, WindowEnd = gap.GapEnd, ReasonCode = gap.ReasonCode }] },
            () => Release([item.Source]));
    }

    /// <summary>An idle machine is forgotten: an open alert closes (machine_idle), its state and series go.</summary>
    private async Task EvictAsync(EvictItem evict)
    {
        if (alerts.Close(evict.Machine, evict.At, "machine_idle") is { } closed)
        {
            var record = AlertRecordOf(closed);
            HandOver(PublishAlertAsync(closed, CancellationToken.None), new HistoryBatch { Alerts = [record] }, static () => { });
        }

        alerts.Remove(evict.Machine);
        owned.Remove(evict.Machine);
        peaks.Remove(evict.Machine);
        peakSignatures.Remove(evict.Machine);
        restored.Remove(evict.Machine);
        metrics.ForgetMachine(evict.Machine);
        drift.Forget(evict.Machine);
    }

    /// <summary>
    /// Drops windows whose id (machine, window end, model version) is already in the history: their results were
    /// published and stored before the monitor restarted, only the acknowledgement was lost. They are counted, not
    /// scored, published or counted again; their input is released for acknowledgement.
    /// </summary>
    private async Task<List<WindowItem>> WithoutRepeatsAsync(List<WindowItem> batch)
    {
        var ids = batch.Select(b => WindowId(b.Window)).ToList();
        var stored = await history.AlreadyStoredAsync(batch.Select((b, i) => (ids[i], b.Window.Machine, b.Window.End)).ToList(), CancellationToken.None).ConfigureAwait(false);
        if (stored.Count == 0)
        {
            return [.. batch];
        }

        var fresh = new List<WindowItem>(batch.Count);
        var repeated = new List<InFlightMessage>();
        for (int i = 0; i < batch.Count; i++)
        {
            if (stored.Contains(ids[i]))
            {
                metrics.WindowsRepeated.Inc();
                repeated.Add(batch[i].Source);
            }
            else
            {
                fresh.Add(batch[i]);
            }
        }

        Release(repeated);
        return fresh;
    }

    private string WindowId(AssembledWindow window) => model.ResultId(window.Machine, window.End);

    private async Task ProcessAsync(List<WindowItem> batch, CancellationToken cancellationToken)
    {
        int n = batch.Count;
        var metadata = model.Metadata;
        int channels = metadata.Channels.Count;
        int length = metadata.WindowLength;
        int size = channels * length;
        metrics.BatchSize.Observe(n);
        double queueMs = time.GetElapsedTime(batch[0].Source.ReceivedTimestamp).TotalMilliseconds;

        var values = new float[n * size];
        for (int i = 0; i < n; i++)
        {
            batch[i].Window.Values.CopyTo(values, i * size);
        }

        var watch = Stopwatch.StartNew();
        var preprocessed = (float[])values.Clone();
        WindowPreprocessing.Apply(metadata.Preprocessing, preprocessed, channels, length);
        var scores = new float[n];
        using (model.UseScorer())
        {
            model.Scorer.Score(preprocessed, n, scores);
        }

        double scoreMs = watch.Elapsed.TotalMilliseconds;
        metrics.StageDuration.WithLabels("score").Observe(watch.Elapsed.TotalSeconds);

        await RestoreOwnedAsync(batch, cancellationToken).ConfigureAwait(false);

        // Alert state first: windows of an open alert get the expensive explanations.
        var changes = new (AlertChange Change, AlertState? State)[n];
        var ids = new string[n];
        var alerting = new bool[n];
        for (int i = 0; i < n; i++)
        {
            var window = batch[i].Window;
            ids[i] = WindowId(window);
            changes[i] = alerts.Update(window.Machine, window.End, scores[i], ids[i]);
            alerting[i] = changes[i].State is { Open: true } && changes[i].Change != AlertChange.Closed;
        }

        watch.Restart();
        LiveExplanation[]? explained = null;
        string? failure = null;
        try
        {
            explained = await explainer.ExplainAsync(values, n, alerting, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The scores stand: the windows are published and stored with them and a reason saying why they are unexplained.
            failure = $"{ex.GetType().Name}: {ex.Message}";
            metrics.ExplanationsFailed.Inc(n);
            LogExplainFailed(logger, n, ex);
        }

        double explainMs = watch.Elapsed.TotalMilliseconds;
        metrics.StageDuration.WithLabels("explain").Observe(watch.Elapsed.TotalSeconds);

        watch.Restart();
        var publishes = new List<Task>(n + 4);
        var records = new List<WindowRecord>(n);
        var alertRecords = new List<AlertRecord>();
        var timings = new TimingsMessage(queueMs, scoreMs, explainMs, n);
        for (int i = 0; i < n; i++)
        {
            var window = batch[i].Window;
            bool decision = scores[i] >= model.Threshold;
            var (change, state) = changes[i];
            var summary = state is null ? null : new AlertSummaryMessage(state.Open, state.Episode);
            bool inAlert = state is { Open: true } || change == AlertChange.Closed;
            string? alertId = state is not null && inAlert ? AlertId(state) : null;
            byte[] payload;
            LiveResult result;
            WindowRecord record;
            if (explained is null)
            {
                var message = new UnexplainedMessage(ids[i], window.Machine, model.Version, window.Start, window.End, scores[i], decision, "explanation_failed", failure!, summary, timings);
                payload = JsonSerializer.SerializeToUtf8Bytes(message, LiveJsonContext.Default.UnexplainedMessage);
                result = new LiveResult(window.Machine, "explanation", payload, false) { Unexplained = message };
                record = new WindowRecord
                {
                    Id = ids[i], Machine = window.Machine, ModelVersion = model.Version, WindowStart = window.Start, WindowEnd = window.End,
                    Score = scores[i], Decision = decision, ReasonCode = message.ReasonCode, AlertId = alertId,
                };
                drift.Observe(window.Machine, null, inAlert);
            }
            else
            {
                var (message, filters) = Message(explained[i], ids[i], window, scores[i], decision, summary, timings);
                payload = JsonSerializer.SerializeToUtf8Bytes(message, LiveJsonContext.Default.ExplanationMessage);
                result = new LiveResult(window.Machine, "explanation", payload, false) { Explanation = message };
                if (change is AlertChange.Opened or AlertChange.PeakRaised)
                {
                    peaks[window.Machine] = message;
                    peakSignatures[window.Machine] = Signature(explained[i].Explanation);
                    restored.Remove(window.Machine);
                }

                var top = message.TopSteps.Count > 0 ? message.TopSteps[0] : null;
                var features = drift.Enabled ? DriftFeatures.Of(window.Values, channels, length, explained[i].Explanation.Saliency) : null;
                if (features is not null && drift.Observe(window.Machine, new DriftObservation(window.End, scores[i], explained[i].Explanation.ChannelContributions,
                    [.. filters.Select(f => DriftObservation.FilterKey(f.Layer, f.Index))], features), inAlert || decision) is { } drifted)
                {
                    publishes.Add(PublishResultAsync(drifted, cancellationToken));
                }

                record = new WindowRecord
                {
                    Id = ids[i],
                    Machine = window.Machine,
                    ModelVersion = model.Version,
                    WindowStart = window.Start,
                    WindowEnd = window.End,
                    Score = scores[i],
                    Decision = decision,
                    ReasonCode = message.ReasonCode,
                    ChannelContributions = message.ChannelContributions,
                    DominantChannel = message.DominantChannel,
                    TopStepChannel = top?.Channel,
                    TopStep = top?.Step,
                    TopFilters = filters,
                    ScoreAfterFgsm = explained[i].Fgsm?.ScoreAfter,
                    SmallestFlippingEpsilon = explained[i].Flip?.SmallestFlippingEpsilon,
                    AlertId = alertId,
                    DriftFeatures = features,
                    Detail = history.Enabled && ((state is { Open: true }) || history.Sampled(ids[i]))
                        ? new WindowDetail(payload, window.Values, channels, length)
                        : null,
                };
                if (explained[i].Fgsm is { } fgsm)
                {
                    metrics.RobustnessScoreAfter.WithLabels(window.Machine).Set(fgsm.ScoreAfter);
                }

                foreach (var (channel, share) in message.ChannelContributions)
                {
                    metrics.ChannelContribution.WithLabels(window.Machine, channel).Set(share);
                }
            }

            // Pipelined: every publish of the batch is in flight at once (MQTTnet sends them in call order), so the
            // batch costs one broker round trip rather than one per window.
            publishes.Add(PublishResultAsync(result, cancellationToken));
            records.Add(record);
            if (change is AlertChange.Opened or AlertChange.PeakRaised && state is not null && options.Value.Counterfactual.Enabled)
            {
                // Off the live path: the worker computes it and the alert is published again with it.
                counterfactuals.Request(new CounterfactualRequest(AlertId(state), window.Machine, ids[i], window.Start, window.End, window.Values.ToArray(), alerts.Settings.CloseBelow));
            }

            if (change != AlertChange.None && state is not null)
            {
                publishes.Add(PublishAlertAsync(state, cancellationToken));
                alertRecords.Add(AlertRecordOf(state));
                if (change == AlertChange.Opened)
                {
                    metrics.AlertsOpened.WithLabels(window.Machine).Inc();
                    LogAlertOpened(logger, window.Machine, scores[i]);
                }
            }

            metrics.WindowsScored.WithLabels(decision ? "anomaly" : "normal").Inc();
            metrics.Score.WithLabels(window.Machine).Set(scores[i]);
            metrics.AlertOpen.WithLabels(window.Machine).Set(state is { Open: true } ? 1 : 0);
        }

        // The input is acknowledged once the broker has the results and the history the records (both in the background).
        var sources = batch.Select(b => b.Source).ToArray();
        HandOver(Task.WhenAll(publishes), new HistoryBatch { Windows = records, Alerts = alertRecords }, () => Release(sources), () =>
        {
            foreach (var source in sources)
            {
                metrics.EndToEnd.Observe(time.GetElapsedTime(source.ReceivedTimestamp).TotalSeconds);
            }

            metrics.StageDuration.WithLabels("publish").Observe(watch.Elapsed.TotalSeconds);
        });
    }

    /// <summary>The explanation message of one window and its top filters.</summary>
    private (ExplanationMessage Message, List<InfluentialFilter> Filters) Message(LiveExplanation live, string id, AssembledWindow window, float score, bool decision, AlertSummaryMessage? alert, TimingsMessage timings)
    {
        var metadata = model.Metadata;
        int channels = metadata.Channels.Count;
        int length = metadata.WindowLength;
        var e = live.Explanation;
        var contributions = metadata.Channels.Select((name, c) => (name, c)).ToDictionary(p => p.name, p => e.ChannelContributions[p.c]);
        string dominant = metadata.Channels[Array.IndexOf(e.ChannelContributions, e.ChannelContributions.Max())];
        var topFilters = e.Layers.SelectMany(l => l.Ranking.Take(options.Value.TopFilters)
            .Select(f => new TopFilterMessage(l.Name, f, l.Influence[f], l.Scaled[f]))).ToList();
        var message = new ExplanationMessage(
            id, window.Machine, model.Version, window.Start, window.End, score, decision,
            decision ? "anomaly" : "normal",
            e.Differentiated, e.GradientsVanished, contributions, dominant,
            ChannelRows.Of(e.Saliency, channels, length),
            e.TopSteps.Select(s => new TopStepMessage(s.ChannelName, s.Step, s.Saliency)).ToList(),
            topFilters,
            Robustness(live),
            alert,
            live.FilterSaliency,
            timings,
            e.SaliencyMethod,
            live.Faithfulness);
        return (message, topFilters.Select(f => new InfluentialFilter(f.Layer, f.Index, f.Influence, f.InfluenceScaled)).ToList());
    }

    /// <summary>
    /// The robustness part of the message: the FGSM step, with the flip search's eps on an alert window; the flip search
    /// alone when FGSM is not configured; null when neither ran.
    /// </summary>
    private RobustnessMessage? Robustness(LiveExplanation live) => (live.Fgsm, live.Flip) switch
    {
        ({ } fgsm, var flip) => new RobustnessMessage(Explain.Robustness.Fgsm.MethodName, fgsm.Epsilon, fgsm.ScoreBefore, fgsm.ScoreAfter, fgsm.Flipped ?? false,
            flip?.SmallestFlippingEpsilon, flip?.NotFlippedUpTo),
        (null, { } flip) => new RobustnessMessage(Explain.Robustness.FlipSearch.MethodName, options.Value.AlertEpsilonMax, flip.ScoreBefore, flip.ScoreAtEpsilon,
            flip.SmallestFlippingEpsilon is not null, flip.SmallestFlippingEpsilon, flip.NotFlippedUpTo),
        _ => null,
    };

    /// <summary>An alert episode's id: machine, since and model (stable across the episode's updates).</summary>
    private string AlertId(AlertState state) => model.ResultId(state.Machine, state.Since);

    /// <summary>The peak's saliency pattern (scaled 0-1) followed by the scaled influence of every filter of every layer.</summary>
    private static (float[] Signature, int SaliencyLength) Signature(TSViz.Explain.Attribution.WindowExplanation e)
        => ([.. e.Saliency, .. e.Layers.SelectMany(l => l.Scaled)], e.Saliency.Length);

    private AlertRecord AlertRecordOf(AlertState state)
    {
        var peak = peaks.GetValueOrDefault(state.Machine);
        var (signature, saliencyLength) = peakSignatures.GetValueOrDefault(state.Machine);
        var before = restored.GetValueOrDefault(state.Machine);
        return new AlertRecord
        {
            Id = AlertId(state),
            Machine = state.Machine,
            ModelVersion = model.Version,
            Episode = state.Episode,
            Status = state.Open ? "open" : "closed",
            Since = state.Since,
            ClosedAt = state.ClosedAt,
            CloseReason = state.CloseReason,
            PeakScore = state.PeakScore,
            PeakWindowId = state.PeakWindowId,
            DominantChannel = peak?.DominantChannel ?? before?.DominantChannel,
            ChannelContributions = peak?.ChannelContributions ?? before?.ChannelContributions ?? new Dictionary<string, float>(),
            TopFilters = peak?.TopFilters.Select(f => new InfluentialFilter(f.Layer, f.Index, f.Influence, f.InfluenceScaled)).ToList() ?? before?.TopFilters.ToList() ?? [],
            Signature = signature ?? before?.Signature ?? [],
            SignatureSaliencyLength = signature is not null ? saliencyLength : before?.SignatureSaliencyLength ?? 0,
            Faithfulness = peak is not null
                ? peak.Faithfulness is { } f ? new AlertFaithfulness(f.Fraction, f.Score, f.DeletionScore, f.RandomScore, f.Verdict) : null
                : before?.Faithfulness,
        };
    }

    private async Task PublishAlertAsync(AlertState state, CancellationToken cancellationToken)
    {
        var record = AlertRecordOf(state);
        var message = new AlertMessage(
            record.Id, state.Machine, record.Status, state.Since, state.ClosedAt, state.PeakScore, state.PeakWindowId, state.Episode, model.Version,
            record.DominantChannel ?? string.Empty,
            record.ChannelContributions,
            record.TopFilters.Select(f => new TopFilterMessage(f.Layer, f.Index, f.Influence, f.InfluenceScaled)).ToList(),
            state.CloseReason,
            record.Faithfulness is { } f ? new FaithfulnessMessage(f.Fraction, CellsOf(f.Fraction), (float)f.Score, (float)f.DeletionScore, (float)f.RandomScore, options.Value.Faithfulness.RandomDraws, f.Verdict) : null)
        {
            Pattern = patterns.Match(record),
        };
        // Through the counterfactuals' gate: it adds the counterfactual of the current peak once computed.
        await counterfactuals.PublishAlertAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How many of a window's cells <paramref name="fraction"/> removes.</summary>
    private int CellsOf(double fraction) => Explain.Evaluation.CellRemoval.CellCount(fraction, model.Metadata.Channels.Count * model.Metadata.WindowLength);

    /// <summary>Hands a result to every sink (<see cref="IResultSink"/>); done when all have taken it.</summary>
    private Task PublishResultAsync(LiveResult result, CancellationToken cancellationToken)
        => sinkList.Length == 1 ? sinkList[0].PublishAsync(result, cancellationToken) : Task.WhenAll(sinkList.Select(s => s.PublishAsync(result, cancellationToken)));

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Alert opened on {Machine}: score {Score:F3}")]
    private static partial void LogAlertOpened(ILogger logger, string machine, float score);

    [LoggerMessage(EventId = 301, Level = LogLevel.Error, Message = "Explaining a batch of {Windows} windows failed; they are published and stored with their scores and reason explanation_failed")]
    private static partial void LogExplainFailed(ILogger logger, int windows, Exception exception);

    [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "Alert state restored from the history: {Continued} open episodes continue, {Closed} closed as monitor_restarted")]
    private static partial void LogAlertsRestored(ILogger logger, int continued, int closed);

    [LoggerMessage(EventId = 303, Level = LogLevel.Critical, Message = "The processor stopped on an exception it could not contain")]
    private static partial void LogStageDied(ILogger logger, Exception exception);
}
