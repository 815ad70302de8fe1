using Microsoft.Data.Sqlite;
using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>
/// The live path's writes: window records (with their details in the side table), alert upserts and the machines'
/// checkpoints, one transaction per call, so a monitor killed at any moment finds a batch whole or not at all.
/// </summary>
internal sealed class SqliteHistoryWriter(SqliteConnectionFactory connections) : IHistoryWriter
{
    public async Task<int> WriteBatchAsync(HistoryBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(batch.Windows, nameof(batch));
        ArgumentNullException.ThrowIfNull(batch.Alerts, nameof(batch));
        ArgumentNullException.ThrowIfNull(batch.Checkpoints, nameof(batch));
        ArgumentNullException.ThrowIfNull(batch.RemovedCheckpoints, nameof(batch));

        // Encoded before the transaction: a malformed checkpoint fails the batch before anything is written, and the
        // write lock is held for SQL only. Of several checkpoints of one machine the last is the one kept.
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
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int added = batch.Windows.Count == 0 ? 0 : await InsertWindowsAsync(connection, transaction, batch.Windows, cancellationToken).ConfigureAwait(false);
        if (batch.Alerts.Count > 0)
        {
            await UpsertAlertsAsync(connection, transaction, batch.Alerts, cancellationToken).ConfigureAwait(false);
        }

        if (batch.RemovedCheckpoints.Count > 0)
        {
            await using var remove = connection.CreateCommand();
            remove.Transaction = transaction;
            remove.CommandText = "DELETE FROM machine_checkpoints WHERE machine = $machine;";
            var machine = remove.Parameters.Add(new SqliteParameter { ParameterName = "$machine" });
            foreach (string removed in batch.RemovedCheckpoints)
            {
                machine.Value = removed;
                await remove.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        if (rows.Count > 0)
        {
            await using var upsert = connection.CreateCommand();
            upsert.Transaction = transaction;
            upsert.CommandText = """
                INSERT INTO machine_checkpoints (machine, updated_at, state) VALUES ($machine, $updated, $state)
                ON CONFLICT (machine) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state;
                """;
            var machine = upsert.Parameters.Add(new SqliteParameter { ParameterName = "$machine" });
            var updated = upsert.Parameters.Add(new SqliteParameter { ParameterName = "$updated" });
            var state = upsert.Parameters.Add(new SqliteParameter { ParameterName = "$state" });
            foreach (var row in rows)
            {
                machine.Value = row.Machine;
                updated.Value = (object?)row.UpdatedAt ?? DBNull.Value;
                state.Value = row.State;
                await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    public async Task<int> WriteWindowsAsync(IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return 0;
        }

        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int added = await InsertWindowsAsync(connection, transaction, records, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    public async Task UpsertAlertsAsync(IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        if (alerts.Count == 0)
        {
            return;
        }

        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await UpsertAlertsAsync(connection, transaction, alerts, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inserts window records (and their details) in the caller's transaction; returns how many were new.</summary>
    private static async Task<int> InsertWindowsAsync(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken)
    {
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT OR IGNORE INTO windows (id, machine, model_version, window_start, window_end, score, decision, reason_code,
                contributions, dominant_channel, top_step_channel, top_step, top_filters, score_after_fgsm, flip_epsilon, alert_id, has_detail)
            VALUES ($id, $machine, $model, $start, $end, $score, $decision, $reason, $contributions, $dominant, $stepChannel, $step,
                $filters, $fgsm, $flip, $alert, $hasDetail);
            """;
        var id = Parameter(insert, "$id");
        var machine = Parameter(insert, "$machine");
        var model = Parameter(insert, "$model");
        var start = Parameter(insert, "$start");
        var end = Parameter(insert, "$end");
        var score = Parameter(insert, "$score");
        var decision = Parameter(insert, "$decision");
        var reason = Parameter(insert, "$reason");
        var contributions = Parameter(insert, "$contributions");
        var dominant = Parameter(insert, "$dominant");
        var stepChannel = Parameter(insert, "$stepChannel");
        var step = Parameter(insert, "$step");
        var filters = Parameter(insert, "$filters");
        var fgsm = Parameter(insert, "$fgsm");
        var flip = Parameter(insert, "$flip");
        var alert = Parameter(insert, "$alert");
        var hasDetail = Parameter(insert, "$hasDetail");

        await using var detail = connection.CreateCommand();
        detail.Transaction = transaction;
        detail.CommandText = "INSERT OR IGNORE INTO window_details (id, window_end, explanation, input, channels, length) VALUES ($id, $end, $explanation, $input, $channels, $length);";
        var detailId = Parameter(detail, "$id");
        var detailEnd = Parameter(detail, "$end");
        var explanation = Parameter(detail, "$explanation");
        var input = Parameter(detail, "$input");
        var channels = Parameter(detail, "$channels");
        var length = Parameter(detail, "$length");

        int added = 0;
        foreach (var r in records)
        {
            id.Value = r.Id;
            machine.Value = r.Machine;
            model.Value = r.ModelVersion;
            start.Value = ColumnCodec.Milliseconds(r.WindowStart);
            end.Value = ColumnCodec.Milliseconds(r.WindowEnd);
            score.Value = (object?)r.Score ?? DBNull.Value;
            decision.Value = r.Decision is { } d ? (d ? 1 : 0) : DBNull.Value;
            reason.Value = r.ReasonCode;
            contributions.Value = ColumnCodec.ToJson(r.ChannelContributions);
            dominant.Value = (object?)r.DominantChannel ?? DBNull.Value;
            stepChannel.Value = (object?)r.TopStepChannel ?? DBNull.Value;
            step.Value = (object?)r.TopStep ?? DBNull.Value;
            filters.Value = ColumnCodec.ToJson(r.TopFilters);
            fgsm.Value = (object?)r.ScoreAfterFgsm ?? DBNull.Value;
            flip.Value = (object?)r.SmallestFlippingEpsilon ?? DBNull.Value;
            alert.Value = (object?)r.AlertId ?? DBNull.Value;
            hasDetail.Value = r.Detail is null ? 0 : 1;
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

    /// <summary>Inserts or updates alert episodes in the caller's transaction.</summary>
    private static async Task UpsertAlertsAsync(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken)
    {
        foreach (var a in alerts)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO alerts (id, machine, model_version, episode, status, since, closed_at, peak_score, peak_window_id,
                    dominant_channel, contributions, top_filters, signature, signature_saliency, close_reason)
                VALUES ($id, $machine, $model, $episode, $status, $since, $closed, $peak, $peakId, $dominant, $contributions, $filters, $signature, $saliency, $reason)
                ON CONFLICT (id) DO UPDATE SET status = excluded.status, closed_at = excluded.closed_at, peak_score = excluded.peak_score,
                    peak_window_id = excluded.peak_window_id, dominant_channel = excluded.dominant_channel, contributions = excluded.contributions,
                    top_filters = excluded.top_filters, signature = excluded.signature, signature_saliency = excluded.signature_saliency,
                    close_reason = excluded.close_reason;
                """;
            command.Parameters.AddWithValue("$id", a.Id);
            command.Parameters.AddWithValue("$machine", a.Machine);
            command.Parameters.AddWithValue("$model", a.ModelVersion);
            command.Parameters.AddWithValue("$episode", a.Episode);
            command.Parameters.AddWithValue("$status", a.Status);
            command.Parameters.AddWithValue("$since", ColumnCodec.Milliseconds(a.Since));
            command.Parameters.AddWithValue("$closed", a.ClosedAt is { } closed ? ColumnCodec.Milliseconds(closed) : DBNull.Value);
            command.Parameters.AddWithValue("$peak", a.PeakScore);
            command.Parameters.AddWithValue("$peakId", a.PeakWindowId);
            command.Parameters.AddWithValue("$dominant", (object?)a.DominantChannel ?? DBNull.Value);
            command.Parameters.AddWithValue("$contributions", ColumnCodec.ToJson(a.ChannelContributions));
            command.Parameters.AddWithValue("$filters", ColumnCodec.ToJson(a.TopFilters));
            command.Parameters.AddWithValue("$signature", ColumnCodec.Bytes(a.Signature));
            command.Parameters.AddWithValue("$saliency", a.SignatureSaliencyLength);
            command.Parameters.AddWithValue("$reason", (object?)a.CloseReason ?? DBNull.Value);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static SqliteParameter Parameter(SqliteCommand command, string name)
        => command.Parameters.Add(new SqliteParameter { ParameterName = name });
}
