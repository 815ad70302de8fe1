using System.Text.Json;
using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Live;

/// <summary>An alert's peak window waiting for its counterfactual.</summary>
internal sealed record CounterfactualRequest(string AlertId, string Machine, string PeakWindowId, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, float[] Window, double CloseLevel);

/// <summary>
/// Where the live processor and the counterfactual worker meet. The processor hands over each alert's peak window as
/// the episode opens or its peak rises (<see cref="Request"/>, never blocking: a newer peak replaces the alert's
/// waiting request, and past <see cref="CounterfactualSettings.MaxPending"/> the oldest is dropped and counted); the
/// worker takes them (<see cref="NextAsync"/>) and reports back (<see cref="CompleteAsync"/>). Every retained alert
/// message goes out through <see cref="PublishAlertAsync"/>, one at a time, so the alert topic always carries the
/// machine's newest episode state with the counterfactual of its current peak: a result that arrives after the peak
/// moved on, or after a newer state was published, never overwrites it.
/// </summary>
internal sealed partial class AlertCounterfactuals : IDisposable
{
    /// <summary>Results kept for alerts still to be published (their episodes' later messages carry them).</summary>
    private const int KeptResults = 4096;

    private readonly IResultSink[] sinks;
    private readonly int maxPending;
    private readonly ILogger<AlertCounterfactuals> logger;
    private readonly Lock gate = new();
    private readonly LinkedList<CounterfactualRequest> pending = new();
    private readonly Dictionary<string, LinkedListNode<CounterfactualRequest>> pendingByAlert = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim available = new(0);
    private readonly SemaphoreSlim publishing = new(1, 1);
    private readonly Dictionary<string, CounterfactualMessage> results = new(StringComparer.Ordinal);
    private readonly Queue<string> resultOrder = new();
    private readonly Dictionary<string, AlertMessage> latest = new(StringComparer.Ordinal);
    private readonly Counter outcomes;
    private readonly ICounterfactualStore? store;

    public AlertCounterfactuals(
        IEnumerable<IResultSink> sinks, IOptions<MonitorOptions> options, CollectorRegistry registry, ILogger<AlertCounterfactuals> logger, ICounterfactualStore? store = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.store = options.Value.History.Enabled ? store : null;
        this.sinks = [.. sinks];
        maxPending = options.Value.Counterfactual.MaxPending;
        this.logger = logger;
        outcomes = Metrics.WithCustomRegistry(registry).CreateCounter(
            "tsviz_counterfactuals_total",
            "Alert counterfactuals by outcome: found (verified below the close level by ONNX Runtime), not_found (none within the cell budget), failed (the computation threw), dropped (more alerts waiting than Counterfactual:MaxPending; the oldest request is dropped).",
            "outcome");
        foreach (string outcome in new[] { "found", "not_found", "failed", "dropped" })
        {
            outcomes.WithLabels(outcome);
        }
    }

    /// <summary>
    /// Loads the stored counterfactuals of alerts a restarted monitor restored (an open episode that continues, or one
    /// it closes as monitor_restarted), so their next published state carries the counterfactual they had.
    /// </summary>
    public async Task PreloadAsync(IEnumerable<string> alertIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alertIds);
        if (store is null)
        {
            return;
        }

