using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>What a restarted monitor reads back at start: the checkpoints, the alert episodes, each machine's newest window, and which redelivered windows are stored.</summary>
internal sealed class SqliteRestartState(SqliteConnectionFactory connections) : IHistoryRestartState
{
    /// <summary>
    /// Every stored checkpoint, by machine. A row this version cannot read (written by a newer monitor, or damaged) is
    /// left out: that machine starts its window afresh, as it did before checkpoints existed.
    /// </summary>
    public async Task<IReadOnlyList<WindowCheckpoint>> LoadCheckpointsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT machine, state FROM machine_checkpoints ORDER BY machine;";
        var items = new List<WindowCheckpoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        int machine = reader.GetOrdinal("machine");
        int state = reader.GetOrdinal("state");
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!reader.IsDBNull(state) && CheckpointCodec.TryDecode(reader.GetString(machine), reader.GetBlob(state), out var checkpoint))
            {
                items.Add(checkpoint!);
            }
        }

        return items;
    }

    public async Task<IReadOnlyList<AlertRecord>> LatestAlertsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {AlertRows.Columns} FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY machine ORDER BY since DESC, episode DESC, id DESC) AS newest FROM alerts
            ) a WHERE a.newest = 1 ORDER BY a.machine;
            """;
        return await AlertRows.ReadAllAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AlertRecord>> OpenAlertsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {AlertRows.Columns} FROM alerts a WHERE a.status = 'open' ORDER BY a.machine, a.since, a.id;";
        return await AlertRows.ReadAllAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> NewestWindowEndsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT machine, MAX(window_end) AS newest_end FROM windows GROUP BY machine;";
        var newest = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        int machine = reader.GetOrdinal("machine");
        int end = reader.GetOrdinal("newest_end");
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            newest[reader.GetString(machine)] = reader.GetTime(end);
        }

        return newest;
    }

    public async Task<IReadOnlySet<string>> ExistingWindowIdsAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return found;
        }

        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // Driven by the ids (a primary-key probe each), never by a scan of the windows table.
        command.CommandText = "SELECT j.value AS id FROM json_each($ids) j WHERE EXISTS (SELECT 1 FROM windows w WHERE w.id = j.value);";
        command.Parameters.AddWithValue("$ids", ColumnCodec.ToJson(ids));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        int id = reader.GetOrdinal("id");
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            found.Add(reader.GetString(id));
        }

        return found;
    }
}
