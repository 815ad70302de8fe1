using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using TSViz.Monitor.Live;

namespace TSViz.Monitor.Jobs;

/// <summary>One run of a job: how it ended, when, how long it took, and why it failed or was skipped.</summary>
/// <param name="TriggeredBy">Who ran it by hand ("name (role, method)"); null for a scheduled run.</param>
internal sealed record JobRun(string Job, string Outcome, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, double DurationSeconds, bool Manual, string? Error, string? Detail, string? TriggeredBy = null);

/// <summary>
/// The last run and last success of each job, in memory for /health, /api/jobs and the metrics, and in the history
/// file's job_runs table so they survive a restart (the staleness alert watches the last success).
/// </summary>
internal sealed class JobRunLog
{
    private readonly string? connectionString;
    private readonly JobMetrics metrics;
    private readonly ConcurrentDictionary<string, JobRun> last = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JobRun> lastSuccess = new(StringComparer.Ordinal);

    /// <param name="connectionString">The history file; null when the jobs are off (nothing is recorded or reported).</param>
    public JobRunLog(string? connectionString, JobMetrics metrics, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        this.connectionString = connectionString;
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

    public bool Enabled => connectionString is not null;

    public TimeProvider Time { get; }

    public JobRun? Last(string job) => last.GetValueOrDefault(job);

    public JobRun? LastSuccess(string job) => lastSuccess.GetValueOrDefault(job);

    /// <summary>Reads each job's last run and last success from job_runs (after a restart).</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        if (connectionString is null)
        {
            return;
        }

        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var job in NightlyJobs.All)
        {
            if (await ReadAsync(connection, job.Name, success: false, cancellationToken).ConfigureAwait(false) is { } run)
            {
                last[job.Name] = run;
                metrics.JobLastDuration.WithLabels(job.Name).Set(run.DurationSeconds);
            }

            if (await ReadAsync(connection, job.Name, success: true, cancellationToken).ConfigureAwait(false) is { } success)
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

        if (connectionString is null)
        {
            return;
        }

        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO job_runs (job, outcome, started_at, finished_at, duration_seconds, manual, error, detail, triggered_by)
            VALUES ($job, $outcome, $started, $finished, $duration, $manual, $error, $detail, $by);
            """;
        command.Parameters.AddWithValue("$job", run.Job);
        command.Parameters.AddWithValue("$outcome", run.Outcome);
        command.Parameters.AddWithValue("$started", run.StartedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$finished", run.FinishedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$duration", run.DurationSeconds);
        command.Parameters.AddWithValue("$manual", run.Manual ? 1 : 0);
        command.Parameters.AddWithValue("$error", (object?)run.Error ?? DBNull.Value);
        command.Parameters.AddWithValue("$detail", (object?)run.Detail ?? DBNull.Value);
        command.Parameters.AddWithValue("$by", (object?)run.TriggeredBy ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes job_runs older than <paramref name="cutoff"/>, keeping each job's last run and last success.</summary>
    public async Task<int> DeleteBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        if (connectionString is null)
        {
            return 0;
        }

        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            DELETE FROM job_runs WHERE started_at < $cutoff
              AND id NOT IN (SELECT MAX(id) FROM job_runs GROUP BY job)
              AND id NOT IN (SELECT MAX(id) FROM job_runs WHERE outcome = 'succeeded' GROUP BY job);
            """;
        command.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
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

    private static async Task<JobRun?> ReadAsync(SqliteConnection connection, string job, bool success, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT outcome, started_at, finished_at, duration_seconds, manual, error, detail, triggered_by FROM job_runs
            WHERE job = $job {(success ? "AND outcome = 'succeeded'" : string.Empty)} ORDER BY id DESC LIMIT 1;
            """;
        command.Parameters.AddWithValue("$job", job);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new JobRun(job, reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
            reader.GetDouble(3), reader.GetInt64(4) != 0, reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.IsDBNull(7) ? null : reader.GetString(7));
    }
}
