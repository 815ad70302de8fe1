using System.Data.Common;

namespace TSViz.Plugins.History.Ado;

/// <summary>The columns of window and alert records and reading them back by name.</summary>
internal static class HistoryRows
{
    /// <summary>The columns of a window record, from the windows table as w (the JSON columns as text).</summary>
    public static string WindowColumns(HistoryDialect dialect) => $"""
        w.id, w.machine, w.model_version, w.window_start, w.window_end, w.score, w.decision, w.reason_code, {dialect.JsonColumn("w.contributions")} AS contributions,
        w.dominant_channel, w.top_step_channel, w.top_step, {dialect.JsonColumn("w.top_filters")} AS top_filters, w.score_after_fgsm, w.flip_epsilon, w.alert_id, w.has_detail
        """;

    /// <summary>The columns of an alert record, from the alerts table (or a subquery of it) as a, with the kind of its latest feedback.</summary>
    public static string AlertColumns(HistoryDialect dialect) => $"""
        a.id, a.machine, a.model_version, a.episode, a.status, a.since, a.closed_at, a.peak_score, a.peak_window_id, a.dominant_channel,
        {dialect.JsonColumn("a.contributions")} AS contributions, {dialect.JsonColumn("a.top_filters")} AS top_filters, a.signature, a.signature_saliency, a.close_reason,
        a.faithfulness_fraction, a.faithfulness_score, a.faithfulness_deletion, a.faithfulness_random, a.faithfulness_verdict,
        (SELECT f.kind FROM feedback f WHERE f.alert_id = a.id ORDER BY f.at DESC, f.id DESC LIMIT 1) AS last_feedback
        """;

    /// <summary>The row as a window record (without its detail).</summary>
    public static WindowRecord Window(DbRow row) => new()
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
    public static Task<List<AlertRecord>> AlertsAsync(DbCommand command, HistoryDialect dialect, CancellationToken cancellationToken)
        => DbRow.ReadAllAsync(command, dialect, Alert, cancellationToken);

    /// <summary>The first alert the command returns; null when it returns none.</summary>
    public static async Task<AlertRecord?> AlertOrNullAsync(DbCommand command, HistoryDialect dialect, CancellationToken cancellationToken)
    {
        var found = await AlertsAsync(command, dialect, cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    internal static AlertRecord Alert(DbRow row) => new()
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
        Faithfulness = row.StringOrNull("faithfulness_verdict") is { } verdict
            ? new AlertFaithfulness(row.Double("faithfulness_fraction"), row.Double("faithfulness_score"), row.Double("faithfulness_deletion"), row.Double("faithfulness_random"), verdict)
            : null,
    };
}
