using System.Globalization;
using Microsoft.Extensions.Options;
using Quartz;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// The nightly retention: deletes what History:Retain*Days no longer keeps (windows, full details, closed alerts with
/// their feedback, analyses) and job runs older than the analyses' age, and counts what went.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class RetentionJob(
    IHistoryRetention store,
    IOptions<MonitorOptions> options,
    JobMetrics metrics,
    JobRunLog runs,
    ILogger<RetentionJob> logger) : NightlyJob(NightlyJobs.Retention, runs, logger)
{
    /// <summary>The kinds tsviz_retention_deleted_total counts.</summary>
    public static readonly string[] Kinds = ["windows", "details", "alerts", "analyses", "job_runs"];

    public static RetentionPolicy Policy(HistorySettings history)
    {
        ArgumentNullException.ThrowIfNull(history);
        return new RetentionPolicy
        {
            Windows = TimeSpan.FromDays(history.RetainWindowsDays),
            Details = TimeSpan.FromDays(history.RetainDetailsDays),
            Alerts = TimeSpan.FromDays(history.RetainAlertsDays),
            Analyses = TimeSpan.FromDays(history.RetainAnalysesDays),
        };
    }

    protected override async Task<JobResult> RunAsync(CancellationToken cancellationToken)
    {
        var policy = Policy(options.Value.History);
        var now = Runs.Time.GetUtcNow();
        var deleted = await store.ApplyRetentionAsync(policy, now, cancellationToken).ConfigureAwait(false);
        int jobRuns = await Runs.DeleteBeforeAsync(now - policy.Analyses, cancellationToken).ConfigureAwait(false);
        metrics.RetentionDeleted.WithLabels("windows").Inc(deleted.Windows);
        metrics.RetentionDeleted.WithLabels("details").Inc(deleted.Details);
        metrics.RetentionDeleted.WithLabels("alerts").Inc(deleted.Alerts);
        metrics.RetentionDeleted.WithLabels("analyses").Inc(deleted.Analyses);
        metrics.RetentionDeleted.WithLabels("job_runs").Inc(jobRuns);
        return new JobResult(JobOutcome.Succeeded, string.Create(CultureInfo.InvariantCulture,
            $"deleted {deleted.Windows} windows, {deleted.Details} full details, {deleted.Alerts} closed alerts, {deleted.Analyses} analyses, {jobRuns} job runs"));
    }
}
