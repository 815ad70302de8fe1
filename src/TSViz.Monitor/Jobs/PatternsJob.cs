using System.Globalization;
using Microsoft.Extensions.Options;
using Quartz;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// The nightly grouping of alerts into recurring fault patterns: the alerts of the last Jobs:PatternDays days (the
/// newest Jobs:PatternMaxAlerts), per model version, clustered by their explanation signatures
/// (<see cref="PatternClustering"/>); each version's assignments replace the previous night's, and the live matcher
/// reloads them.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class PatternsJob(
    IAlertPatternStore store,
    AlertPatternMatcher matcher,
    IOptions<MonitorOptions> options,
    JobRunLog runs,
    ILogger<PatternsJob> logger) : NightlyJob(NightlyJobs.Patterns, runs, logger)
{
    protected override async Task<JobResult> RunAsync(CancellationToken cancellationToken)
    {
        var jobs = options.Value.Jobs;
        var now = Runs.Time.GetUtcNow();
        var alerts = await store.AlertsSinceAsync(now.AddDays(-jobs.PatternDays), jobs.PatternMaxAlerts, cancellationToken).ConfigureAwait(false);
        int patterns = 0, recurring = 0;
        foreach (var version in alerts.GroupBy(a => a.ModelVersion, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var assignments = PatternClustering.Cluster([.. version], jobs.PatternMinSimilarity);
            await store.ReplacePatternsAsync(version.Key, assignments, now, cancellationToken).ConfigureAwait(false);
            var sizes = assignments.GroupBy(a => a.PatternId).Select(g => g.Count()).ToList();
            patterns += sizes.Count;
            recurring += sizes.Count(s => s > 1);
        }

        await matcher.ReloadAsync(cancellationToken).ConfigureAwait(false);
        return new JobResult(JobOutcome.Succeeded, string.Create(CultureInfo.InvariantCulture,
            $"grouped {alerts.Count} alerts of the last {jobs.PatternDays} days into {patterns} patterns, {recurring} of them seen more than once"));
    }
}
