using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History.Ado;

/// <summary>What a restarted monitor reads back at start: the checkpoints, the alert episodes, each machine's newest window, and which redelivered windows are stored.</summary>
internal sealed class DbRestartState(IHistoryConnections connections) : IHistoryRestartState
{
    private readonly HistoryDialect dialect = connections.Dialect;
    private readonly string alertColumns = HistoryRows.AlertColumns(connections.Dialect);

    /// <summary>
    /// Every stored checkpoint, by machine. A row this version cannot read (written by a newer monitor, or damaged) is
    /// left out: that machine starts its window afresh, as it did before checkpoints existed.
    /// </summary>
    public async Task<IReadOnlyList<WindowCheckpoint>> LoadCheckpointsAsync(CancellationToken cancellationToken)
        => await CheckpointsAsync(null, cancellationToken).ConfigureAwait(false);

    /// <summary>The machine's stored checkpoint (a primary-key probe); null when there is none or it cannot be read, as in <see cref="LoadCheckpointsAsync"/>.</summary>
    public async Task<WindowCheckpoint?> LoadCheckpointAsync(string machine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var found = await CheckpointsAsync(machine, cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public async Task<IReadOnlyList<AlertRecord>> LatestAlertsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {alertColumns} FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY machine ORDER BY since DESC, episode DESC, id DESC) AS newest FROM alerts
            ) a WHERE a.newest = 1 ORDER BY a.machine;
            """;
        return await HistoryRows.AlertsAsync(command, dialect, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The machine's newest alert episode, as in <see cref="LatestAlertsAsync"/> (by the index on machine and since).</summary>
    public async Task<AlertRecord?> LatestAlertAsync(string machine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(machine);
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {alertColumns} FROM alerts a WHERE a.machine = @machine ORDER BY a.since DESC, a.episode DESC, a.id DESC LIMIT 1;";
        command.Bind("machine", machine);
        return await HistoryRows.AlertOrNullAsync(command, dialect, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AlertRecord>> OpenAlertsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {alertColumns} FROM alerts a WHERE a.status = 'open' ORDER BY a.machine, a.since, a.id;";
        return await HistoryRows.AlertsAsync(command, dialect, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> NewestWindowEndsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT machine, MAX(window_end) AS newest_end FROM windows GROUP BY machine;";
        var rows = await DbRow.ReadAllAsync(command, dialect, row => (Machine: row.String("machine"), End: row.Time("newest_end")), cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Machine, r => r.End, StringComparer.Ordinal);
    }

    public async Task<IReadOnlySet<string>> ExistingWindowIdsAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // Driven by the ids (a primary-key probe each), never by a scan of the windows table.
        command.CommandText = dialect.ExistingWindowIdsSql;
        dialect.BindIds(command, "ids", ids);
        var found = await DbRow.ReadAllAsync(command, dialect, row => row.String("id"), cancellationToken).ConfigureAwait(false);
        return found.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The readable checkpoints of every machine, or of <paramref name="machine"/> only, by machine.</summary>
    private async Task<List<WindowCheckpoint>> CheckpointsAsync(string? machine, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT machine, state FROM machine_checkpoints {(machine is null ? string.Empty : "WHERE machine = @machine")} ORDER BY machine;";
        if (machine is not null)
        {
            command.Bind("machine", machine);
        }

        var rows = await DbRow.ReadAllAsync(
            command,
            dialect,
            row => !row.IsNull("state") && CheckpointCodec.TryDecode(row.String("machine"), row.Blob("state"), out var checkpoint) ? checkpoint : null,
            cancellationToken).ConfigureAwait(false);
        return rows.OfType<WindowCheckpoint>().ToList();
    }
}
