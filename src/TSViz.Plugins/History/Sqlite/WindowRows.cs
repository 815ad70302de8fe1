using Microsoft.Data.Sqlite;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>Reads window rows by column name (the ordinals are looked up once per result set).</summary>
internal sealed class WindowRows
{
    /// <summary>The columns of a window record, from the windows table as w.</summary>
    public const string Columns = """
        w.id, w.machine, w.model_version, w.window_start, w.window_end, w.score, w.decision, w.reason_code, w.contributions,
        w.dominant_channel, w.top_step_channel, w.top_step, w.top_filters, w.score_after_fgsm, w.flip_epsilon, w.alert_id, w.has_detail
        """;

    private readonly SqliteDataReader reader;
    private readonly int id;
    private readonly int machine;
    private readonly int modelVersion;
    private readonly int windowStart;
    private readonly int windowEnd;
    private readonly int score;
    private readonly int decision;
    private readonly int reasonCode;
    private readonly int contributions;
    private readonly int dominantChannel;
    private readonly int topStepChannel;
    private readonly int topStep;
    private readonly int topFilters;
    private readonly int scoreAfterFgsm;
    private readonly int flipEpsilon;
    private readonly int alertId;
    private readonly int hasDetail;

    public WindowRows(SqliteDataReader reader)
    {
        this.reader = reader;
        id = reader.GetOrdinal("id");
        machine = reader.GetOrdinal("machine");
        modelVersion = reader.GetOrdinal("model_version");
        windowStart = reader.GetOrdinal("window_start");
        windowEnd = reader.GetOrdinal("window_end");
        score = reader.GetOrdinal("score");
        decision = reader.GetOrdinal("decision");
        reasonCode = reader.GetOrdinal("reason_code");
        contributions = reader.GetOrdinal("contributions");
        dominantChannel = reader.GetOrdinal("dominant_channel");
        topStepChannel = reader.GetOrdinal("top_step_channel");
        topStep = reader.GetOrdinal("top_step");
        topFilters = reader.GetOrdinal("top_filters");
        scoreAfterFgsm = reader.GetOrdinal("score_after_fgsm");
        flipEpsilon = reader.GetOrdinal("flip_epsilon");
        alertId = reader.GetOrdinal("alert_id");
        hasDetail = reader.GetOrdinal("has_detail");
    }

    /// <summary>The current row as a record (without its detail).</summary>
    public WindowRecord Read() => new()
    {
        Id = reader.GetString(id),
        Machine = reader.GetString(machine),
        ModelVersion = reader.GetString(modelVersion),
        WindowStart = reader.GetTime(windowStart),
        WindowEnd = reader.GetTime(windowEnd),
        Score = reader.GetFloatOrNull(score),
        Decision = reader.IsDBNull(decision) ? null : reader.GetInt32(decision) == 1,
        ReasonCode = reader.GetString(reasonCode),
        ChannelContributions = ColumnCodec.Contributions(reader.GetString(contributions)),
        DominantChannel = reader.GetStringOrNull(dominantChannel),
        TopStepChannel = reader.GetStringOrNull(topStepChannel),
        TopStep = reader.GetInt32OrNull(topStep),
        TopFilters = ColumnCodec.Filters(reader.GetString(topFilters)),
        ScoreAfterFgsm = reader.GetFloatOrNull(scoreAfterFgsm),
        SmallestFlippingEpsilon = reader.GetDoubleOrNull(flipEpsilon),
        AlertId = reader.GetStringOrNull(alertId),
        HasDetail = reader.GetInt32(hasDetail) == 1,
    };
}
