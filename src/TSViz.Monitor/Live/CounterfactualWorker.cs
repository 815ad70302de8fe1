using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Explain;
using TSViz.Explain.Counterfactuals;
using TSViz.Explain.Data;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;
using TSViz.Plugins.Scoring;

namespace TSViz.Monitor.Live;

/// <summary>
/// Computes the counterfactual of each alert's peak window off the live path (<see cref="AlertCounterfactuals"/> hands
/// the requests over): <see cref="SparseCounterfactual"/> on an explainer of its own, single-threaded, loaded from the
/// deployed model file on the first alert; the changed window is then rescored by ONNX Runtime (its own session of the
/// same file, through the same preprocessing) and only a change that scores below the close level there counts as
/// found. The result is stored in the history, counted, and published with the alert.
/// </summary>
internal sealed partial class CounterfactualWorker(
    IOptions<MonitorOptions> options, LiveModel model, AlertCounterfactuals board, CollectorRegistry registry, TimeProvider time, ILogger<CounterfactualWorker> logger,
    ICounterfactualStore? store = null)
    : BackgroundService
{
    private readonly Histogram seconds = Metrics.WithCustomRegistry(registry).CreateHistogram(
        "tsviz_counterfactual_seconds",
        "Time to compute and verify one alert's counterfactual (off the live path).",
        new HistogramConfiguration { Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    /// <summary>The search runs here, at Counterfactual:Nice, so the live path gets the processor first.</summary>
    private readonly NiceThread thread = new("tsviz-counterfactual", options.Value.Counterfactual.Nice, logger);

    private Explainer? explainer; // only touched on the thread
    private OnnxRuntimeScorer? scorer;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Counterfactual.Enabled)
        {
            return;
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var request = await board.NextAsync(stoppingToken).ConfigureAwait(false);
                await HandleAsync(request, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: waiting requests are not computed (their alerts were published without a counterfactual).
        }
    }

    private async Task HandleAsync(CounterfactualRequest request, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        CounterfactualDocument document;
        try
        {
            // The search is CPU work of milliseconds; it runs on its own low-priority thread, never on the processor's loop.
            document = await thread.RunAsync(() => Compute(request, watch, cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            board.Count("failed");
            LogFailed(logger, request.AlertId, request.Machine, ex);
            return;
        }

        var counterfactual = document.Counterfactual;
        seconds.Observe(watch.Elapsed.TotalSeconds);
        board.Count(counterfactual.Found ? "found" : "not_found");
        LogComputed(logger, request.AlertId, counterfactual.Summary);
        if (store is not null && options.Value.History.Enabled)
        {
            try
            {
                await store.SaveCounterfactualAsync(
                    new CounterfactualRecord(request.AlertId, request.Machine, request.PeakWindowId, counterfactual.ComputedAt, counterfactual.Found,
                        JsonSerializer.Serialize(document, LiveJsonContext.Default.CounterfactualDocument)),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Still published with the alert; the history lacks it (the API answers 404 for it).
                LogNotStored(logger, request.AlertId, ex);
            }
        }

        await board.CompleteAsync(request.Machine, request.AlertId, counterfactual, cancellationToken).ConfigureAwait(false);
    }

    private CounterfactualDocument Compute(CounterfactualRequest request, Stopwatch watch, CancellationToken cancellationToken)
    {
        var settings = options.Value.Counterfactual;
        explainer ??= Explainer.Load(model.Path, parallelism: 1);
        scorer ??= OnnxRuntimeScorer.Open(model.Path, intraOpThreads: 1);
        var metadata = explainer.Metadata;
        int channels = metadata.Channels.Count, length = metadata.WindowLength;
        var result = new SparseCounterfactual(explainer).Explain(
            WindowBatch.One(request.Window),
            new CounterfactualOptions { Below = request.CloseLevel, Margin = settings.Margin, MaxCellFraction = settings.MaxCellFraction, PlausibleMads = settings.PlausibleMads },
            cancellationToken)[0];

        // The deployed engine decides: the received and the changed window rescored by ONNX Runtime, after the
        // model's preprocessing applied exactly as the live scoring path applies it (WindowProcessor).
        var both = new float[2 * channels * length];
        request.Window.CopyTo(both, 0);
        result.Window.CopyTo(both, channels * length);
        WindowPreprocessing.Apply(metadata.Preprocessing, both, channels, length);
        var verified = new float[2];
        scorer.Score(both, 2, verified);
        bool found = result.Found && result.Changes.Count > 0 && verified[1] < request.CloseLevel;
        string? reason = result.Reason;
        if (result.Found && result.Changes.Count > 0 && !found)
        {
            reason = string.Create(CultureInfo.InvariantCulture,
                $"the change found scores {verified[1]:0.####} in ONNX Runtime, not below the close level {request.CloseLevel:0.###}");
        }

        var changes = found
            ? result.Changes.Select(c => new CounterfactualChangeMessage(c.ChannelName, c.Step, TimeOf(request, c.Step, length), c.From, c.To)).ToList()
            : [];
        float after = found ? verified[1] : result.ScoreAfter;
        var message = new CounterfactualMessage(
            request.PeakWindowId, request.WindowStart, request.WindowEnd, found, request.CloseLevel, verified[0], after, changes,
            Summary(found, changes, after, request.CloseLevel, result.MaxCells, channels * length, reason),
            found ? null : reason, result.MaxCells, time.GetUtcNow(), Math.Round(watch.Elapsed.TotalMilliseconds, 3));
        return new CounterfactualDocument(
            request.AlertId, request.Machine, model.Version, request.WindowStart, request.WindowEnd, metadata.Channels, message,
            ChannelRows.Of(request.Window, channels, length), ChannelRows.Of(found ? result.Window : request.Window, channels, length));
    }

    /// <summary>A step's time, evenly spaced between the window's first and last sample.</summary>
    private static DateTimeOffset TimeOf(CounterfactualRequest request, int step, int length)
        => length < 2 ? request.WindowEnd : request.WindowStart + ((request.WindowEnd - request.WindowStart) * step / (length - 1));

    /// <summary>The counterfactual in plain words, as the alert page shows it.</summary>
    internal static string Summary(bool found, IReadOnlyList<CounterfactualChangeMessage> changes, float after, double closeLevel, int maxCells, int cells, string? reason)
    {
        var text = new StringBuilder();
        if (found)
        {
            text.Append(CultureInfo.InvariantCulture, $"Normal (score {after:0.000}, below the close level {closeLevel:0.###}) if ");
            for (int k = 0; k < changes.Count; k++)
            {
                var c = changes[k];
                text.Append(k == 0 ? string.Empty : k == changes.Count - 1 ? " and " : ", ")
                    .Append(CultureInfo.InvariantCulture, $"{c.Channel} at {c.Time.UtcDateTime:HH:mm:ss.fff} UTC had been {Value(c.To)} instead of {Value(c.From)}");
            }

            return text.Append('.').ToString();
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"No counterfactual within the budget ({maxCells} of the window's {cells} values, close level {closeLevel:0.###}): {reason}.");
    }

    /// <summary>A sensor value with the digits that tell two close values apart (at most 4 significant decimals).</summary>
    private static string Value(float v) => v.ToString(Math.Abs(v) >= 100 ? "0.##" : "0.###", CultureInfo.InvariantCulture);

    public override void Dispose()
    {
        thread.Dispose(); // the queued searches finish first, so nothing uses the explainer after this
        explainer?.Dispose();
        scorer?.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 331, Level = LogLevel.Information, Message = "Counterfactual of alert {AlertId}: {Summary}")]
    private static partial void LogComputed(ILogger logger, string alertId, string summary);

    [LoggerMessage(EventId = 332, Level = LogLevel.Error, Message = "Counterfactual of alert {AlertId} ({Machine}) failed; the alert stands without one")]
    private static partial void LogFailed(ILogger logger, string alertId, string machine, Exception exception);

    [LoggerMessage(EventId = 333, Level = LogLevel.Error, Message = "Counterfactual of alert {AlertId} was computed and published but not stored in the history")]
    private static partial void LogNotStored(ILogger logger, string alertId, Exception exception);
}
