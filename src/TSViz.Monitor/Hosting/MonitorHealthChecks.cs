using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TSViz.Monitor.History;
using TSViz.Monitor.Jobs;
using TSViz.Monitor.Live;

namespace TSViz.Monitor.Hosting;

/// <summary>
/// /health as ASP.NET Core health checks, one per part a probe or an operator asks about: the broker connection, the
/// live path's stages, the history writer and the nightly jobs. Unhealthy (503) when the broker is gone or a stage of
/// the live path or the history writer is stalled or faulted; a failed nightly job is "degraded": reported, but the
/// monitor still scores and explains, so the answer stays 200.
/// </summary>
internal static class MonitorHealthChecks
{
    public const string Broker = "broker";
    public const string Stages = "stages";
    public const string History = "history";
    public const string Jobs = "jobs";

    /// <summary>Registers the four checks.</summary>
    public static IServiceCollection AddMonitorHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<BrokerCheck>(Broker)
            .AddCheck<StagesCheck>(Stages)
            .AddCheck<HistoryCheck>(History)
            .AddCheck<JobsCheck>(Jobs);
        return services;
    }

    /// <summary>Maps /health: 200 when healthy or degraded, 503 when unhealthy; open to anonymous probes.</summary>
    public static IEndpointConventionBuilder MapMonitorHealth(this IEndpointRouteBuilder app)
        => app.MapHealthChecks("/health", new HealthCheckOptions
        {
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteAsync,
        }).AllowAnonymous(); // liveness probes carry no credentials

    /// <summary>
    /// The body: <c>status</c> (healthy or unhealthy), <c>broker</c>, <c>model</c>, <c>stages</c> (each stage's state,
    /// seconds since its last progress, input waiting, fault, backpressure), <c>jobs</c> when the jobs run, and
    /// <c>checks</c>: each check's status and what it found.
    /// </summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        // The stages as the checks judged them (one reading each), not a second reading that could disagree with the status.
        var stages = report.Entries.Values.SelectMany(e => e.Data.TryGetValue(StagesKey, out object? judged) && judged is IReadOnlyList<StageReport> list ? list : []).ToList();
        var body = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["status"] = report.Status == HealthStatus.Unhealthy ? "unhealthy" : "healthy",
            ["broker"] = context.RequestServices.GetRequiredService<MqttGateway>().IsConnected ? "connected" : "disconnected",
            ["model"] = context.RequestServices.GetRequiredService<LiveModel>().Version,
            ["stages"] = stages.ToDictionary(r => r.Name, r => (object)new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["state"] = r.State.ToString().ToLowerInvariant(),
                ["secondsSinceProgress"] = r.SecondsSinceProgress,
                ["waiting"] = r.Waiting,
                ["fault"] = r.Fault,
                ["backpressure"] = r.Backpressure,
            }, StringComparer.Ordinal),
        };
        if (context.RequestServices.GetRequiredService<JobRunLog>().Health() is { } jobs)
        {
            body["jobs"] = jobs; // a failed job shows here and in its metrics; the monitor stays healthy
        }

        body["checks"] = report.Entries.ToDictionary(e => e.Key, e => new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["status"] = e.Value.Status.ToString().ToLowerInvariant(),
            ["description"] = e.Value.Description,
        }, StringComparer.Ordinal);
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body), context.RequestAborted);
    }

    /// <summary>Connected to the broker: the monitor receives input and can publish.</summary>
    private sealed class BrokerCheck(MqttGateway gateway) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
            => Task.FromResult(gateway.IsConnected
                ? HealthCheckResult.Healthy("connected")
                : HealthCheckResult.Unhealthy("disconnected: no input arrives and nothing is published until the connection is back"));
    }

    /// <summary>Every stage of the live path except the history writer is running (or stopped on shutdown).</summary>
    private sealed class StagesCheck(StageHealth health) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
            => Task.FromResult(Judge(health.Report().Where(r => r.Name != HistoryWriter.StageName).ToList(), "every stage of the live path is running"));
    }

    /// <summary>The history writer stores what the live path explains (absent when the history is off).</summary>
    private sealed class HistoryCheck(StageHealth health) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var writer = health.Report().Where(r => r.Name == HistoryWriter.StageName).ToList();
            return Task.FromResult(writer.Count == 0
                ? HealthCheckResult.Healthy("history off (Monitor:History:Enabled)")
                : Judge(writer, writer[0].Backpressure is { } reason ? $"writing, with backpressure: {reason}" : "writing"));
        }
    }

    /// <summary>The nightly jobs' last runs: a failed one degrades (the nightly results are old), never more.</summary>
    private sealed class JobsCheck(JobRunLog jobs) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!jobs.Enabled)
            {
                return Task.FromResult(HealthCheckResult.Healthy("jobs off (Monitor:Jobs:Enabled)"));
            }

            var failed = NightlyJobs.All.Where(j => jobs.Last(j.Name)?.Outcome == JobOutcome.Failed).Select(j => j.Name).ToList();
            return Task.FromResult(failed.Count == 0
                ? HealthCheckResult.Healthy("no failed last run")
                : HealthCheckResult.Degraded($"last run failed: {string.Join(", ", failed)} (the monitor still scores and explains; see jobs)"));
        }
    }

    /// <summary>The key of a check's data holding the stage reports it judged (the body's <c>stages</c> shows those).</summary>
    private const string StagesKey = "stages";

    private static HealthCheckResult Judge(IReadOnlyList<StageReport> stages, string healthy)
    {
        var failing = stages.Where(r => r.State is not (StageState.Running or StageState.Stopped)).ToList();
        var data = new Dictionary<string, object>(StringComparer.Ordinal) { [StagesKey] = stages };
        return failing.Count == 0
            ? HealthCheckResult.Healthy(healthy, data)
            : HealthCheckResult.Unhealthy(string.Join("; ", failing.Select(r => $"{r.Name} {r.State.ToString().ToLowerInvariant()}{(r.Fault is { } fault ? $": {fault}" : "")}")), data: data);
    }
}
