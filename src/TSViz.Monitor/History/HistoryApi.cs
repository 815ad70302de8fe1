using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Security;
using TSViz.Plugins.History;

namespace TSViz.Monitor.History;

/// <summary>
/// The history's HTTP API under /api (listed in the OpenAPI document at /openapi/v1.json). Query parameters arrive as
/// text in the request records and are validated here, so a bad one gives a problem-details 400 naming it; the store
/// takes them only as SQL parameters.
/// </summary>
internal static class HistoryApi
{
    internal static readonly string[] ReasonCodes = ["anomaly", "normal", "insufficient_data"];
    internal static readonly string[] Statuses = ["open", "closed"];

    public static void MapHistoryApi(this WebApplication app)
    {
        // Reading needs viewer; feedback needs operator (docs/security.md, "Roles").
        var api = app.MapGroup("/api").WithTags("history").RequireAuthorization(Roles.Viewer);

        api.MapGet("/windows", QueryWindows).ProducesProblem(StatusCodes.Status400BadRequest)
            .WithName("QueryWindows").WithSummary("Scored windows, newest first: filter by machine, time range (ISO 8601), minimum score, reason code, dominant channel; page with limit and the returned cursor.");

        api.MapGet("/windows/{id}", GetWindow).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetWindow").WithSummary("One window with its full explanation and input window when they were kept (alert windows and a sample of the rest).");

        api.MapGet("/alerts", QueryAlerts).ProducesProblem(StatusCodes.Status400BadRequest)
            .WithName("QueryAlerts").WithSummary("Alert episodes, newest first: filter by machine, time range, minimum peak score, status (open, closed), dominant channel; paged.");

        api.MapGet("/alerts/{id}", GetAlert).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetAlert").WithSummary("One alert with its operator feedback and the full explanation of its peak window.");

        api.MapGet("/alerts/{id}/similar", SimilarAlerts).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("SimilarAlerts").WithSummary("Has this happened before: past alerts ranked by the similarity of their explanation (saliency pattern and filter influence).");

        api.MapPost("/alerts/{id}/feedback", AddFeedback).Accepts<FeedbackRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("AddFeedback").RequireAuthorization(Roles.Operator).RequireRateLimiting(HttpSecurity.Writes)
            .WithSummary("Operator feedback on an alert: acknowledge, confirm, or false_alarm, with an optional comment; the author is the signed-in identity (operator or higher).");

        api.MapGet("/alerts/{id}/counterfactual", GetCounterfactual).Produces<CounterfactualDocument>(contentType: "application/json").ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetCounterfactual").WithSummary("What would have made the alert's peak window normal: the changed values in sensor units, the scores before and after (ONNX Runtime), in plain words, with the received and the changed window in full.");

        api.MapGet("/alerts/{id}/pattern", GetAlertPattern).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetAlertPattern").WithSummary("The alert's recurring fault pattern: how often it was seen, on which machines, when last, and what operators said about its alerts.");

        api.MapGet("/patterns/{id}", GetPattern).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetPattern").WithSummary("One recurring fault pattern with its alerts, newest first.");

        api.MapGet("/alerts/{id}/feedback", GetFeedback).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetFeedback").WithSummary("The feedback given on an alert, oldest first.");

        api.MapGet("/aggregates/alerts-per-hour", AlertsPerHour).ProducesProblem(StatusCodes.Status400BadRequest)
            .WithName("AlertsPerHour").WithSummary("Alerts opened per machine per hour (default: the last 24 h).");

        api.MapGet("/aggregates/channel-contributions", ChannelContributions).ProducesProblem(StatusCodes.Status400BadRequest)
            .WithName("ChannelContributions").WithSummary("A machine's mean channel contributions per time bucket (default: hourly over the last 24 h).");

        api.MapGet("/aggregates/top-filters", TopFilters).ProducesProblem(StatusCodes.Status400BadRequest)
            .WithName("TopFilters").WithSummary("The filters most often among the windows' top filters (which filters carry the load).");
    }

