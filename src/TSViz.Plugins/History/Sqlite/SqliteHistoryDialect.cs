using System.Data;
using System.Data.Common;
using TSViz.Plugins.History.Ado;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>
/// SQLite's side of the history's SQL: flags as 0 and 1, JSON columns as text expanded by json_each, text compared in
/// byte order already, a list of ids as a JSON array, and a micro-batch of windows inserted row by row (in process,
/// so a prepared statement per row costs no round trip).
/// </summary>
internal sealed class SqliteHistoryDialect() : HistoryDialect("TSViz.Plugins.History.Sqlite.history_schema.sql")
{
    public override string True => "1";

    public override string False => "0";

    public override object Flag(bool value) => value ? 1 : 0;

    public override bool ReadFlag(DbDataReader reader, int ordinal) => reader.GetInt32(ordinal) == 1;

    public override long ReadInt64(DbDataReader reader, int ordinal) => reader.GetInt64(ordinal);

    public override byte[] ReadBlob(DbDataReader reader, int ordinal) => (byte[])reader.GetValue(ordinal);

    public override string JsonColumn(string column) => column;

    public override string JsonValue(string parameter) => parameter;

    public override string JsonObjectEntries(string column) => $"json_each({column})";

    public override string JsonArrayElements(string column) => $"json_each({column})";

    public override string JsonNumber(string value) => value;

    public override string JsonText(string value, string key) => $"json_extract({value}, '$.{key}')";

    public override string JsonInteger(string value, string key) => JsonText(value, key);

    public override string ByteOrder(string expression) => expression;

    public override string ExistingWindowIdsSql => "SELECT j.value AS id FROM json_each(@ids) j WHERE EXISTS (SELECT 1 FROM windows w WHERE w.id = j.value);";

    public override void BindIds(DbCommand command, string name, IReadOnlyList<string> ids) => command.Bind(name, ColumnCodec.ToJson(ids), DbType.String);

    /// <summary>Row by row with two prepared statements; a window's detail only when its row was new.</summary>
    public override async Task<int> InsertWindowsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(records);
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT OR IGNORE INTO windows (id, machine, model_version, window_start, window_end, score, decision, reason_code,
                contributions, dominant_channel, top_step_channel, top_step, top_filters, score_after_fgsm, flip_epsilon, alert_id, has_detail, drift)
            VALUES (@id, @machine, @model, @start, @end, @score, @decision, @reason, @contributions, @dominant, @step_channel, @step,
                @filters, @fgsm, @flip, @alert, @has_detail, @drift);
            """;
        var id = Parameter(insert, "id");
        var machine = Parameter(insert, "machine");
        var model = Parameter(insert, "model");
        var start = Parameter(insert, "start");
        var end = Parameter(insert, "end");
        var score = Parameter(insert, "score");
        var decision = Parameter(insert, "decision");
        var reason = Parameter(insert, "reason");
        var contributions = Parameter(insert, "contributions");
        var dominant = Parameter(insert, "dominant");
        var stepChannel = Parameter(insert, "step_channel");
        var step = Parameter(insert, "step");
        var filters = Parameter(insert, "filters");
        var fgsm = Parameter(insert, "fgsm");
        var flip = Parameter(insert, "flip");
        var alert = Parameter(insert, "alert");
        var hasDetail = Parameter(insert, "has_detail");
        var drift = Parameter(insert, "drift");

        await using var detail = connection.CreateCommand();
        detail.Transaction = transaction;
        detail.CommandText = "INSERT OR IGNORE INTO window_details (id, window_end, explanation, input, channels, length) VALUES (@id, @end, @explanation, @input, @channels, @length);";
        var detailId = Parameter(detail, "id");
        var detailEnd = Parameter(detail, "end");
        var explanation = Parameter(detail, "explanation");
        var input = Parameter(detail, "input");
        var channels = Parameter(detail, "channels");
        var length = Parameter(detail, "length");

        int added = 0;
        foreach (var r in records)
        {
            id.Value = r.Id;
            machine.Value = r.Machine;
            model.Value = r.ModelVersion;
            start.Value = ColumnCodec.Milliseconds(r.WindowStart);
            end.Value = ColumnCodec.Milliseconds(r.WindowEnd);
            score.Value = (object?)r.Score ?? DBNull.Value;
            decision.Value = r.Decision is { } d ? Flag(d) : DBNull.Value;
            reason.Value = r.ReasonCode;
            contributions.Value = ColumnCodec.ToJson(r.ChannelContributions);
            dominant.Value = (object?)r.DominantChannel ?? DBNull.Value;
            stepChannel.Value = (object?)r.TopStepChannel ?? DBNull.Value;
            step.Value = (object?)r.TopStep ?? DBNull.Value;
            filters.Value = ColumnCodec.ToJson(r.TopFilters);
            fgsm.Value = (object?)r.ScoreAfterFgsm ?? DBNull.Value;
            flip.Value = (object?)r.SmallestFlippingEpsilon ?? DBNull.Value;
            alert.Value = (object?)r.AlertId ?? DBNull.Value;
            hasDetail.Value = Flag(r.Detail is not null);
            drift.Value = r.DriftFeatures is { } features ? ColumnCodec.Bytes(features) : DBNull.Value;
            int inserted = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            added += inserted;
            if (inserted == 1 && r.Detail is { } kept)
            {
                detailId.Value = r.Id;
                detailEnd.Value = ColumnCodec.Milliseconds(r.WindowEnd);
                explanation.Value = ColumnCodec.Gzip(kept.ExplanationJson);
                input.Value = ColumnCodec.Bytes(kept.Input);
                channels.Value = kept.Channels;
                length.Value = kept.Length;
                await detail.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        return added;
    }

    private static DbParameter Parameter(DbCommand command, string name)
    {
        var parameter = DbCommandExtensions.New(command.CreateParameter(), name, null, null);
        command.Parameters.Add(parameter);
        return parameter;
    }
}
