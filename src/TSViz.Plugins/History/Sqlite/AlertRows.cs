using Microsoft.Data.Sqlite;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>The columns of an alert record and reading them back by name.</summary>
internal static class AlertRows
{
    /// <summary>The columns of an alert record, from the alerts table (or a subquery of it) as a, with the kind of its latest feedback.</summary>
    public const string Columns = """
        a.id, a.machine, a.model_version, a.episode, a.status, a.since, a.closed_at, a.peak_score, a.peak_window_id, a.dominant_channel,
        a.contributions, a.top_filters, a.signature, a.signature_saliency, a.close_reason,
        (SELECT f.kind FROM feedback f WHERE f.alert_id = a.id ORDER BY f.at DESC, f.id DESC LIMIT 1) AS last_feedback
        """;

    /// <summary>Every alert the command returns.</summary>
    public static Task<List<AlertRecord>> ReadAllAsync(SqliteCommand command, CancellationToken cancellationToken)
        => SqliteRow.ReadAllAsync(command, Read, cancellationToken);

    private static AlertRecord Read(SqliteRow row) => new()
    {
        Id = row.String("id"),
        Machine = row.String("machine"),
        ModelVersion = row.String("model_version"),
        Episode = row.Int64("episode"),
        Status = row.String("status"),
        Since = row.Time("since"),
        ClosedAt = row.TimeOrNull("closed_at"),
        PeakScore = row.Double("peak_score"),
        PeakWindowId = row.String("peak_window_id"),
        DominantChannel = row.StringOrNull("dominant_channel"),
        ChannelContributions = ColumnCodec.Contributions(row.String("contributions")),
        TopFilters = ColumnCodec.Filters(row.String("top_filters")),
        Signature = ColumnCodec.Floats(row.Blob("signature")),
        SignatureSaliencyLength = row.Int32("signature_saliency"),
        LastFeedback = row.StringOrNull("last_feedback"),
        CloseReason = row.StringOrNull("close_reason"),
    };
}
