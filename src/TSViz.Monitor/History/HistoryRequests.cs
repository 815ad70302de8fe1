using Microsoft.AspNetCore.Mvc;
using TSViz.Plugins.History;

namespace TSViz.Monitor.History;

// The history API's query parameters, bound with [AsParameters]. They stay text: ApiParameters validates them so that a
// bad one answers a problem-details 400 naming it, in the API's own words (binding a typed value would answer a bare 400).

/// <summary>GET /api/windows: filters (time ISO 8601 or Unix ms, minScore 0-1, reasonCode, hasDetail true/false) and paging.</summary>
internal sealed record WindowsRequest(
    [FromQuery(Name = "machine")] string? Machine,
    [FromQuery(Name = "from")] string? From,
    [FromQuery(Name = "to")] string? To,
    [FromQuery(Name = "minScore")] string? MinScore,
    [FromQuery(Name = "reasonCode")] string? ReasonCode,
    [FromQuery(Name = "dominantChannel")] string? DominantChannel,
    [FromQuery(Name = "hasDetail")] string? HasDetail,
    [FromQuery(Name = "limit")] string? Limit,
    [FromQuery(Name = "cursor")] string? Cursor)
{
    /// <summary>The store's query; the first bad parameter is left in <paramref name="p"/>.</summary>
    public WindowQuery Query(ApiParameters p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var query = new WindowQuery
        {
            Machine = p.Text("machine", Machine),
            From = p.Time("from", From),
            To = p.Time("to", To),
            MinScore = p.Number("minScore", MinScore, 0, 1),
            ReasonCode = p.OneOf("reasonCode", ReasonCode, HistoryApi.ReasonCodes),
            DominantChannel = p.Text("dominantChannel", DominantChannel),
            HasDetail = p.Flag("hasDetail", HasDetail),
            Limit = p.Integer("limit", Limit, 1, 1000) ?? 100,
            Cursor = p.Cursor("cursor", Cursor),
        };
        p.Range("from", query.From, query.To);
        return query;
    }
}

/// <summary>GET /api/alerts: filters (time, minimum peak score, status open/closed, dominant channel) and paging.</summary>
internal sealed record AlertsRequest(
    [FromQuery(Name = "machine")] string? Machine,
    [FromQuery(Name = "from")] string? From,
    [FromQuery(Name = "to")] string? To,
    [FromQuery(Name = "minScore")] string? MinScore,
    [FromQuery(Name = "status")] string? Status,
    [FromQuery(Name = "dominantChannel")] string? DominantChannel,
    [FromQuery(Name = "limit")] string? Limit,
    [FromQuery(Name = "cursor")] string? Cursor)
{
    /// <summary>The store's query; the first bad parameter is left in <paramref name="p"/>.</summary>
    public AlertQuery Query(ApiParameters p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var query = new AlertQuery
        {
            Machine = p.Text("machine", Machine),
            From = p.Time("from", From),
            To = p.Time("to", To),
            MinScore = p.Number("minScore", MinScore, 0, 1),
            Status = p.OneOf("status", Status, HistoryApi.Statuses),
            DominantChannel = p.Text("dominantChannel", DominantChannel),
            Limit = p.Integer("limit", Limit, 1, 1000) ?? 100,
            Cursor = p.Cursor("cursor", Cursor),
        };
        p.Range("from", query.From, query.To);
        return query;
    }
}

/// <summary>GET /api/alerts/{id}/similar: how many past alerts (1-100, default 10).</summary>
internal sealed record SimilarAlertsRequest([FromQuery(Name = "limit")] string? Limit);

/// <summary>GET /api/aggregates/alerts-per-hour: the time range (default the last 24 h) and an optional machine.</summary>
internal sealed record AlertsPerHourRequest(
    [FromQuery(Name = "from")] string? From,
    [FromQuery(Name = "to")] string? To,
    [FromQuery(Name = "machine")] string? Machine);

/// <summary>GET /api/aggregates/channel-contributions: the machine (required), the time range and the bucket (1-1440 min, default 60).</summary>
internal sealed record ChannelContributionsRequest(
    [FromQuery(Name = "machine")] string? Machine,
    [FromQuery(Name = "from")] string? From,
    [FromQuery(Name = "to")] string? To,
    [FromQuery(Name = "bucketMinutes")] string? BucketMinutes);

/// <summary>GET /api/aggregates/top-filters: an optional machine, the time range and how many filters (1-1000, default 20).</summary>
internal sealed record TopFiltersRequest(
    [FromQuery(Name = "machine")] string? Machine,
    [FromQuery(Name = "from")] string? From,
    [FromQuery(Name = "to")] string? To,
    [FromQuery(Name = "limit")] string? Limit);

/// <summary>POST /api/alerts/{id}/feedback's body: kind (acknowledge, confirm, false_alarm) and an optional comment.</summary>
/// <remarks>Author is read only to refuse it: the author is the signed-in identity.</remarks>
internal sealed record FeedbackRequest(string? Kind, string? Author, string? Comment);