    public static async Task<Results<Ok<WindowPageResponse>, ProblemHttpResult>> QueryWindows([AsParameters] WindowsRequest request, IHistoryQueries store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        var p = new ApiParameters();
        var query = request.Query(p);
        if (p.Failed is { } failed)
        {
            return failed;
        }

        var page = await store.QueryWindowsAsync(query, ct).ConfigureAwait(false);
        return TypedResults.Ok(new WindowPageResponse([.. page.Items.Select(w => WindowBody(w, full: false))], page.NextCursor));
    }

    /// <summary>Ids hold a '/' (model/version): clients escape it as %2F, which routing leaves escaped.</summary>
    public static async Task<Results<Ok<WindowResponse>, ProblemHttpResult>> GetWindow(string id, IHistoryQueries store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        id = ApiParameters.RouteId(id);
        var window = await store.GetWindowAsync(id, ct).ConfigureAwait(false);
        return window is null ? ApiParameters.NotFound("window", id) : TypedResults.Ok(WindowBody(window, full: true));
    }

    public static async Task<Results<Ok<AlertPageResponse>, ProblemHttpResult>> QueryAlerts([AsParameters] AlertsRequest request, IHistoryQueries store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        var p = new ApiParameters();
        var query = request.Query(p);
        if (p.Failed is { } failed)
        {
            return failed;
        }

        var page = await store.QueryAlertsAsync(query, ct).ConfigureAwait(false);
        return TypedResults.Ok(new AlertPageResponse([.. page.Items.Select(AlertBody)], page.NextCursor));
    }

    public static async Task<Results<Ok<AlertDetailResponse>, ProblemHttpResult>> GetAlert(string id, IHistoryQueries store, IFeedbackStore feedbackStore, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(feedbackStore);
        id = ApiParameters.RouteId(id);
        var alert = await store.GetAlertAsync(id, ct).ConfigureAwait(false);
        if (alert is null)
        {
            return ApiParameters.NotFound("alert", id);
        }

        var feedback = await feedbackStore.FeedbackAsync(id, ct).ConfigureAwait(false);
        var peak = await store.GetWindowAsync(alert.PeakWindowId, ct).ConfigureAwait(false);
        return TypedResults.Ok(new AlertDetailResponse(AlertBody(alert), [.. feedback.Select(FeedbackBody)], peak is null ? null : WindowBody(peak, full: true)));
    }

    public static async Task<Results<Ok<SimilarAlertResponse[]>, ProblemHttpResult>> SimilarAlerts(string id, [AsParameters] SimilarAlertsRequest request, IHistoryQueries store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        id = ApiParameters.RouteId(id);
        var p = new ApiParameters();
        int count = p.Integer("limit", request.Limit, 1, 100) ?? 10;
        if (p.Failed is { } failed)
        {
            return failed;
        }

        if (await store.GetAlertAsync(id, ct).ConfigureAwait(false) is null)
        {
            return ApiParameters.NotFound("alert", id);
        }

        var similar = await store.SimilarAlertsAsync(id, count, ct).ConfigureAwait(false);
        return TypedResults.Ok(similar.Select(s => new SimilarAlertResponse(s.Similarity, AlertBody(s.Alert))).ToArray());
    }

