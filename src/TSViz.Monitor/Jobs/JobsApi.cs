using System.Security.Claims;
using System.Text.Json;
using Quartz;
using TSViz.Monitor.History;
using TSViz.Monitor.Security;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// The jobs' HTTP API: list the jobs (cron, next fire time, last run), trigger one now, and read stored analyses.
/// Mapped when the jobs are on; /api/analyses is mapped whenever the history is.
/// </summary>
internal static class JobsApi
{
    /// <param name="app">The monitor's web application.</param>
    /// <param name="history">Monitor:History:Enabled, as the composition root bound it (not resolved: options are validated at start).</param>
    /// <param name="jobs">Monitor:Jobs:Enabled, likewise.</param>
    public static void MapJobsApi(this WebApplication app, bool history, bool jobs)
    {
        ArgumentNullException.ThrowIfNull(app);
        var api = app.MapGroup("/api").WithTags("jobs").RequireAuthorization(Roles.Viewer);
        if (history && jobs)
        {
            api.MapGet("/jobs", async (ISchedulerFactory schedulers, JobRunLog runs, CancellationToken ct) =>
            {
                var scheduler = await schedulers.GetScheduler(ct).ConfigureAwait(false);
                var jobs = new List<object>();
                foreach (var job in NightlyJobs.All)
                {
                    var trigger = await scheduler.GetTrigger(new TriggerKey(job.Name, NightlyJobs.Group), ct).ConfigureAwait(false);
                    var last = runs.Last(job.Name);
                    jobs.Add(new
                    {
                        name = job.Name,
                        description = job.Description,
                        cron = (trigger as ICronTrigger)?.CronExpressionString,
                        misfirePolicy = "fire once at start-up, then proceed",
                        nextFireTime = trigger?.NextFireTimeUtc,
                        previousFireTime = trigger?.PreviousFireTimeUtc,
                        lastRun = last is null ? null : RunBody(last),
                        lastSuccess = runs.LastSuccess(job.Name)?.FinishedAt,
                    });
                }

                return Results.Json(new { jobs });
            }).WithName("ListJobs").WithSummary("The nightly jobs: cron, next fire time, last run (outcome, time, duration, error) and last success.");

            api.MapPost("/jobs/{name}/trigger", async (string name, ClaimsPrincipal user, ISchedulerFactory schedulers, JobRunLog runs, ILoggerFactory loggers, CancellationToken ct) =>
            {
                if (!NightlyJobs.All.Any(j => j.Name == name))
                {
                    return Results.Problem(statusCode: 404, title: "No such job",
                        detail: $"There is no job '{name}'; the jobs are {string.Join(", ", NightlyJobs.All.Select(j => j.Name))}.",
                        extensions: new Dictionary<string, object?> { ["parameter"] = "name" });
                }

                var scheduler = await schedulers.GetScheduler(ct).ConfigureAwait(false);
                var data = new JobDataMap();
                data[NightlyJob.ManualKey] = "true";
                data[NightlyJob.TriggeredByKey] = $"{user.Identity?.Name} ({Roles.Of(user)}, {Roles.Method(user)})";
                var at = runs.Time.GetUtcNow();
                await scheduler.TriggerJob(new JobKey(name, NightlyJobs.Group), data, ct).ConfigureAwait(false);
                SecurityApi.Audit(loggers, user, "trigger", $"job {name}");
                return Results.Accepted("/api/jobs", new { job = name, fireTime = at });
            }).WithName("TriggerJob").RequireAuthorization(Roles.Engineer).RequireRateLimiting(HttpSecurity.Writes).WithSummary("(engineer) "
                + "Runs a job now (202 with the fire time; the outcome appears in GET /api/jobs when it finishes). A job never runs twice at once: a trigger during a run waits for it.");
        }

        if (history)
        {
            api.MapGet("/analyses", async (IAnalysisStore store, string? job, string? limit, CancellationToken ct) =>
            {
                var p = new ApiParameters();
                int count = p.Integer("limit", limit, 1, 1000) ?? 10;
                if (p.Failed is { } failed)
                {
                    return failed;
                }

                var records = await store.AnalysesAsync(string.IsNullOrWhiteSpace(job) ? null : job, count, ct).ConfigureAwait(false);
                return Results.Json(new
                {
                    items = records.Select(r => new
                    {
                        id = r.Id, job = r.Job, model = r.Model, modelVersion = r.ModelVersion, at = r.At, windows = r.Windows,
                        summary = JsonDocument.Parse(r.SummaryJson).RootElement,
                    }),
                });
            }).WithName("ListAnalyses").WithSummary("Stored results of the analysis job, newest first (job filter optional, limit 1..1000, default 10).");
        }
    }

    private static object RunBody(JobRun run) => new
    {
        outcome = run.Outcome,
        startedAt = run.StartedAt,
        finishedAt = run.FinishedAt,
        durationSeconds = run.DurationSeconds,
        manual = run.Manual,
        error = run.Error,
        detail = run.Detail,
        triggeredBy = run.TriggeredBy,
    };
}
