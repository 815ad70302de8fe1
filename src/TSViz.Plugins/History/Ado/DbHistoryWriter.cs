using System.Data;
using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History.Ado;

/// <summary>
/// The live path's writes: window records (with their details in the side table), alert upserts and the machines'
/// checkpoints, one transaction per call, so a monitor killed at any moment finds a batch whole or not at all. The
/// windows go in as the dialect inserts a micro-batch (<see cref="HistoryDialect.InsertWindowsAsync"/>); the rest as one
/// <see cref="StatementBatch"/> (one round trip where the provider batches).
/// </summary>
internal sealed class DbHistoryWriter(IHistoryConnections connections) : IHistoryWriter
{
    private const string RemoveCheckpointSql = "DELETE FROM machine_checkpoints WHERE machine = @machine;";

    private const string UpsertCheckpointSql = """
        INSERT INTO machine_checkpoints (machine, updated_at, state) VALUES (@machine, @updated, @state)
        ON CONFLICT (machine) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state;
        """;

    private readonly HistoryDialect dialect = connections.Dialect;

    private readonly string upsertAlertSql = $"""
        INSERT INTO alerts (id, machine, model_version, episode, status, since, closed_at, peak_score, peak_window_id,
            dominant_channel, contributions, top_filters, signature, signature_saliency, close_reason,
            faithfulness_fraction, faithfulness_score, faithfulness_deletion, faithfulness_random, faithfulness_verdict)
        VALUES (@id, @machine, @model, @episode, @status, @since, @closed, @peak, @peak_id, @dominant, {connections.Dialect.JsonValue("@contributions")},
            {connections.Dialect.JsonValue("@filters")}, @signature, @saliency, @reason, @f_fraction, @f_score, @f_deletion, @f_random, @f_verdict)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, closed_at = excluded.closed_at, peak_score = excluded.peak_score,
            peak_window_id = excluded.peak_window_id, dominant_channel = excluded.dominant_channel, contributions = excluded.contributions,
            top_filters = excluded.top_filters, signature = excluded.signature, signature_saliency = excluded.signature_saliency,
            close_reason = excluded.close_reason, faithfulness_fraction = excluded.faithfulness_fraction,
            faithfulness_score = excluded.faithfulness_score, faithfulness_deletion = excluded.faithfulness_deletion,
            faithfulness_random = excluded.faithfulness_random, faithfulness_verdict = excluded.faithfulness_verdict;
        """;

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

        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int added = batch.Windows.Count == 0 ? 0 : await dialect.InsertWindowsAsync(connection, transaction, batch.Windows, cancellationToken).ConfigureAwait(false);
        await using (var statements = new StatementBatch(connection, transaction))
        {
            foreach (var alert in batch.Alerts)
            {
                await statements.AddAsync(upsertAlertSql, p => BindAlert(p, alert), cancellationToken).ConfigureAwait(false);
            }

            foreach (string removed in batch.RemovedCheckpoints)
            {
                await statements.AddAsync(RemoveCheckpointSql, p => p.Add("machine", removed, DbType.String), cancellationToken).ConfigureAwait(false);
            }

            foreach (var row in rows)
            {
                await statements.AddAsync(
                    UpsertCheckpointSql,
                    p =>
                    {
                        p.Add("machine", row.Machine, DbType.String);
                        p.Add("updated", row.UpdatedAt, DbType.Int64);
                        p.Add("state", row.State, DbType.Binary);
                    },
                    cancellationToken).ConfigureAwait(false);
            }

            await statements.ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }

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

    private static void BindAlert(StatementParameters p, AlertRecord a)
    {
        p.Add("id", a.Id, DbType.String);
        p.Add("machine", a.Machine, DbType.String);
        p.Add("model", a.ModelVersion, DbType.String);
        p.Add("episode", a.Episode, DbType.Int64);
        p.Add("status", a.Status, DbType.String);
        p.Add("since", ColumnCodec.Milliseconds(a.Since), DbType.Int64);
        p.Add("closed", a.ClosedAt is { } closed ? ColumnCodec.Milliseconds(closed) : null, DbType.Int64);
        p.Add("peak", a.PeakScore, DbType.Double);
        p.Add("peak_id", a.PeakWindowId, DbType.String);
        p.Add("dominant", a.DominantChannel, DbType.String);
        p.Add("contributions", ColumnCodec.ToJson(a.ChannelContributions), DbType.String);
        p.Add("filters", ColumnCodec.ToJson(a.TopFilters), DbType.String);
        p.Add("signature", ColumnCodec.Bytes(a.Signature), DbType.Binary);
        p.Add("saliency", a.SignatureSaliencyLength, DbType.Int32);
        p.Add("reason", a.CloseReason, DbType.String);
        p.Add("f_fraction", a.Faithfulness?.Fraction, DbType.Double);
        p.Add("f_score", a.Faithfulness?.Score, DbType.Double);
        p.Add("f_deletion", a.Faithfulness?.DeletionScore, DbType.Double);
        p.Add("f_random", a.Faithfulness?.RandomScore, DbType.Double);
        p.Add("f_verdict", a.Faithfulness?.Verdict, DbType.String);
    }
}
