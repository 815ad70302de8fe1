namespace TSViz.Monitor.Jobs;

/// <summary>
/// Where the record of every job run is kept: the job_runs table beside Quartz's own tables, in the history's database
/// (<see cref="SqliteJobRunStore"/> in the history file, <see cref="PostgresJobRunStore"/> in the cluster's PostgreSQL).
/// Times are Unix milliseconds, as the history's.
/// </summary>
internal interface IJobRunStore
{
    /// <summary>Whether nodes share the store (PostgreSQL): another node's runs show up, so the log re-reads it.</summary>
    bool Shared { get; }

    /// <summary>Creates what the store needs before the scheduler starts (idempotent).</summary>
    Task EnsureSchemaAsync(CancellationToken cancellationToken);

    /// <summary>The job's newest run, or its newest successful one.</summary>
    Task<JobRun?> LastAsync(string job, bool success, CancellationToken cancellationToken);

    /// <summary>Appends a finished run.</summary>
    Task InsertAsync(JobRun run, CancellationToken cancellationToken);

    /// <summary>Deletes runs started before <paramref name="cutoff"/>, keeping each job's last run and last success.</summary>
    Task<int> DeleteBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}