        foreach (string id in alertIds)
        {
            try
            {
                if (await store.CounterfactualAsync(id, cancellationToken).ConfigureAwait(false) is not { } stored
                    || JsonSerializer.Deserialize(stored.Document, LiveJsonContext.Default.CounterfactualDocument) is not { } document)
                {
                    continue;
                }

                lock (gate)
                {
                    if (results.TryAdd(id, document.Counterfactual))
                    {
                        resultOrder.Enqueue(id);
                    }
                }
            }
            catch (Exception ex) when (ex is HistoryStoreException or JsonException or System.Data.Common.DbException)
            {
                // The alert goes on without it until its peak rises (a new one is computed then).
                LogNotPreloaded(logger, id, ex);
            }
        }
    }

    /// <summary>Counts an outcome of the worker (found, not_found, failed).</summary>
    public void Count(string outcome) => outcomes.WithLabels(outcome).Inc();

    /// <summary>Alerts waiting for their counterfactual.</summary>
    public int Pending
    {
        get
        {
            lock (gate)
            {
                return pending.Count;
            }
        }
    }

    /// <summary>Queues an alert's peak window, replacing the alert's waiting request; never blocks.</summary>
    public void Request(CounterfactualRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        CounterfactualRequest? dropped = null;
        bool added;
        lock (gate)
        {
            if (pendingByAlert.TryGetValue(request.AlertId, out var node))
            {
                node.Value = request; // keeps its place in the queue: the newest peak of an alert already waiting
                added = false;
            }
            else
            {
                pendingByAlert[request.AlertId] = pending.AddLast(request);
                added = true;
                if (pending.Count > maxPending)
                {
                    dropped = pending.First!.Value;
                    pending.RemoveFirst();
                    pendingByAlert.Remove(dropped.AlertId);
                    added = false; // one in, one out: the count of waiting requests is unchanged
                }
            }
        }

        if (added)
        {
            available.Release();
        }

        if (dropped is not null)
        {
            outcomes.WithLabels("dropped").Inc();
            LogDropped(logger, dropped.AlertId, dropped.Machine, maxPending);
        }
    }

    /// <summary>The oldest waiting request, when there is one.</summary>
    public async Task<CounterfactualRequest> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await available.WaitAsync(cancellationToken).ConfigureAwait(false);
            lock (gate)
            {
                if (pending.First is { } first)
                {
                    pending.RemoveFirst();
                    pendingByAlert.Remove(first.Value.AlertId);
                    return first.Value;
                }
            }
        }
    }

    /// <summary>
    /// Publishes an alert state to every sink with the counterfactual of its current peak when there is one; one
    /// alert publish at a time, so a worker's republish cannot overtake it.
    /// </summary>
    public async Task PublishAlertAsync(AlertMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await publishing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (gate)
            {
                if (message.Counterfactual is null && results.TryGetValue(message.Id, out var known) && known.PeakWindowId == message.PeakWindowId)
                {
                    message = message with { Counterfactual = known };
                }

                latest[message.Machine] = message;
            }

            await SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            publishing.Release();
        }
    }

    /// <summary>
    /// Takes a counterfactual of <paramref name="machine"/>'s alert and, when the machine's published alert is still that episode at that peak, publishes the
    /// alert again with it. Returns whether it was published.
    /// </summary>
    public async Task<bool> CompleteAsync(string machine, string alertId, CounterfactualMessage counterfactual, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counterfactual);
        await publishing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            AlertMessage? republish = null;
            lock (gate)
            {
                if (!results.ContainsKey(alertId))
                {
                    resultOrder.Enqueue(alertId);
                    while (resultOrder.Count > KeptResults)
                    {
                        results.Remove(resultOrder.Dequeue());
                    }
                }

                results[alertId] = counterfactual;
                if (latest.TryGetValue(machine, out var current) && current.Id == alertId && current.PeakWindowId == counterfactual.PeakWindowId)
                {
                    republish = current with { Counterfactual = counterfactual };
                    latest[current.Machine] = republish;
                }
            }

            if (republish is null)
            {
                return false;
            }

            await SendAsync(republish, cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            publishing.Release();
        }
    }

    private Task SendAsync(AlertMessage message, CancellationToken cancellationToken)
    {
        var result = new LiveResult(message.Machine, "alert", JsonSerializer.SerializeToUtf8Bytes(message, LiveJsonContext.Default.AlertMessage), true) { Alert = message };
        return sinks.Length == 1 ? sinks[0].PublishAsync(result, cancellationToken) : Task.WhenAll(sinks.Select(s => s.PublishAsync(result, cancellationToken)));
    }

    public void Dispose()
    {
        available.Dispose();
        publishing.Dispose();
    }

    [LoggerMessage(EventId = 334, Level = LogLevel.Warning, Message = "The stored counterfactual of restored alert {AlertId} could not be loaded; its next state is published without it")]
    private static partial void LogNotPreloaded(ILogger logger, string alertId, Exception exception);

    [LoggerMessage(EventId = 330, Level = LogLevel.Warning, Message = "Counterfactual of alert {AlertId} ({Machine}) dropped: more than {MaxPending} alerts were waiting for theirs (Monitor:Counterfactual:MaxPending)")]
    private static partial void LogDropped(ILogger logger, string alertId, string machine, int maxPending);
}
