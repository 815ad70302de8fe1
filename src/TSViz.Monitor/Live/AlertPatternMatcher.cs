using Microsoft.Extensions.Options;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Live;

/// <summary>
/// tsviz/v1/{machine}/alert's <c>pattern</c>: which recurring fault pattern an alert belongs to, how often it was seen,
/// where and when last, and what operators said about its alerts (as of the last nightly grouping or start; the API
/// reads them live).
/// </summary>
internal sealed record PatternMessage(
    string Id, int Occurrences, IReadOnlyList<string> Machines, DateTimeOffset LastSeen, int Confirmed, int FalseAlarms, string? LastComment, bool MostlyFalseAlarms, string Summary);

/// <summary>
/// Matches each alert of the live path to a recurring fault pattern, in memory: the nightly grouping's patterns of the
/// deployed model version (loaded at start and after each run), with the alerts since added as they come. An alert
/// joins the pattern to every alert of which it is at least Jobs:PatternMinSimilarity similar (the nightly cut's rule),
/// the most similar on average when several qualify; otherwise it starts a pattern of its own, which later alerts can
/// join before the next night. Each new assignment is written to the history in the background (never waited for by
/// the live path; a failure is logged and the next night assigns it anyway). Thread-safe.
/// </summary>
internal sealed partial class AlertPatternMatcher(IOptions<MonitorOptions> options, LiveModel model, ILogger<AlertPatternMatcher> logger, IAlertPatternStore? store = null)
    : IHostedService
{
    private readonly Lock gate = new();
    private readonly double minSimilarity = options.Value.Jobs.PatternMinSimilarity;
    private readonly bool enabled = options.Value.History.Enabled && store is not null;
    private Dictionary<string, Pattern> patterns = new(StringComparer.Ordinal);
    private Dictionary<string, string> assigned = new(StringComparer.Ordinal);

    public Task StartAsync(CancellationToken cancellationToken) => ReloadAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Loads the deployed model version's patterns, their members and what operators said, from the history.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        if (!enabled)
        {
            return;
        }

        try
        {
            var members = await store!.PatternMembersAsync(model.Version, cancellationToken).ConfigureAwait(false);
            var loaded = new Dictionary<string, Pattern>(StringComparer.Ordinal);
            foreach (var group in members.GroupBy(m => m.PatternId))
            {
                var summary = await store.PatternAsync(group.Key, cancellationToken).ConfigureAwait(false);
                loaded[group.Key] = new Pattern(group.Key, [.. group.Select(m => m.Alert)], summary);
            }

            lock (gate)
            {
                patterns = loaded;
                assigned = members.ToDictionary(m => m.Alert.Id, m => m.PatternId, StringComparer.Ordinal);
            }

            LogLoaded(logger, loaded.Count, members.Count);
        }
        catch (Exception ex) when (ex is HistoryStoreException or System.Data.Common.DbException)
        {
            LogNotLoaded(logger, ex);
        }
    }

    /// <summary>The alert's pattern (assigning it when it has none yet or its peak moved); null without a history or a signature.</summary>
    public PatternMessage? Match(AlertRecord alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (!enabled || alert.Signature.Length == 0)
        {
            return null;
        }

        PatternMessage message;
        lock (gate)
        {
            if (assigned.TryGetValue(alert.Id, out string? known) && patterns.TryGetValue(known, out var mine))
            {
                mine.Update(alert);
                return mine.Message();
            }

            var chosen = Best(alert) ?? new Pattern(PatternId(alert.Id), [], null);
            patterns[chosen.Id] = chosen;
            chosen.Update(alert);
            assigned[alert.Id] = chosen.Id;
            message = chosen.Message();
        }

        _ = PersistAsync(alert.Id, message.Id); // a new assignment: stored in the background
        return message;
    }

    /// <summary>A new pattern's id, as the nightly grouping names a pattern whose earliest alert is this one.</summary>
    internal static string PatternId(string alertId) => PatternIds.Of(alertId);

    private Pattern? Best(AlertRecord alert)
    {
        Pattern? best = null;
        double bestMean = double.NegativeInfinity;
        foreach (var pattern in patterns.Values)
        {
            var comparable = pattern.Members.Where(m => m.Signature.Length == alert.Signature.Length && m.SignatureSaliencyLength == alert.SignatureSaliencyLength).ToList();
            if (comparable.Count == 0 || comparable.Count != pattern.Members.Count)
            {
                continue;
            }

            var similarities = comparable.Select(m => PatternSimilarity.Of(alert, m)).ToList();
            if (similarities.Min() >= minSimilarity && similarities.Average() > bestMean)
            {
                (best, bestMean) = (pattern, similarities.Average());
            }
        }

        return best;
    }

    private async Task PersistAsync(string alertId, string patternId)
    {
        try
        {
            await store!.AssignPatternAsync(alertId, patternId, model.Version, DateTimeOffset.UtcNow, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HistoryStoreException or System.Data.Common.DbException or InvalidOperationException)
        {
            LogNotPersisted(logger, alertId, ex);
        }
    }

    [LoggerMessage(EventId = 340, Level = LogLevel.Information, Message = "Recurring fault patterns loaded: {Patterns} patterns of {Alerts} alerts")]
    private static partial void LogLoaded(ILogger logger, int patterns, int alerts);

    [LoggerMessage(EventId = 341, Level = LogLevel.Warning, Message = "Recurring fault patterns could not be loaded from the history; alerts start their own until the next load")]
    private static partial void LogNotLoaded(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 342, Level = LogLevel.Warning, Message = "The pattern of alert {AlertId} was not stored; the next nightly grouping assigns it")]
    private static partial void LogNotPersisted(ILogger logger, string alertId, Exception exception);

    /// <summary>One pattern: its members (with signatures) and what the history said about it when loaded.</summary>
    private sealed class Pattern(string id, List<AlertRecord> members, PatternSummary? loaded)
    {
        public string Id { get; } = id;

        public List<AlertRecord> Members { get; } = members;

        /// <summary>Adds the alert, or replaces its earlier state (a raised peak has a new signature).</summary>
        public void Update(AlertRecord alert)
        {
            int at = Members.FindIndex(m => m.Id == alert.Id);
            if (at >= 0)
            {
                Members[at] = alert;
            }
            else
            {
                Members.Add(alert);
            }
        }

        public PatternMessage Message()
        {
            var machines = Members.Select(m => m.Machine).Concat(loaded?.Machines ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var lastSeen = Members.Max(m => m.Since);
            int confirmed = loaded?.Confirmed ?? 0, falseAlarms = loaded?.FalseAlarms ?? 0;
            bool mostlyFalse = falseAlarms > confirmed;
            return new PatternMessage(Id, Members.Count, machines, lastSeen, confirmed, falseAlarms, loaded?.LastComment, mostlyFalse,
                PatternWords.Summary(Members.Count, machines, Members.Min(m => m.Since), lastSeen, confirmed, falseAlarms, loaded?.LastComment));
        }
    }
}
