using System.Text.Json;
using Microsoft.AspNetCore.Mvc;

namespace TSViz.Monitor.Jobs;

// The jobs API's request and response bodies (camelCase JSON: each property's name in camelCase, in this order).

/// <summary>GET /api/jobs: the nightly jobs.</summary>
internal sealed record JobsResponse(IReadOnlyList<JobResponse> Jobs);

/// <summary>One nightly job: its schedule (cron, next and previous fire times), its last run and the end of its last success.</summary>
internal sealed record JobResponse(
    string Name,
    string Description,
    string? Cron,
    string MisfirePolicy,
    DateTimeOffset? NextFireTime,
    DateTimeOffset? PreviousFireTime,
    JobRunResponse? LastRun,
    DateTimeOffset? LastSuccess);

/// <summary>A job's run: outcome, times, duration, whether it was triggered by hand (and by whom), its error or detail.</summary>
internal sealed record JobRunResponse(
    string Outcome,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    double DurationSeconds,
    bool Manual,
    string? Error,
    string? Detail,
    string? TriggeredBy);

/// <summary>POST /api/jobs/{name}/trigger (202): the job and when it was fired.</summary>
internal sealed record JobTriggerResponse(string Job, DateTimeOffset FireTime);

/// <summary>GET /api/analyses: stored analyses, newest first.</summary>
internal sealed record AnalysesResponse(IReadOnlyList<AnalysisResponse> Items);

/// <summary>One stored analysis: the job, the model it analysed, how many windows, and the job's own summary JSON.</summary>
internal sealed record AnalysisResponse(long Id, string Job, string Model, string ModelVersion, DateTimeOffset At, int Windows, JsonElement Summary);

/// <summary>GET /api/analyses's query: an optional job name and how many (1-1000, default 10; text, validated by the API).</summary>
internal sealed record AnalysesRequest([FromQuery(Name = "job")] string? Job, [FromQuery(Name = "limit")] string? Limit);
