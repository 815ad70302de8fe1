using System.Security.Claims;
using System.Text.Json;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Security;
using TSViz.Plugins.History;

namespace TSViz.Monitor.History;

/// <summary>
/// The history's HTTP API under /api (listed in the OpenAPI document at /openapi/v1.json). Query parameters arrive as
/// text and are validated here, so a bad one gives a problem-details 400 naming it; the store takes them only as
/// SQL parameters.
/// </summary>
internal static class HistoryApi
{
    internal static readonly string[] ReasonCodes = ["anomaly", "normal", "insufficient_data"];
    internal static readonly string[] Statuses = ["open", "closed"];

    public static void MapHistoryApi(this WebApplication app)
    {
        // Reading needs viewer; feedback needs operator (docs/security.md, "Roles").
        var api = app.MapGroup("/api").WithTags("history").RequireAuthorization(Roles.Viewer);

        api.MapGet("/windows", async (IHistoryQueries store, string? machine, string? from, string? to, string? minScore,
            string? reasonCode, string? dominantChannel, string? hasDetail, string? limit, string? cursor, CancellationToken ct) =>
        {
            var p = new ApiParameters();
            var query = new WindowQuery
            {
                Machine = p.Text("machine", machine),
                From = p.Time("from", from),
                To = p.Time("to", to),
                MinScore = p.Number("minScore", minScore, 0, 1),
                ReasonCode = p.OneOf("reasonCode", reasonCode, ReasonCodes),
                DominantChannel = p.Text("dominantChannel", dominantChannel),
                HasDetail = p.Flag("hasDetail", hasDetail),
                Limit = p.Integer("limit", limit, 1, 1000) ?? 100,
                Cursor = p.Cursor("cursor", cursor),
            };
            p.Range("from", query.From, query.To);
            return p.Failed ?? Results.Json(WindowPage(await store.QueryWindowsAsync(query, ct).ConfigureAwait(false)));
        }).WithName("QueryWindows").WithSummary("Scored windows, newest first: filter by machine, time range (ISO 8601), minimum score, reason code, dominant channel; page with limit and the returned cursor.");

        api.MapGet("/windows/{id}", async (string id, IHistoryQueries store, CancellationToken ct) =>
        {
            id = ApiParameters.RouteId(id);
            var window = await store.GetWindowAsync(id, ct).ConfigureAwait(false);
            return window is null ? ApiParameters.NotFound("window", id) : Results.Json(WindowBody(window, full: true));
        }).WithName("GetWindow").WithSummary("One window with its full explanation and input window when they were kept (alert windows and a sample of the rest).");

        api.MapGet("/alerts", async (IHistoryQueries store, string? machine, string? from, string? to, string? minScore, string? status,
            string? dominantChannel, string? limit, string? cursor, CancellationToken ct) =>
        {
            var p = new ApiParameters();
            var query = new AlertQuery
            {
                Machine = p.Text("machine", machine),
                From = p.Time("from", from),
                To = p.Time("to", to),
                MinScore = p.Number("minScore", minScore, 0, 1),
                Status = p.OneOf("status", status, Statuses),
                DominantChannel = p.Text("dominantChannel", dominantChannel),
                Limit = p.Integer("limit", limit, 1, 1000) ?? 100,
                Cursor = p.Cursor("cursor", cursor),
            };
            p.Range("from", query.From, query.To);
            if (p.Failed is { } failed)
            {
                return failed;
            }

            var page = await store.QueryAlertsAsync(query, ct).ConfigureAwait(false);
            return Results.Json(new { items = page.Items.Select(AlertBody), nextCursor = page.NextCursor });
        }).WithName("QueryAlerts").WithSummary("Alert episodes, newest first: filter by machine, time range, minimum peak score, status (open, closed), dominant channel; paged.");

        api.MapGet("/alerts/{id}", async (string id, IHistoryQueries store, IFeedbackStore feedbackStore, CancellationToken ct) =>
        {
            id = ApiParameters.RouteId(id);
            var alert = await store.GetAlertAsync(id, ct).ConfigureAwait(false);
            if (alert is null)
            {
                return ApiParameters.NotFound("alert", id);
            }

            var feedback = await feedbackStore.FeedbackAsync(id, ct).ConfigureAwait(false);
            var peak = await store.GetWindowAsync(alert.PeakWindowId, ct).ConfigureAwait(false);
            return Results.Json(new { alert = AlertBody(alert), feedback = feedback.Select(FeedbackBody), peakWindow = peak is null ? null : WindowBody(peak, full: true) });
        }).WithName("GetAlert").WithSummary("One alert with its operator feedback and the full explanation of its peak window.");

        api.MapGet("/alerts/{id}/similar", async (string id, string? limit, IHistoryQueries store, CancellationToken ct) =>
        {
            id = ApiParameters.RouteId(id);
            var p = new ApiParameters();
            int count = p.Integer("limit", limit, 1, 100) ?? 10;
            if (p.Failed is { } failed)
            {
                return failed;
            }

            if (await store.GetAlertAsync(id, ct).ConfigureAwait(false) is null)
            {
                return ApiParameters.NotFound("alert", id);
            }

            var similar = await store.SimilarAlertsAsync(id, count, ct).ConfigureAwait(false);
            return Results.Json(similar.Select(s => new { similarity = s.Similarity, alert = AlertBody(s.Alert) }));
        }).WithName("SimilarAlerts").WithSummary("Has this happened before: past alerts ranked by the similarity of their explanation (saliency pattern and filter influence).");

        api.MapPost("/alerts/{id}/feedback", async (string id, HttpRequest request, ClaimsPrincipal user, IFeedbackStore store, TimeProvider time, ILoggerFactory loggers, CancellationToken ct) =>
        {
            id = ApiParameters.RouteId(id);
            FeedbackRequest? body;
            try
            {
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
            return Results.Created($"/api/alerts/{Uri.EscapeDataString(id)}", FeedbackBody(stored));
        }).WithName("AddFeedback").RequireAuthorization(Roles.Operator).RequireRateLimiting(HttpSecurity.Writes)
          .WithSummary("Operator feedback on an alert: acknowledge, confirm, or false_alarm, with an optional comment; the author is the signed-in identity (operator or higher).");

        api.MapGet("/alerts/{id}/feedback", async (string id, IHistoryQueries store, IFeedbackStore feedbackStore, CancellationToken ct) =>
            await store.GetAlertAsync(ApiParameters.RouteId(id), ct).ConfigureAwait(false) is null
                ? ApiParameters.NotFound("alert", ApiParameters.RouteId(id))
                : Results.Json((await feedbackStore.FeedbackAsync(ApiParameters.RouteId(id), ct).ConfigureAwait(false)).Select(FeedbackBody)))
            .WithName("GetFeedback").WithSummary("The feedback given on an alert, oldest first.");

        api.MapGet("/aggregates/alerts-per-hour", async (IHistoryAggregates store, TimeProvider time, string? from, string? to, string? machine, CancellationToken ct) =>
        {
            var p = new ApiParameters();
            var (since, until) = p.Window(from, to, time.GetUtcNow(), TimeSpan.FromDays(1));
            string? m = p.Text("machine", machine);
            return p.Failed ?? Results.Json((await store.AlertsPerHourAsync(since, until, m, ct).ConfigureAwait(false))
                .Select(h => new { machine = h.Machine, hour = h.Hour, alerts = h.Alerts }));
        }).WithName("AlertsPerHour").WithSummary("Alerts opened per machine per hour (default: the last 24 h).");

        api.MapGet("/aggregates/channel-contributions", async (IHistoryAggregates store, TimeProvider time, string? machine, string? from, string? to, string? bucketMinutes, CancellationToken ct) =>
        {
            var p = new ApiParameters();
            var (since, until) = p.Window(from, to, time.GetUtcNow(), TimeSpan.FromDays(1));
            string? m = p.Text("machine", machine);
            if (m is null)
            {
                p.Fail("machine", "is required");
            }

            int minutes = p.Integer("bucketMinutes", bucketMinutes, 1, 1440) ?? 60;
            return p.Failed ?? Results.Json((await store.ChannelContributionOverTimeAsync(m!, since, until, TimeSpan.FromMinutes(minutes), ct).ConfigureAwait(false))
                .Select(c => new { bucket = c.Bucket, channel = c.Channel, meanShare = c.MeanShare, windows = c.Windows }));
        }).WithName("ChannelContributions").WithSummary("A machine's mean channel contributions per time bucket (default: hourly over the last 24 h).");

        api.MapGet("/aggregates/top-filters", async (IHistoryAggregates store, TimeProvider time, string? machine, string? from, string? to, string? limit, CancellationToken ct) =>
        {
            var p = new ApiParameters();
            var (since, until) = p.Window(from, to, time.GetUtcNow(), TimeSpan.FromDays(1));
            string? m = p.Text("machine", machine);
            int count = p.Integer("limit", limit, 1, 1000) ?? 20;
            return p.Failed ?? Results.Json((await store.TopFilterFrequencyAsync(since, until, m, count, ct).ConfigureAwait(false))
                .Select(f => new { layer = f.Layer, index = f.Index, windows = f.Windows }));
        }).WithName("TopFilters").WithSummary("The filters most often among the windows' top filters (which filters carry the load).");
    }

    /// <summary>Ids hold a '/' (model/version): clients escape it as %2F, which routing leaves escaped.</summary>
    private sealed record FeedbackRequest(string? Kind, string? Author, string? Comment);

    private static object WindowPage(Page<WindowRecord> page)
        => new { items = page.Items.Select(w => WindowBody(w, full: false)), nextCursor = page.NextCursor };

    internal static object WindowBody(WindowRecord w, bool full) => new
    {
        id = w.Id,
        machine = w.Machine,
        modelVersion = w.ModelVersion,
        windowStart = w.WindowStart,
        windowEnd = w.WindowEnd,
        score = w.Score,
        decision = w.Decision,
        reasonCode = w.ReasonCode,
        channelContributions = w.ChannelContributions,
        dominantChannel = w.DominantChannel,
        topStep = w.TopStep is null ? null : new { channel = w.TopStepChannel, step = w.TopStep },
        topFilters = w.TopFilters.Select(f => new { layer = f.Layer, index = f.Index, influence = f.Influence, influenceScaled = f.InfluenceScaled }),
        scoreAfterFgsm = w.ScoreAfterFgsm,
        smallestFlippingEpsilon = w.SmallestFlippingEpsilon,
        alertId = w.AlertId,
        hasDetail = w.HasDetail,
        explanation = full && w.Detail is { } d ? JsonDocument.Parse(d.ExplanationJson).RootElement : (JsonElement?)null,
        input = full && w.Detail is { } i ? ChannelRows.Of(i.Input, i.Channels, i.Length) : null,
    };

    internal static object AlertBody(AlertRecord a) => new
    {
        id = a.Id,
        machine = a.Machine,
        modelVersion = a.ModelVersion,
        episode = a.Episode,
        status = a.Status,
        since = a.Since,
        closedAt = a.ClosedAt,
        closeReason = a.CloseReason,
        peakScore = a.PeakScore,
        peakWindowId = a.PeakWindowId,
        dominantChannel = a.DominantChannel,
        channelContributions = a.ChannelContributions,
        topFilters = a.TopFilters.Select(f => new { layer = f.Layer, index = f.Index, influence = f.Influence, influenceScaled = f.InfluenceScaled }),
        lastFeedback = a.LastFeedback,
    };

    internal static object FeedbackBody(FeedbackRecord f)
        => new { id = f.Id, alertId = f.AlertId, kind = FeedbackKinds.Name(f.Kind), author = f.Author, authorRole = f.AuthorRole, authorMethod = f.AuthorMethod, comment = f.Comment, at = f.At };
}
