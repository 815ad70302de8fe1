using NpgsqlTypes;
using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History.Postgres;

/// <summary>What a restarted monitor reads back at start: the checkpoints, the alert episodes, each machine's newest window, and which redelivered windows are stored.</summary>
internal sealed class PostgresRestartState(PostgresConnectionFactory connections) : IHistoryRestartState
{
    /// <summary>
    /// Every stored checkpoint, by machine. A row this version cannot read (written by a newer monitor, or damaged) is
    /// left out: that machine starts its window afresh.
    /// </summary>
    public async Task<IReadOnlyList<WindowCheckpoint>> LoadCheckpointsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT machine, state FROM machine_checkpoints ORDER BY machine;";
        var rows = await PostgresRow.ReadAllAsync(
            command,
            row => !row.IsNull("state") && CheckpointCodec.TryDecode(row.String("machine"), row.Blob("state"), out var checkpoint) ? checkpoint : null,
            cancellationToken).ConfigureAwait(false);
        return rows.OfType<WindowCheckpoint>().ToList();
    }

    public async Task<IReadOnlyList<AlertRecord>> LatestAlertsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {PostgresRows.AlertColumns} FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY machine ORDER BY since DESC, episode DESC, id DESC) AS newest FROM alerts
            ) a WHERE a.newest = 1 ORDER BY a.machine;
            """;
        return await PostgresRows.AlertsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AlertRecord>> OpenAlertsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {PostgresRows.AlertColumns} FROM alerts a WHERE a.status = 'open' ORDER BY a.machine, a.since, a.id;";
        return await PostgresRows.AlertsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> NewestWindowEndsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT machine, MAX(window_end) AS newest_end FROM windows GROUP BY machine;";
        var rows = await PostgresRow.ReadAllAsync(command, row => (Machine: row.String("machine"), End: row.Time("newest_end")), cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Machine, r => r.End, StringComparer.Ordinal);
    }

    public async Task<IReadOnlySet<string>> ExistingWindowIdsAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // Driven by the ids (a primary-key probe each), never by a scan of the windows table.
        command.CommandText = "SELECT w.id FROM windows w WHERE w.id = ANY(@ids);";
        command.Parameters.AddWithValue("ids", NpgsqlDbType.Array | NpgsqlDbType.Text, ids.ToArray());
        var found = await PostgresRow.ReadAllAsync(command, row => row.String("id"), cancellationToken).ConfigureAwait(false);
        return found.ToHashSet(StringComparer.Ordinal);
    }
}
