using Npgsql;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Plugins.History.Postgres;

/// <summary>The columns of window and alert records and reading them back by name (the same columns as SQLite's).</summary>
internal static class PostgresRows
{
    /// <summary>The columns of a window record, from the windows table as w (the JSON columns as text).</summary>
    public const string WindowColumns = """
        w.id, w.machine, w.model_version, w.window_start, w.window_end, w.score, w.decision, w.reason_code, w.contributions::text AS contributions,
        w.dominant_channel, w.top_step_channel, w.top_step, w.top_filters::text AS top_filters, w.score_after_fgsm, w.flip_epsilon, w.alert_id, w.has_detail
        """;

    /// <summary>The columns of an alert record, from the alerts table (or a subquery of it) as a, with the kind of its latest feedback.</summary>
    public const string AlertColumns = """
        a.id, a.machine, a.model_version, a.episode, a.status, a.since, a.closed_at, a.peak_score, a.peak_window_id, a.dominant_channel,
        a.contributions::text AS contributions, a.top_filters::text AS top_filters, a.signature, a.signature_saliency, a.close_reason,
        (SELECT f.kind FROM feedback f WHERE f.alert_id = a.id ORDER BY f.at DESC, f.id DESC LIMIT 1) AS last_feedback
        """;

    /// <summary>The row as a window record (without its detail).</summary>
    public static WindowRecord Window(PostgresRow row) => new()
    {
        Id = row.String("id"),
        Machine = row.String("machine"),
        ModelVersion = row.String("model_version"),
        WindowStart = row.Time("window_start"),
        WindowEnd = row.Time("window_end"),
        Score = row.FloatOrNull("score"),
        Decision = row.FlagOrNull("decision"),
        ReasonCode = row.String("reason_code"),
        ChannelContributions = ColumnCodec.Contributions(row.String("contributions")),
        DominantChannel = row.StringOrNull("dominant_channel"),
        TopStepChannel = row.StringOrNull("top_step_channel"),
        TopStep = row.Int32OrNull("top_step"),
        TopFilters = ColumnCodec.Filters(row.String("top_filters")),
        ScoreAfterFgsm = row.FloatOrNull("score_after_fgsm"),
        SmallestFlippingEpsilon = row.DoubleOrNull("flip_epsilon"),
        AlertId = row.StringOrNull("alert_id"),
        HasDetail = row.Flag("has_detail"),
    };

    /// <summary>Every alert the command returns.</summary>
    public static Task<List<AlertRecord>> AlertsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
        => PostgresRow.ReadAllAsync(command, Alert, cancellationToken);

    private static AlertRecord Alert(PostgresRow row) => new()
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