    public static async Task<Results<Created<FeedbackResponse>, ProblemHttpResult>> AddFeedback(string id, HttpRequest request, ClaimsPrincipal user, IFeedbackStore store,
        TimeProvider time, ILoggerFactory loggers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        id = ApiParameters.RouteId(id);
        FeedbackRequest? body;
        try
        {
            // Read here rather than bound: a body that is not JSON answers the API's own problem details.
            body = await request.ReadFromJsonAsync<FeedbackRequest>(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return ApiParameters.Invalid("body", "must be JSON {\"kind\": \"acknowledge|confirm|false_alarm\", \"comment\": \"...\"}");
        }

        var p = new ApiParameters();
        string? kind = p.OneOf("kind", body?.Kind, FeedbackKinds.Names);
        if (body?.Author is not null)
        {
            // The author is who signed in; a name the client fills in could be anyone's.
            p.Fail("author", "must not be sent: the feedback's author is the signed-in identity (API key name or token user)");
        }

        if (body?.Comment is { Length: > 4000 })
        {
            p.Fail("comment", "must be at most 4000 characters");
        }

        if (kind is null && p.Failed is null)
        {
            p.Fail("kind", "is required: acknowledge, confirm or false_alarm");
        }

        if (p.Failed is { } failed)
        {
            return failed;
        }

        var author = new FeedbackAuthor(user.Identity?.Name ?? "?", Roles.Of(user), Roles.Method(user));
        var stored = await store.AddFeedbackAsync(id, FeedbackKinds.Parse(kind!), author, body!.Comment, time.GetUtcNow(), ct).ConfigureAwait(false);
        if (stored is null)
        {
            return ApiParameters.NotFound("alert", id);
        }

        SecurityApi.Audit(loggers, user, $"feedback {kind}", $"alert {id}");
        return TypedResults.Created($"/api/alerts/{Uri.EscapeDataString(id)}", FeedbackBody(stored));
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> GetCounterfactual(string id, IHistoryQueries store, ICounterfactualStore counterfactuals, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(counterfactuals);
        id = ApiParameters.RouteId(id);
        if (await store.GetAlertAsync(id, ct).ConfigureAwait(false) is null)
        {
            return ApiParameters.NotFound("alert", id);
        }

        // Stored as the monitor wrote it (CounterfactualDocument): returned as it is.
        return await counterfactuals.CounterfactualAsync(id, ct).ConfigureAwait(false) is { } stored
            ? TypedResults.Text(stored.Document, "application/json")
            : TypedResults.Problem(statusCode: 404, title: "No counterfactual yet",
                detail: $"Alert '{id}' has no counterfactual: it is computed off the live path when an alert opens or its peak rises (Monitor:Counterfactual:Enabled), usually within milliseconds.",
                extensions: new Dictionary<string, object?> { ["parameter"] = "id" });
    }

    public static async Task<Results<Ok<PatternResponse>, ProblemHttpResult>> GetAlertPattern(string id, IHistoryQueries store, IAlertPatternStore patterns, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(patterns);
        id = ApiParameters.RouteId(id);
        if (await store.GetAlertAsync(id, ct).ConfigureAwait(false) is null)
        {
            return ApiParameters.NotFound("alert", id);
        }

        return await patterns.PatternIdOfAsync(id, ct).ConfigureAwait(false) is { } patternId && await patterns.PatternAsync(patternId, ct).ConfigureAwait(false) is { } pattern
            ? TypedResults.Ok(PatternBody(pattern))
            : TypedResults.Problem(statusCode: 404, title: "No pattern yet",
                detail: $"Alert '{id}' has no pattern yet: the live monitor assigns one when the alert is published, the nightly patterns job regroups them (Monitor:Jobs:PatternsCron).",
                extensions: new Dictionary<string, object?> { ["parameter"] = "id" });
    }

    public static async Task<Results<Ok<PatternResponse>, ProblemHttpResult>> GetPattern(string id, IAlertPatternStore patterns, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        id = ApiParameters.RouteId(id);
        return await patterns.PatternAsync(id, ct).ConfigureAwait(false) is { } pattern ? TypedResults.Ok(PatternBody(pattern)) : ApiParameters.NotFound("pattern", id);
    }

    /// <summary>A pattern as the API returns it.</summary>
    private static PatternResponse PatternBody(PatternSummary p)
        => new(p.PatternId, p.ModelVersion, p.Occurrences, p.Machines, p.FirstSeen, p.LastSeen, p.Confirmed, p.FalseAlarms, p.MostlyFalseAlarms,
            p.LastComment, p.LastCommentAt, p.AlertIds, p.ComputedAt, PatternWords.Summary(p.Occurrences, p.Machines, p.FirstSeen, p.LastSeen, p.Confirmed, p.FalseAlarms, p.LastComment));

    public static async Task<Results<Ok<FeedbackResponse[]>, ProblemHttpResult>> GetFeedback(string id, IHistoryQueries store, IFeedbackStore feedbackStore, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(feedbackStore);
        id = ApiParameters.RouteId(id);
        if (await store.GetAlertAsync(id, ct).ConfigureAwait(false) is null)
        {
            return ApiParameters.NotFound("alert", id);
        }

        var feedback = await feedbackStore.FeedbackAsync(id, ct).ConfigureAwait(false);
        return TypedResults.Ok(feedback.Select(FeedbackBody).ToArray());
    }

    public static async Task<Results<Ok<HourlyAlertsResponse[]>, ProblemHttpResult>> AlertsPerHour([AsParameters] AlertsPerHourRequest request, IHistoryAggregates store, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        var p = new ApiParameters();
        var (since, until) = p.Window(request.From, request.To, time.GetUtcNow(), TimeSpan.FromDays(1));
        string? machine = p.Text("machine", request.Machine);
        if (p.Failed is { } failed)
        {
            return failed;
        }

        var hours = await store.AlertsPerHourAsync(since, until, machine, ct).ConfigureAwait(false);
        return TypedResults.Ok(hours.Select(h => new HourlyAlertsResponse(h.Machine, h.Hour, h.Alerts)).ToArray());
    }

    public static async Task<Results<Ok<ChannelContributionResponse[]>, ProblemHttpResult>> ChannelContributions([AsParameters] ChannelContributionsRequest request, IHistoryAggregates store,
        TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        var p = new ApiParameters();
        var (since, until) = p.Window(request.From, request.To, time.GetUtcNow(), TimeSpan.FromDays(1));
        string? machine = p.Text("machine", request.Machine);
        if (machine is null)
        {
            p.Fail("machine", "is required");
        }

        int minutes = p.Integer("bucketMinutes", request.BucketMinutes, 1, 1440) ?? 60;
        if (p.Failed is { } failed)
        {
            return failed;
        }

        var points = await store.ChannelContributionOverTimeAsync(machine!, since, until, TimeSpan.FromMinutes(minutes), ct).ConfigureAwait(false);
        return TypedResults.Ok(points.Select(c => new ChannelContributionResponse(c.Bucket, c.Channel, c.MeanShare, c.Windows)).ToArray());
    }

    public static async Task<Results<Ok<FilterFrequencyResponse[]>, ProblemHttpResult>> TopFilters([AsParameters] TopFiltersRequest request, IHistoryAggregates store, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        var p = new ApiParameters();
        var (since, until) = p.Window(request.From, request.To, time.GetUtcNow(), TimeSpan.FromDays(1));
        string? machine = p.Text("machine", request.Machine);
        int count = p.Integer("limit", request.Limit, 1, 1000) ?? 20;
        if (p.Failed is { } failed)
        {
            return failed;
        }

        var filters = await store.TopFilterFrequencyAsync(since, until, machine, count, ct).ConfigureAwait(false);
        return TypedResults.Ok(filters.Select(f => new FilterFrequencyResponse(f.Layer, f.Index, f.Windows)).ToArray());
    }

    internal static WindowResponse WindowBody(WindowRecord w, bool full) => new(
        w.Id,
        w.Machine,
        w.ModelVersion,
        w.WindowStart,
        w.WindowEnd,
        w.Score,
        w.Decision,
        w.ReasonCode,
        w.ChannelContributions,
        w.DominantChannel,
        w.TopStep is { } step ? new TopStepResponse(w.TopStepChannel, step) : null,
        Filters(w.TopFilters),
        w.ScoreAfterFgsm,
        w.SmallestFlippingEpsilon,
        w.AlertId,
        w.HasDetail,
        full && w.Detail is { } d ? JsonDocument.Parse(d.ExplanationJson).RootElement : null,
        full && w.Detail is { } i ? ChannelRows.Of(i.Input, i.Channels, i.Length) : null);

    internal static AlertResponse AlertBody(AlertRecord a) => new(
        a.Id,
        a.Machine,
        a.ModelVersion,
        a.Episode,
        a.Status,
        a.Since,
        a.ClosedAt,
        a.CloseReason,
        a.PeakScore,
        a.PeakWindowId,
        a.DominantChannel,
        a.ChannelContributions,
        Filters(a.TopFilters),
        a.LastFeedback,
        a.Faithfulness is { } f ? new FaithfulnessResponse(f.Fraction, f.Score, f.DeletionScore, f.RandomScore, f.Verdict) : null);

    internal static FeedbackResponse FeedbackBody(FeedbackRecord f)
        => new(f.Id, f.AlertId, FeedbackKinds.Name(f.Kind), f.Author, f.AuthorRole, f.AuthorMethod, f.Comment, f.At);

    private static FilterResponse[] Filters(IReadOnlyList<InfluentialFilter> filters)
        => [.. filters.Select(f => new FilterResponse(f.Layer, f.Index, f.Influence, f.InfluenceScaled))];
}
