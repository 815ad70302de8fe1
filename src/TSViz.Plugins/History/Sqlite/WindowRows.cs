namespace TSViz.Plugins.History.Sqlite;

/// <summary>The columns of a window record and reading them back by name.</summary>
internal static class WindowRows
{
    /// <summary>The columns of a window record, from the windows table as w.</summary>
    public const string Columns = """
        w.id, w.machine, w.model_version, w.window_start, w.window_end, w.score, w.decision, w.reason_code, w.contributions,
        w.dominant_channel, w.top_step_channel, w.top_step, w.top_filters, w.score_after_fgsm, w.flip_epsilon, w.alert_id, w.has_detail
        """;

    /// <summary>The row as a record (without its detail).</summary>
    public static WindowRecord Read(SqliteRow row) => new()
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
}
