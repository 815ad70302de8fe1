using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
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
            api.MapGet("/jobs", ListJobs).WithName("ListJobs").WithSummary("The nightly jobs: cron, next fire time, last run (outcome, time, duration, error) and last success.");

            api.MapPost("/jobs/{name}/trigger", TriggerJob).ProducesProblem(StatusCodes.Status404NotFound)
                .WithName("TriggerJob").RequireAuthorization(Roles.Engineer).RequireRateLimiting(HttpSecurity.Writes).WithSummary("(engineer) "
                + "Runs a job now (202 with the fire time; the outcome appears in GET /api/jobs when it finishes). A job never runs twice at once: a trigger during a run waits for it.");
        }

        if (history)
        {
            api.MapGet("/analyses", ListAnalyses).ProducesProblem(StatusCodes.Status400BadRequest)
                .WithName("ListAnalyses").WithSummary("Stored results of the analysis job, newest first (job filter optional, limit 1..1000, default 10).");
        }
    }

    public static async Task<Ok<JobsResponse>> ListJobs(ISchedulerFactory schedulers, JobRunLog runs, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        ArgumentNullException.ThrowIfNull(runs);
        var scheduler = await schedulers.GetScheduler(ct).ConfigureAwait(false);
        var jobs = new List<JobResponse>();
        foreach (var job in NightlyJobs.All)
        {
            var trigger = await scheduler.GetTrigger(new TriggerKey(job.Name, NightlyJobs.Group), ct).ConfigureAwait(false);
            var last = runs.Last(job.Name);
            jobs.Add(new JobResponse(
                job.Name,
                job.Description,
                (trigger as ICronTrigger)?.CronExpressionString,
                "fire once at start-up, then proceed",
                trigger?.NextFireTimeUtc,
                trigger?.PreviousFireTimeUtc,
                last is null ? null : RunBody(last),
                runs.LastSuccess(job.Name)?.FinishedAt));
        }

        return TypedResults.Ok(new JobsResponse(jobs));
    }

    public static async Task<Results<Accepted<JobTriggerResponse>, ProblemHttpResult>> TriggerJob(string name, ClaimsPrincipal user, ISchedulerFactory schedulers, JobRunLog runs,
        ILoggerFactory loggers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(schedulers);
        ArgumentNullException.ThrowIfNull(runs);
        if (!NightlyJobs.All.Any(j => j.Name == name))
        {
            return TypedResults.Problem(statusCode: 404, title: "No such job",
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
        return TypedResults.Accepted("/api/jobs", new JobTriggerResponse(name, at));
    }

    public static async Task<Results<Ok<AnalysesResponse>, ProblemHttpResult>> ListAnalyses([AsParameters] AnalysesRequest request, IAnalysisStore store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        var p = new ApiParameters();
        int count = p.Integer("limit", request.Limit, 1, 1000) ?? 10;
        if (p.Failed is { } failed)
        {
            return failed;
        }

        var records = await store.AnalysesAsync(string.IsNullOrWhiteSpace(request.Job) ? null : request.Job, count, ct).ConfigureAwait(false);
        return TypedResults.Ok(new AnalysesResponse([.. records.Select(r => new AnalysisResponse(
            r.Id, r.Job, r.Model, r.ModelVersion, r.At, r.Windows, JsonDocument.Parse(r.SummaryJson).RootElement))]));
    }

    private static JobRunResponse RunBody(JobRun run)
        => new(run.Outcome, run.StartedAt, run.FinishedAt, run.DurationSeconds, run.Manual, run.Error, run.Detail, run.TriggeredBy);
}
