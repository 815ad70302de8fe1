using System.Collections.Concurrent;

namespace TSViz.Monitor.Jobs;

/// <summary>One run of a job: how it ended, when, how long it took, and why it failed or was skipped.</summary>
/// <param name="TriggeredBy">Who ran it by hand ("name (role, method)"); null for a scheduled run.</param>
internal sealed record JobRun(string Job, string Outcome, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, double DurationSeconds, bool Manual, string? Error, string? Detail, string? TriggeredBy = null);

/// <summary>
/// The last run and last success of each job, in memory for /health, /api/jobs and the metrics, and in the history
/// database's job_runs table (<see cref="IJobRunStore"/>) so they survive a restart (the staleness alert watches the
/// last success). With a store nodes share, <see cref="LoadAsync"/> runs again periodically, so every node reports
/// the runs another node made.
/// </summary>
internal sealed class JobRunLog
{
    private readonly IJobRunStore? store;
    private readonly JobMetrics metrics;
    private readonly ConcurrentDictionary<string, JobRun> last = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JobRun> lastSuccess = new(StringComparer.Ordinal);

    /// <param name="store">The job_runs table; null when the jobs are off (nothing is recorded or reported).</param>
    public JobRunLog(IJobRunStore? store, JobMetrics metrics, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        this.store = store;
        this.metrics = metrics;
        Time = time;
        if (Enabled)
        {
            // Every job and outcome exported from the first scrape on (at 0), so rates and the staleness rule see the series.
            foreach (var job in NightlyJobs.All)
            {
                foreach (string outcome in NightlyJobs.Outcomes)
                {
                    metrics.JobRuns.WithLabels(job.Name, outcome);
                }
            }

            foreach (string kind in RetentionJob.Kinds)
            {
                metrics.RetentionDeleted.WithLabels(kind);
            }
        }
    }

    public bool Enabled => store is not null;

    /// <summary>Whether other nodes record runs in the same store (re-read it to report theirs).</summary>
    public bool Shared => store?.Shared == true;

    public TimeProvider Time { get; }

    public JobRun? Last(string job) => last.GetValueOrDefault(job);

    public JobRun? LastSuccess(string job) => lastSuccess.GetValueOrDefault(job);

    /// <summary>Creates job_runs (and, in SQLite, Quartz's tables) before the scheduler starts.</summary>
    public Task EnsureSchemaAsync(CancellationToken cancellationToken) => store?.EnsureSchemaAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Reads each job's last run and last success from job_runs (after a restart, and periodically when shared).</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        if (store is null)
        {
            return;
        }

        foreach (var job in NightlyJobs.All)
        {
            if (await store.LastAsync(job.Name, success: false, cancellationToken).ConfigureAwait(false) is { } run)
            {
                last[job.Name] = run;
                metrics.JobLastDuration.WithLabels(job.Name).Set(run.DurationSeconds);
            }

            if (await store.LastAsync(job.Name, success: true, cancellationToken).ConfigureAwait(false) is { } success)
            {
                lastSuccess[job.Name] = success;
                metrics.JobLastSuccess.WithLabels(job.Name).Set(success.FinishedAt.ToUnixTimeMilliseconds() / 1000.0);
            }
        }
    }

    /// <summary>Records a finished run: memory, metrics, then job_runs (a failure to write it is the caller's to log).</summary>
    public async Task RecordAsync(JobRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        last[run.Job] = run;
        metrics.JobRuns.WithLabels(run.Job, run.Outcome).Inc();
        metrics.JobLastDuration.WithLabels(run.Job).Set(run.DurationSeconds);
        if (run.Outcome == JobOutcome.Succeeded)
        {
            lastSuccess[run.Job] = run;
            metrics.JobLastSuccess.WithLabels(run.Job).Set(run.FinishedAt.ToUnixTimeMilliseconds() / 1000.0);
        }

        if (store is not null)
        {
            await store.InsertAsync(run, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes job_runs older than <paramref name="cutoff"/>, keeping each job's last run and last success.</summary>
    public async Task<int> DeleteBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        return store is null ? 0 : await store.DeleteBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The jobs' entry in /health: per job its status (the last run's outcome, or "never_run"), last run and last
    /// success times and the last error. A failed job does not make the monitor unhealthy: it still scores and
    /// explains; the staleness alert (TSVizNightlyJobStale) and this entry say the nightly results are old.
    /// </summary>
    public Dictionary<string, object?>? Health()
    {
        if (!Enabled)
        {
            return null;
        }

        var jobs = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var job in NightlyJobs.All)
        {
            var run = Last(job.Name);
            jobs[job.Name] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["status"] = run?.Outcome ?? "never_run",
                ["lastRun"] = run?.FinishedAt,
                ["lastSuccess"] = LastSuccess(job.Name)?.FinishedAt,
                ["error"] = run?.Error,
            };
        }

        return jobs;
    }
}
