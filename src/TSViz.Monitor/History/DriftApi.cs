using Microsoft.AspNetCore.Http.HttpResults;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Live;
using TSViz.Monitor.Security;
using TSViz.Plugins.History;

namespace TSViz.Monitor.History;

/// <summary>
/// Drift under /api/drift: every machine's current state, one machine's state with the reference and current
/// distributions side by side, and the drift state changes kept in the history. Machines are named in the query
/// (their ids hold '/').
/// </summary>
internal static class DriftApi
{
    public static void MapDriftApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/drift").WithTags("drift").RequireAuthorization(Roles.Viewer);
        api.MapGet(string.Empty, AllMachines)
            .WithName("GetDrift").WithSummary("Every machine's drift state (no_reference, warming, normal, drift) with the input, score and explanation drift values and what moved most.");
        api.MapGet("/machine", OneMachine).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetMachineDrift").WithSummary("One machine's drift state with every compared distribution, the reference's and the last rolling window's side by side (?machine=line1/m1).");
        api.MapGet("/events", Events).ProducesProblem(StatusCodes.Status400BadRequest)
            .WithName("GetDriftEvents").WithSummary("Drift state changes kept in the history, newest first: filter by machine and since (ISO 8601); limit (default 100, at most 1000).");
    }

    public static Ok<DriftMessage[]> AllMachines(DriftMonitor drift)
    {
        ArgumentNullException.ThrowIfNull(drift);
        return TypedResults.Ok(drift.Current().ToArray());
    }

    public static Results<Ok<DriftDetailResponse>, ProblemHttpResult> OneMachine(string? machine, DriftMonitor drift)
    {
        ArgumentNullException.ThrowIfNull(drift);
        var p = new ApiParameters();
        string? name = p.Text("machine", machine);
        if (name is null)
        {
            return p.Failed ?? ApiParameters.Invalid("machine", "is required, e.g. ?machine=line1/m1");
        }

        return drift.Detail(name) is { } detail
            ? TypedResults.Ok(detail)
            : TypedResults.Problem(statusCode: 404, title: "No drift state", detail: $"The monitor has compared no window of machine '{name}' since it started.", extensions: new Dictionary<string, object?> { ["parameter"] = "machine" });
    }

    public static async Task<Results<Ok<DriftEventMessage[]>, ProblemHttpResult>> Events(string? machine, string? since, string? limit, IDriftStore store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        var p = new ApiParameters();
        string? name = p.Text("machine", machine);
        var from = p.Time("since", since);
        int count = p.Integer("limit", limit, 1, 1000) ?? 100;
        if (p.Failed is { } failed)
        {
            return failed;
        }

        var events = await store.DriftEventsAsync(name, from, count, ct).ConfigureAwait(false);
        return TypedResults.Ok(events.Select(e => new DriftEventMessage(e.Id, e.Machine, e.ModelVersion, e.At, e.Kind, e.State, e.Value, e.Threshold, DriftMoveMessage.Of(e.Moved), e.Summary)).ToArray());
    }
}
