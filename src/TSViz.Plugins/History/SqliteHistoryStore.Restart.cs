using Microsoft.Data.Sqlite;
using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History;

/// <summary>
/// What lets a monitor be killed at any moment and resume: the one-transaction batch (windows, alerts and the partial
/// windows they came from), and reading back the checkpoints and the alert episodes at start.
/// </summary>
public sealed partial class SqliteHistoryStore
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

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// Every stored checkpoint, by machine. A row this version cannot read (written by a newer monitor, or damaged) is
    /// left out: that machine starts its window afresh, as it did before checkpoints existed.
    /// </summary>
    public async Task<IReadOnlyList<WindowCheckpoint>> LoadCheckpointsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT machine, state FROM machine_checkpoints ORDER BY machine;";
        var items = new List<WindowCheckpoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!reader.IsDBNull(1) && CheckpointCodec.TryDecode(reader.GetString(0), (byte[])reader.GetValue(1), out var checkpoint))
            {
                items.Add(checkpoint!);
            }
        }

        return items;
    }

    public async Task<IReadOnlyList<AlertRecord>> LatestAlertsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {AlertColumns} FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY machine ORDER BY since DESC, episode DESC, id DESC) AS newest FROM alerts
            ) a WHERE a.newest = 1 ORDER BY a.machine;
            """;
        return await ReadAlertsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AlertRecord>> OpenAlertsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {AlertColumns} FROM alerts a WHERE a.status = 'open' ORDER BY a.machine, a.since, a.id;";
        return await ReadAlertsAsync(command, cancellationToken).ConfigureAwait(false);
    }
}
