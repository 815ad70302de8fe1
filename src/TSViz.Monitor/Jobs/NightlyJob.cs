using System.Diagnostics;
using Quartz;

namespace TSViz.Monitor.Jobs;

/// <summary>What a job's work reports: succeeded or skipped (with why), and a one-line detail for the run log.</summary>
internal sealed record JobResult(string Outcome, string Detail);

/// <summary>
/// What every nightly job does around its work: times it, records the run (outcome, duration, error) in the run
/// log and the metrics, and catches every failure. A job that throws is recorded as failed and logged; it never
/// propagates to Quartz, which keeps the trigger and fires it again at its next time.
/// </summary>
internal abstract partial class NightlyJob(string name, JobRunLog runs, ILogger logger) : IJob
{
    /// <summary>JobDataMap key set by a manual trigger (the API, the `jobs trigger` verb).</summary>
    public const string ManualKey = "tsviz.manual";

    /// <summary>JobDataMap key of a manual trigger: who triggered it, "name (role, method)".</summary>
    public const string TriggeredByKey = "tsviz.triggered-by";

    /// <summary>The run log (its clock is the monitor's).</summary>
    protected JobRunLog Runs { get; } = runs;

    /// <summary>The run's data (who triggered it and how), while <see cref="RunAsync"/> runs.</summary>
    protected JobDataMap? Data { get; private set; }

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = Runs.Time.GetUtcNow();
        long watch = Stopwatch.GetTimestamp();
        bool manual = context.MergedJobDataMap.ContainsKey(ManualKey);
        string? triggeredBy = context.MergedJobDataMap.TryGetString(TriggeredByKey, out var by) ? by : null;
        Data = context.MergedJobDataMap;
        JobRun run;
        try
        {
            var result = await RunAsync(cancellationToken).ConfigureAwait(false);
            run = new JobRun(name, result.Outcome, started, Runs.Time.GetUtcNow(), Stopwatch.GetElapsedTime(watch).TotalSeconds, manual,
                result.Outcome == JobOutcome.Skipped ? result.Detail : null, result.Detail, triggeredBy);
            LogFinished(logger, name, result.Outcome, run.DurationSeconds, result.Detail);
        }
        catch (Exception ex)
        {
            string error = ex is OperationCanceledException && cancellationToken.IsCancellationRequested
                ? "cancelled: the monitor was stopping"
                : $"{ex.GetType().Name}: {ex.Message}";
            run = new JobRun(name, JobOutcome.Failed, started, Runs.Time.GetUtcNow(), Stopwatch.GetElapsedTime(watch).TotalSeconds, manual, error, null, triggeredBy);
            LogFailed(logger, ex, name, run.DurationSeconds, error);
        }

        try
        {
            // Recorded even when the monitor is stopping: the run happened.
            await Runs.RecordAsync(run, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or InvalidOperationException or IOException)
        {
            LogNotRecorded(logger, name, ex.Message);
        }
    }

    /// <summary>The job's work; throws on failure.</summary>
    protected abstract Task<JobResult> RunAsync(CancellationToken cancellationToken);

    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Job {Job} {Outcome} in {Seconds:F1} s: {Detail}")]
    private static partial void LogFinished(ILogger logger, string job, string outcome, double seconds, string detail);

    [LoggerMessage(EventId = 601, Level = LogLevel.Error, Message = "Job {Job} failed after {Seconds:F1} s: {Error}; Quartz fires it again at its next scheduled time")]
    private static partial void LogFailed(ILogger logger, Exception exception, string job, double seconds, string error);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "Job {Job}: the run could not be written to job_runs: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string job, string error);
}
