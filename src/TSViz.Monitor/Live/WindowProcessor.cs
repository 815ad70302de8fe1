using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Explain.Robustness;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.History;
using TSViz.Plugins.Alerts;
using TSViz.Plugins.History;
using TSViz.Plugins.Windows;

namespace TSViz.Monitor.Live;

/// <summary>
/// The live path's back half: micro-batches windows across machines (bounded size, bounded wait), scores them in
/// ONNX Runtime, explains them on the same model file (saliency, channel contributions, top filters, one FGSM step),
/// adds the smallest flipping eps and the top filters' own saliency for windows of an open alert, publishes the
/// explanation and the alert state, and only then releases the input messages for acknowledgement.
/// </summary>
internal sealed partial class WindowProcessor(
    IOptions<MonitorOptions> options, LiveModel model, MonitorWorker worker, MonitorMetrics metrics, HistoryWriter history, TimeProvider time, ILogger<WindowProcessor> logger)
    : BackgroundService
{
    private readonly AlertTracker alerts = new(new AlertSettings
    {
        OpenAt = model.Threshold,
        CloseBelow = Math.Max(0, model.Threshold - options.Value.AlertHysteresis),
        CloseAfterWindows = options.Value.AlertCloseAfterWindows,
    });

    private readonly Dictionary<string, ExplanationMessage> peaks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (float[] Signature, int SaliencyLength)> peakSignatures = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var reader = worker.Windows;
        var batch = new List<PendingWindow>(settings.MaxBatch);
        history.Start();
        // Runs until the worker completes the queue at shutdown (not on this service's own stop signal): the
        // worker stops first and waits for this loop to publish what is queued.
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            batch.Clear();
            var deadline = time.GetTimestamp() + (long)(settings.MaxWaitMilliseconds / 1000.0 * time.TimestampFrequency);
            while (batch.Count < settings.MaxBatch)
            {
                if (reader.TryRead(out var item))
                {
                    batch.Add(item);
                    continue;
                }

                var remaining = time.GetElapsedTime(time.GetTimestamp(), deadline);
                if (batch.Count > 0 && time.GetTimestamp() >= deadline)
                {
                    break;
                }

                using var wait = new CancellationTokenSource();
                wait.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1));
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

            await ProcessInOrderAsync(batch).ConfigureAwait(false);
        }

        await history.CompleteAsync().ConfigureAwait(false);
        worker.MarkDrained();
    }

    /// <summary>Scores the batch's windows; a gap notice among them is published between the windows before and after it.</summary>
    private async Task ProcessInOrderAsync(List<PendingWindow> batch)
    {
        int from = 0;
        for (int i = 0; i <= batch.Count; i++)
        {
            if (i < batch.Count && batch[i].Gap is null)
            {
                continue;
            }

            if (i > from)
            {
                var windows = await WithoutRepeatsAsync(from == 0 && i == batch.Count ? batch : batch.GetRange(from, i - from)).ConfigureAwait(false);
                if (windows.Count > 0)
                {
                    await ProcessAsync(windows, CancellationToken.None).ConfigureAwait(false);
                }
            }

            if (i < batch.Count)
            {
                var gap = batch[i].Gap!;
                await worker.PublishAsync(worker.Topic(gap.Machine, "explanation"), JsonSerializer.SerializeToUtf8Bytes(gap, LiveJsonContext.Default.InsufficientDataMessage), false, CancellationToken.None).ConfigureAwait(false);
                var source = batch[i].Source;
                await history.EnqueueAsync(
                    [new WindowRecord { Id = gap.Id, Machine = gap.Machine, ModelVersion = gap.ModelVersion, WindowStart = gap.GapStart, WindowEnd = gap.GapEnd, ReasonCode = gap.ReasonCode }],
                    [], () =>
                    {
                        source.WindowDone();
                        worker.RequestAcknowledgement();
                    }, CancellationToken.None).ConfigureAwait(false);
            }

            from = i + 1;
        }
    }

    /// <summary>
    /// Drops windows whose id (machine, window end, model version) is already in the history: their results were
    /// published and stored before the monitor restarted, only the acknowledgement was lost. They are counted, not
    /// scored, published or counted again; their input is released for acknowledgement.
    /// </summary>
    private async Task<List<PendingWindow>> WithoutRepeatsAsync(List<PendingWindow> batch)
    {
        var ids = batch.Select(b => WindowId(b.Window)).ToList();
        var stored = await history.AlreadyStoredAsync(batch.Select((b, i) => (ids[i], b.Window.Machine, b.Window.End)).ToList(), CancellationToken.None).ConfigureAwait(false);
        if (stored.Count == 0)
        {
            return batch;
        }

        var fresh = new List<PendingWindow>(batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            if (stored.Contains(ids[i]))
            {
                metrics.WindowsRepeated.Inc();
                batch[i].Source.WindowDone();
            }
            else
            {
                fresh.Add(batch[i]);
            }
        }

        worker.RequestAcknowledgement();
        return fresh;
    }

    private string WindowId(AssembledWindow window) => model.ResultId(window.Machine, window.End);

    private async Task ProcessAsync(List<PendingWindow> batch, CancellationToken cancellationToken)
    {
        int n = batch.Count;
        var metadata = model.Metadata;
        int channels = metadata.Channels.Count;
        int length = metadata.WindowLength;
        int size = channels * length;
        metrics.BatchSize.Observe(n);
        metrics.QueueDepth.Set(worker.Windows.Count);
        double queueMs = time.GetElapsedTime(batch[0].ReceivedTimestamp).TotalMilliseconds;

        var values = new float[n * size];
        for (int i = 0; i < n; i++)
        {
            batch[i].Window.Values.CopyTo(values, i * size);
        }

        var watch = Stopwatch.StartNew();
        var preprocessed = (float[])values.Clone();
        WindowPreprocessing.Apply(metadata.Preprocessing, preprocessed, channels, length);
        var scores = new float[n];
        model.Scorer.Score(preprocessed, n, scores);
        double scoreMs = watch.Elapsed.TotalMilliseconds;
        metrics.StageDuration.WithLabels("score").Observe(watch.Elapsed.TotalSeconds);

        watch.Restart();
        using var explainerTurn = await model.TakeExplainerAsync(cancellationToken).ConfigureAwait(false);
        var explanations = model.Explainer.Explain(values, n, new ExplainOptions { IncludeReceivedSaliency = false });
        var fgsm = model.Explainer.Fgsm(values, n, options.Value.RobustnessEpsilon);

        // Alert state first: windows of an open alert get the expensive explanations.
        var changes = new (AlertChange Change, AlertState? State)[n];
        var ids = new string[n];
        for (int i = 0; i < n; i++)
        {
            var window = batch[i].Window;
            ids[i] = WindowId(window);
            changes[i] = alerts.Update(window.Machine, window.End, scores[i], ids[i]);
        }

        var alerting = Enumerable.Range(0, n).Where(i => changes[i].State is { Open: true } && changes[i].Change != AlertChange.Closed).ToArray();
        var flips = new Dictionary<int, FlipSearchResult>();
        var filterMaps = new Dictionary<int, IReadOnlyList<FilterSaliencyMessage>>();
        if (alerting.Length > 0)
        {
            var subset = alerting.SelectMany(i => values.AsSpan(i * size, size).ToArray()).ToArray();
            var found = model.Explainer.SmallestFlippingEpsilon(subset, alerting.Length, new FlipSearchOptions { EpsilonMax = options.Value.AlertEpsilonMax });
            for (int k = 0; k < alerting.Length; k++)
            {
                int i = alerting[k];
                flips[i] = found[k];
                if (found[k].SmallestFlippingEpsilon is double eps)
                {
                    metrics.SmallestFlippingEpsilon.Observe(eps);
                }

                if (options.Value.TopFilters > 0)
                {
                    var chosen = explanations[i].Layers.ToDictionary(l => l.Name, l => l.Ranking.Take(options.Value.TopFilters).ToArray());
                    filterMaps[i] = model.Explainer.FilterSaliency(values.AsSpan(i * size, size), 1, chosen)[0]
                        .Select(m => new FilterSaliencyMessage(m.Layer, m.Filter, ChannelRows.Of(m.Saliency, channels, length))).ToList();
                }
            }
        }

        explainerTurn.Dispose(); // publishing does not need the explainer
        double explainMs = watch.Elapsed.TotalMilliseconds;
        metrics.StageDuration.WithLabels("explain").Observe(watch.Elapsed.TotalSeconds);

        watch.Restart();
        var publishes = new List<Task>(n + 4);
        var records = new List<WindowRecord>(n);
        var alertRecords = new List<AlertRecord>();
        for (int i = 0; i < n; i++)
        {
            var window = batch[i].Window;
            var e = explanations[i];
            bool decision = scores[i] >= model.Threshold;
            var contributions = metadata.Channels.Select((name, c) => (name, c)).ToDictionary(p => p.name, p => e.ChannelContributions[p.c]);
            string dominant = metadata.Channels[Array.IndexOf(e.ChannelContributions, e.ChannelContributions.Max())];
            var topFilters = e.Layers.SelectMany(l => l.Ranking.Take(options.Value.TopFilters)
                .Select(f => new TopFilterMessage(l.Name, f, l.Influence[f], l.Scaled[f]))).ToList();
            flips.TryGetValue(i, out var flip);
            var (change, state) = changes[i];
            var message = new ExplanationMessage(
                ids[i], window.Machine, model.Version, window.Start, window.End, scores[i], decision,
                decision ? "anomaly" : "normal",
                e.Differentiated, e.GradientsVanished, contributions, dominant,
                ChannelRows.Of(e.Saliency, channels, length),
                e.TopSteps.Select(s => new TopStepMessage(s.ChannelName, s.Step, s.Saliency)).ToList(),
                topFilters,
                new RobustnessMessage("fgsm", fgsm[i].Epsilon, fgsm[i].ScoreBefore, fgsm[i].ScoreAfter, fgsm[i].Flipped ?? false,
                    flip?.SmallestFlippingEpsilon, flip?.NotFlippedUpTo),
                state is null ? null : new AlertSummaryMessage(state.Open, state.Episode),
                filterMaps.GetValueOrDefault(i),
                new TimingsMessage(queueMs, scoreMs, explainMs, n));

            // Pipelined: every publish of the batch is in flight at once (MQTTnet sends them in call order), so the
            // batch costs one broker round trip rather than one per window.
            var payload = JsonSerializer.SerializeToUtf8Bytes(message, LiveJsonContext.Default.ExplanationMessage);
            publishes.Add(worker.PublishAsync(worker.Topic(window.Machine, "explanation"), payload, false, cancellationToken));
            if (change is AlertChange.Opened or AlertChange.PeakRaised)
            {
                peaks[window.Machine] = message;
                peakSignatures[window.Machine] = Signature(e);
            }

            bool inAlert = state is { Open: true } || change == AlertChange.Closed;
            var top = e.TopSteps.Count > 0 ? e.TopSteps[0] : null;
            records.Add(new WindowRecord
            {
                Id = ids[i],
                Machine = window.Machine,
                ModelVersion = model.Version,
                WindowStart = window.Start,
                WindowEnd = window.End,
                Score = scores[i],
                Decision = decision,
                ReasonCode = message.ReasonCode,
                ChannelContributions = contributions,
                DominantChannel = dominant,
                TopStepChannel = top?.ChannelName,
                TopStep = top?.Step,
                TopFilters = topFilters.Select(f => new FilterRef(f.Layer, f.Index, f.Influence, f.InfluenceScaled)).ToList(),
                ScoreAfterFgsm = fgsm[i].ScoreAfter,
                SmallestFlippingEpsilon = flip?.SmallestFlippingEpsilon,
                AlertId = state is not null && inAlert ? AlertId(state) : null,
                Detail = history.Enabled && ((state is { Open: true }) || history.Sampled(ids[i]))
                    ? new WindowDetail(payload, window.Values, channels, length)
                    : null,
            });

            if (change != AlertChange.None && state is not null)
            {
                publishes.Add(PublishAlertAsync(state, cancellationToken));
                alertRecords.Add(AlertRecordOf(state));
                if (change == AlertChange.Opened)
                {
                    metrics.AlertsOpened.WithLabels(window.Machine).Inc();
                    LogAlertOpened(logger, window.Machine, scores[i], dominant);
                }
            }

            metrics.WindowsScored.WithLabels(decision ? "anomaly" : "normal").Inc();
            metrics.Score.WithLabels(window.Machine).Set(scores[i]);
            metrics.AlertOpen.WithLabels(window.Machine).Set(state is { Open: true } ? 1 : 0);
            metrics.RobustnessScoreAfter.WithLabels(window.Machine).Set(fgsm[i].ScoreAfter);
            foreach (var (channel, share) in contributions)
            {
                metrics.ChannelContribution.WithLabels(window.Machine, channel).Set(share);
            }

        }

        await Task.WhenAll(publishes).ConfigureAwait(false);
        for (int i = 0; i < n; i++)
        {
            metrics.EndToEnd.Observe(time.GetElapsedTime(batch[i].ReceivedTimestamp).TotalSeconds);
        }

        metrics.StageDuration.WithLabels("publish").Observe(watch.Elapsed.TotalSeconds);

        // The input is acknowledged once the history has the records too (written in the background).
        var sources = batch.Select(b => b.Source).ToArray();
        await history.EnqueueAsync(records, alertRecords, () =>
        {
            foreach (var source in sources)
            {
                source.WindowDone();
            }

            worker.RequestAcknowledgement();
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An alert episode's id: machine, since and model (stable across the episode's updates).</summary>
    private string AlertId(AlertState state) => model.ResultId(state.Machine, state.Since);

    /// <summary>The peak's saliency pattern (scaled 0-1) followed by the scaled influence of every filter of every layer.</summary>
    private static (float[] Signature, int SaliencyLength) Signature(WindowExplanation e)
        => ([.. e.Saliency, .. e.Layers.SelectMany(l => l.Scaled)], e.Saliency.Length);

    private AlertRecord AlertRecordOf(AlertState state)
    {
        var peak = peaks.GetValueOrDefault(state.Machine);
        var (signature, saliencyLength) = peakSignatures.GetValueOrDefault(state.Machine);
        return new AlertRecord
        {
            Id = AlertId(state),
            Machine = state.Machine,
            ModelVersion = model.Version,
            Episode = state.Episode,
            Status = state.Open ? "open" : "closed",
            Since = state.Since,
            ClosedAt = state.ClosedAt,
            PeakScore = state.PeakScore,
            PeakWindowId = state.PeakWindowId,
            DominantChannel = peak?.DominantChannel,
            ChannelContributions = peak?.ChannelContributions ?? new Dictionary<string, float>(),
            TopFilters = peak?.TopFilters.Select(f => new FilterRef(f.Layer, f.Index, f.Influence, f.InfluenceScaled)).ToList() ?? [],
            Signature = signature ?? [],
            SignatureSaliencyLength = saliencyLength,
        };
    }

    private async Task PublishAlertAsync(AlertState state, CancellationToken cancellationToken)
    {
        var peak = peaks.GetValueOrDefault(state.Machine);
        var message = new AlertMessage(
            AlertId(state),
            state.Machine, state.Open ? "open" : "closed", state.Since, state.ClosedAt, state.PeakScore, state.PeakWindowId, state.Episode, model.Version,
            peak?.DominantChannel ?? string.Empty,
            peak?.ChannelContributions ?? new Dictionary<string, float>(),
            peak?.TopFilters ?? []);
        await worker.PublishAsync(worker.Topic(state.Machine, "alert"), JsonSerializer.SerializeToUtf8Bytes(message, LiveJsonContext.Default.AlertMessage), true, cancellationToken).ConfigureAwait(false);
    }


    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Alert opened on {Machine}: score {Score:F3}, dominant channel {Channel}")]
    private static partial void LogAlertOpened(ILogger logger, string machine, float score, string channel);
}
