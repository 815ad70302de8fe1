using System.Data.Common;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using TSViz.Plugins.History.Ado;

namespace TSViz.Plugins.History.Postgres;

/// <summary>
/// PostgreSQL's side of the history's SQL: flags as booleans, JSON columns as jsonb (cast from and to text, expanded by
/// jsonb_each and jsonb_array_elements), names grouped and sorted COLLATE "C" (byte order, as SQLite compares text)
/// whatever the database's locale, a list of ids as a text array, and a micro-batch of windows inserted as one statement
/// (the rows as one array per column, unnested server-side), whatever its size.
/// </summary>
internal sealed class PostgresHistoryDialect() : HistoryDialect("TSViz.Plugins.History.Postgres.history_schema_postgres.sql")
{
    /// <summary>
    /// The windows and their details as one statement: the rows come in as one array per column; a window whose id is
    /// stored (or came earlier in the same batch) is skipped, and only a window that was inserted stores its detail.
    /// Returns how many windows were new.
    /// </summary>
    private const string InsertWindowsSql = """
        WITH input AS (
            SELECT * FROM unnest(@id::text[], @machine::text[], @model::text[], @start::bigint[], @end::bigint[], @score::float8[],
                @decision::boolean[], @reason::text[], @contributions::text[], @dominant::text[], @step_channel::text[], @step::integer[],
                @filters::text[], @fgsm::float8[], @flip::float8[], @alert::text[], @has_detail::boolean[], @explanation::bytea[],
                @input::bytea[], @channels::integer[], @length::integer[], @drift::bytea[])
                WITH ORDINALITY AS r(id, machine, model_version, window_start, window_end, score, decision, reason_code, contributions,
                    dominant_channel, top_step_channel, top_step, top_filters, score_after_fgsm, flip_epsilon, alert_id, has_detail,
                    explanation, input, channels, length, drift, ord)
        ),
        added AS (
            INSERT INTO windows (id, machine, model_version, window_start, window_end, score, decision, reason_code, contributions,
                dominant_channel, top_step_channel, top_step, top_filters, score_after_fgsm, flip_epsilon, alert_id, has_detail, drift)
            SELECT id, machine, model_version, window_start, window_end, score, decision, reason_code, contributions::jsonb,
                dominant_channel, top_step_channel, top_step, top_filters::jsonb, score_after_fgsm, flip_epsilon, alert_id, has_detail, drift
            FROM input ORDER BY ord
            ON CONFLICT (id) DO NOTHING
            RETURNING id
        ),
        first_of_each AS (
            SELECT DISTINCT ON (i.id) i.* FROM input i JOIN added a ON a.id = i.id ORDER BY i.id, i.ord
        ),
        details AS (
            INSERT INTO window_details (id, window_end, explanation, input, channels, length)
            SELECT id, window_end, explanation, input, channels, length FROM first_of_each WHERE explanation IS NOT NULL
            ON CONFLICT (id) DO NOTHING
        )
        SELECT count(*) AS added FROM added;
        """;

    public override string True => "true";

    public override string False => "false";

    public override object Flag(bool value) => value;

    public override bool ReadFlag(DbDataReader reader, int ordinal) => reader.GetBoolean(ordinal);

    public override long ReadInt64(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public override byte[] ReadBlob(DbDataReader reader, int ordinal) => reader.GetFieldValue<byte[]>(ordinal);

    public override string JsonColumn(string column) => $"{column}::text";

    public override string JsonValue(string parameter) => $"{parameter}::jsonb";

    public override string JsonObjectEntries(string column) => $"LATERAL jsonb_each({column})";

    public override string JsonArrayElements(string column) => $"LATERAL jsonb_array_elements({column})";

    public override string JsonNumber(string value) => $"({value})::float8";

    public override string JsonText(string value, string key) => $"({value} ->> '{key}')";

    public override string JsonInteger(string value, string key) => $"{JsonText(value, key)}::integer";

    public override string ByteOrder(string expression) => $"{expression} COLLATE \"C\"";

    public override string ExistingWindowIdsSql => "SELECT w.id FROM windows w WHERE w.id = ANY(@ids);";

    public override void BindIds(DbCommand command, string name, IReadOnlyList<string> ids)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(ids);
        command.Parameters.Add(Array(name, NpgsqlDbType.Text, ids.ToArray()));
    }

    /// <summary>One statement, one round trip (<see cref="InsertWindowsSql"/>).</summary>
    public override async Task<int> InsertWindowsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(records);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertWindowsSql;
        var p = command.Parameters;
        p.Add(Array("id", NpgsqlDbType.Text, records.Select(r => r.Id).ToArray()));
        p.Add(Array("machine", NpgsqlDbType.Text, records.Select(r => r.Machine).ToArray()));
        p.Add(Array("model", NpgsqlDbType.Text, records.Select(r => r.ModelVersion).ToArray()));
        p.Add(Array("start", NpgsqlDbType.Bigint, records.Select(r => ColumnCodec.Milliseconds(r.WindowStart)).ToArray()));
        p.Add(Array("end", NpgsqlDbType.Bigint, records.Select(r => ColumnCodec.Milliseconds(r.WindowEnd)).ToArray()));
        p.Add(Array("score", NpgsqlDbType.Double, records.Select(r => (double?)r.Score).ToArray()));
        p.Add(Array("decision", NpgsqlDbType.Boolean, records.Select(r => r.Decision).ToArray()));
        p.Add(Array("reason", NpgsqlDbType.Text, records.Select(r => r.ReasonCode).ToArray()));
        p.Add(Array("contributions", NpgsqlDbType.Text, records.Select(r => ColumnCodec.ToJson(r.ChannelContributions)).ToArray()));
        p.Add(Array("dominant", NpgsqlDbType.Text, records.Select(r => r.DominantChannel).ToArray()));
        p.Add(Array("step_channel", NpgsqlDbType.Text, records.Select(r => r.TopStepChannel).ToArray()));
        p.Add(Array("step", NpgsqlDbType.Integer, records.Select(r => r.TopStep).ToArray()));
        p.Add(Array("filters", NpgsqlDbType.Text, records.Select(r => ColumnCodec.ToJson(r.TopFilters)).ToArray()));
        p.Add(Array("fgsm", NpgsqlDbType.Double, records.Select(r => (double?)r.ScoreAfterFgsm).ToArray()));
        p.Add(Array("flip", NpgsqlDbType.Double, records.Select(r => r.SmallestFlippingEpsilon).ToArray()));
        p.Add(Array("alert", NpgsqlDbType.Text, records.Select(r => r.AlertId).ToArray()));
        p.Add(Array("has_detail", NpgsqlDbType.Boolean, records.Select(r => r.Detail is not null).ToArray()));
        p.Add(Array("explanation", NpgsqlDbType.Bytea, records.Select(r => r.Detail is { } d ? ColumnCodec.Gzip(d.ExplanationJson) : null).ToArray()));
        p.Add(Array("input", NpgsqlDbType.Bytea, records.Select(r => r.Detail is { } d ? ColumnCodec.Bytes(d.Input) : null).ToArray()));
        p.Add(Array("channels", NpgsqlDbType.Integer, records.Select(r => r.Detail?.Channels).ToArray()));
        p.Add(Array("length", NpgsqlDbType.Integer, records.Select(r => r.Detail?.Length).ToArray()));
        p.Add(Array("drift", NpgsqlDbType.Bytea, records.Select(r => r.DriftFeatures is { } f ? ColumnCodec.Bytes(f) : null).ToArray()));
        return checked((int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
    }

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType type, T[] values)
        => new(name, NpgsqlDbType.Array | type) { Value = values };
}
