using Npgsql;
using NpgsqlTypes;
using TSViz.Plugins.History.Sqlite;
using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History.Postgres;

/// <summary>
/// The live path's writes: window records (with their details in the side table), alert upserts and the machines'
/// checkpoints, one transaction per call and one round trip for all of it: the windows of a micro-batch go as one
/// statement (arrays unnested server-side, ON CONFLICT DO NOTHING for a redelivery), whatever their number.
/// </summary>
internal sealed class PostgresHistoryWriter(PostgresConnectionFactory connections) : IHistoryWriter
{
    /// <summary>
    /// The windows and their details as one statement: the rows come in as one array per column; a window whose id is
    /// stored (or came earlier in the same batch) is skipped, and only a window that was inserted stores its detail,
    /// as the SQLite store does. Returns how many windows were new.
    /// </summary>
    private const string InsertWindowsSql = """
        WITH input AS (
            SELECT * FROM unnest(@id::text[], @machine::text[], @model::text[], @start::bigint[], @end::bigint[], @score::float8[],
                @decision::boolean[], @reason::text[], @contributions::text[], @dominant::text[], @step_channel::text[], @step::integer[],
                @filters::text[], @fgsm::float8[], @flip::float8[], @alert::text[], @has_detail::boolean[], @explanation::bytea[],
                @input::bytea[], @channels::integer[], @length::integer[])
                WITH ORDINALITY AS r(id, machine, model_version, window_start, window_end, score, decision, reason_code, contributions,
                    dominant_channel, top_step_channel, top_step, top_filters, score_after_fgsm, flip_epsilon, alert_id, has_detail,
                    explanation, input, channels, length, ord)
        ),
        added AS (
            INSERT INTO windows (id, machine, model_version, window_start, window_end, score, decision, reason_code, contributions,
                dominant_channel, top_step_channel, top_step, top_filters, score_after_fgsm, flip_epsilon, alert_id, has_detail)
            SELECT id, machine, model_version, window_start, window_end, score, decision, reason_code, contributions::jsonb,
                dominant_channel, top_step_channel, top_step, top_filters::jsonb, score_after_fgsm, flip_epsilon, alert_id, has_detail
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

    private const string UpsertAlertSql = """
        INSERT INTO alerts (id, machine, model_version, episode, status, since, closed_at, peak_score, peak_window_id,
            dominant_channel, contributions, top_filters, signature, signature_saliency, close_reason)
        VALUES (@id, @machine, @model, @episode, @status, @since, @closed, @peak, @peak_id, @dominant, @contributions::jsonb, @filters::jsonb,
            @signature, @saliency, @reason)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, closed_at = excluded.closed_at, peak_score = excluded.peak_score,
            peak_window_id = excluded.peak_window_id, dominant_channel = excluded.dominant_channel, contributions = excluded.contributions,
            top_filters = excluded.top_filters, signature = excluded.signature, signature_saliency = excluded.signature_saliency,
            close_reason = excluded.close_reason;
        """;

    private const string UpsertCheckpointsSql = """
        INSERT INTO machine_checkpoints (machine, updated_at, state)
        SELECT * FROM unnest(@machine::text[], @updated::bigint[], @state::bytea[])
        ON CONFLICT (machine) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state;
        """;

    public async Task<int> WriteBatchAsync(HistoryBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(batch.Windows, nameof(batch));
        ArgumentNullException.ThrowIfNull(batch.Alerts, nameof(batch));
        ArgumentNullException.ThrowIfNull(batch.Checkpoints, nameof(batch));
        ArgumentNullException.ThrowIfNull(batch.RemovedCheckpoints, nameof(batch));

        // Encoded before the transaction: a malformed checkpoint fails the batch before anything is written. Of several
        // checkpoints of one machine the last is the one kept.
        var latest = new Dictionary<string, WindowCheckpoint>(StringComparer.Ordinal);
        foreach (var checkpoint in batch.Checkpoints)
        {
            ArgumentNullException.ThrowIfNull(checkpoint, nameof(batch));
            ArgumentException.ThrowIfNullOrWhiteSpace(checkpoint.Machine, nameof(batch));
            latest[checkpoint.Machine] = checkpoint;
        }

        var rows = latest.Values.Select(c => (c.Machine, UpdatedAt: c.Last?.ToUnixTimeMilliseconds(), State: CheckpointCodec.Encode(c))).ToList();
        if (batch.Windows.Count == 0 && batch.Alerts.Count == 0 && rows.Count == 0 && batch.RemovedCheckpoints.Count == 0)
        {
            return 0;
        }

        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var statements = new NpgsqlBatch(connection, transaction);
        if (batch.Windows.Count > 0)
        {
            statements.BatchCommands.Add(InsertWindows(batch.Windows));
        }

        foreach (var alert in batch.Alerts)
        {
            statements.BatchCommands.Add(UpsertAlert(alert));
        }

        if (batch.RemovedCheckpoints.Count > 0)
        {
            var remove = new NpgsqlBatchCommand("DELETE FROM machine_checkpoints WHERE machine = ANY(@machines);");
            remove.Parameters.Add(new NpgsqlParameter("machines", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = batch.RemovedCheckpoints.ToArray() });
            statements.BatchCommands.Add(remove);
        }

        if (rows.Count > 0)
        {
            var upsert = new NpgsqlBatchCommand(UpsertCheckpointsSql);
            upsert.Parameters.Add(Array("machine", NpgsqlDbType.Text, rows.Select(r => r.Machine).ToArray()));
            upsert.Parameters.Add(Array("updated", NpgsqlDbType.Bigint, rows.Select(r => r.UpdatedAt).ToArray()));
            upsert.Parameters.Add(Array("state", NpgsqlDbType.Bytea, rows.Select(r => r.State).ToArray()));
            statements.BatchCommands.Add(upsert);
        }

        int added = await ExecuteAsync(statements, batch.Windows.Count > 0, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    public async Task<int> WriteWindowsAsync(IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        return records.Count == 0 ? 0 : await WriteBatchAsync(new HistoryBatch { Windows = records }, cancellationToken).ConfigureAwait(false);
    }

    public async Task UpsertAlertsAsync(IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        if (alerts.Count > 0)
        {
            await WriteBatchAsync(new HistoryBatch { Alerts = alerts }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs every statement (one round trip); returns the windows statement's count when there is one.</summary>
    private static async Task<int> ExecuteAsync(NpgsqlBatch statements, bool countsWindows, CancellationToken cancellationToken)
    {
        int added = 0;
        await using var reader = await statements.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (countsWindows && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            added = checked((int)reader.GetInt64(0));
        }

        // Reading every result surfaces the error of any later statement before the commit.
        while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
        {
        }

        return added;
    }

    private static NpgsqlBatchCommand InsertWindows(IReadOnlyList<WindowRecord> records)
    {
        var command = new NpgsqlBatchCommand(InsertWindowsSql);
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
        return command;
    }

    private static NpgsqlBatchCommand UpsertAlert(AlertRecord a)
    {
        var command = new NpgsqlBatchCommand(UpsertAlertSql);
        var p = command.Parameters;
        p.AddWithValue("id", a.Id);
        p.AddWithValue("machine", a.Machine);
        p.AddWithValue("model", a.ModelVersion);
        p.AddWithValue("episode", a.Episode);
        p.AddWithValue("status", a.Status);
        p.AddWithValue("since", ColumnCodec.Milliseconds(a.Since));
        p.Add(new NpgsqlParameter("closed", NpgsqlDbType.Bigint) { Value = a.ClosedAt is { } closed ? ColumnCodec.Milliseconds(closed) : DBNull.Value });
        p.AddWithValue("peak", a.PeakScore);
        p.AddWithValue("peak_id", a.PeakWindowId);
        p.Add(new NpgsqlParameter("dominant", NpgsqlDbType.Text) { Value = (object?)a.DominantChannel ?? DBNull.Value });
        p.AddWithValue("contributions", ColumnCodec.ToJson(a.ChannelContributions));
        p.AddWithValue("filters", ColumnCodec.ToJson(a.TopFilters));
        p.Add(new NpgsqlParameter("signature", NpgsqlDbType.Bytea) { Value = ColumnCodec.Bytes(a.Signature) });
        p.AddWithValue("saliency", a.SignatureSaliencyLength);
        p.Add(new NpgsqlParameter("reason", NpgsqlDbType.Text) { Value = (object?)a.CloseReason ?? DBNull.Value });
        return command;
    }

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType type, T[] values)
        => new(name, NpgsqlDbType.Array | type) { Value = values };
}
