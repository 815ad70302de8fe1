namespace TSViz.Plugins.History.Ado;

/// <summary>Windows and alert episodes by filter (keyset-paged, newest first), by id, and the alerts like one.</summary>
internal sealed class DbHistoryQueries(IHistoryConnections connections) : IHistoryQueries
{
    /// <summary>Candidates for "has this happened before": a plant has hundreds of alerts a month, not millions; comparing 10,000 signatures of a few hundred floats takes milliseconds.</summary>
    private const int SimilarCandidates = 10_000;

    private readonly HistoryDialect dialect = connections.Dialect;
    private readonly string windowColumns = HistoryRows.WindowColumns(connections.Dialect);
    private readonly string alertColumns = HistoryRows.AlertColumns(connections.Dialect);

    public async Task<Page<WindowRecord>> QueryWindowsAsync(WindowQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        var where = new Conditions(command);
        where.Add("w.machine = @machine", "machine", query.Machine);
        where.Add("w.window_end >= @from", "from", query.From is { } from ? ColumnCodec.Milliseconds(from) : null);
        where.Add("w.window_end < @to", "to", query.To is { } to ? ColumnCodec.Milliseconds(to) : null);
        where.Add("w.score >= @min_score", "min_score", query.MinScore);
        if (query.MinScore >= HistoryDialect.HighScore)
        {
            // The score index holds high scores only (history_schema.sql); the planner uses it when the query says so in constants.
            where.AddConstant(HistoryDialect.HighScoreCondition("w.score"));
        }

        where.Add("w.reason_code = @reason", "reason", query.ReasonCode);
        where.Add("w.dominant_channel = @channel", "channel", query.DominantChannel);
        where.Add("w.has_detail = @has_detail", "has_detail", query.HasDetail is { } hasDetail ? dialect.Flag(hasDetail) : null);
        where.After("w.window_end", "w.id", query.Cursor);

        int limit = Math.Clamp(query.Limit, 1, 1000);
        command.CommandText = $"SELECT {windowColumns} FROM windows w {where.Sql} ORDER BY w.window_end DESC, w.id DESC LIMIT @limit;";
        command.Bind("limit", limit + 1);
        var items = await DbRow.ReadAllAsync(command, dialect, HistoryRows.Window, cancellationToken).ConfigureAwait(false);
        return Conditions.ToPage(items, limit, w => (w.WindowEnd, w.Id));
    }

    public async Task<WindowRecord?> GetWindowAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {windowColumns}, d.explanation, d.input, d.channels, d.length
            FROM windows w LEFT JOIN window_details d ON d.id = w.id WHERE w.id = @id;
            """;
        command.Bind("id", id);
        var found = await DbRow.ReadAllAsync(command, dialect, row => HistoryRows.Window(row) with
        {
            Detail = row.IsNull("explanation") ? null : new WindowDetail(
                ColumnCodec.Gunzip(row.Blob("explanation")), ColumnCodec.Floats(row.Blob("input")), row.Int32("channels"), row.Int32("length")),
        }, cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public async Task<Page<AlertRecord>> QueryAlertsAsync(AlertQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        var where = new Conditions(command);
        where.Add("a.machine = @machine", "machine", query.Machine);
        where.Add("a.since >= @from", "from", query.From is { } from ? ColumnCodec.Milliseconds(from) : null);
        where.Add("a.since < @to", "to", query.To is { } to ? ColumnCodec.Milliseconds(to) : null);
        where.Add("a.peak_score >= @min_score", "min_score", query.MinScore);
        where.Add("a.status = @status", "status", query.Status);
        where.Add("a.dominant_channel = @channel", "channel", query.DominantChannel);
        where.After("a.since", "a.id", query.Cursor);

        int limit = Math.Clamp(query.Limit, 1, 1000);
        command.CommandText = $"SELECT {alertColumns} FROM alerts a {where.Sql} ORDER BY a.since DESC, a.id DESC LIMIT @limit;";
        command.Bind("limit", limit + 1);
        var items = await HistoryRows.AlertsAsync(command, dialect, cancellationToken).ConfigureAwait(false);
        return Conditions.ToPage(items, limit, a => (a.Since, a.Id));
    }

    public async Task<AlertRecord?> GetAlertAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {alertColumns} FROM alerts a WHERE a.id = @id;";
        command.Bind("id", id);
        return await HistoryRows.AlertOrNullAsync(command, dialect, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<SimilarAlert>> SimilarAlertsAsync(string alertId, int limit, CancellationToken cancellationToken)
    {
        var target = await GetAlertAsync(alertId, cancellationToken).ConfigureAwait(false);
        if (target is null || target.Signature.Length == 0)
        {
            return [];
        }

        // Candidates: the most recent alerts of the same model (same signature layout), ranked here.
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {alertColumns} FROM alerts a WHERE a.model_version = @model AND a.id <> @id ORDER BY a.since DESC LIMIT @candidates;";
        command.Bind("model", target.ModelVersion);
        command.Bind("id", alertId);
        command.Bind("candidates", SimilarCandidates);
        var candidates = await HistoryRows.AlertsAsync(command, dialect, cancellationToken).ConfigureAwait(false);
        return AlertSimilarity.Rank(target, candidates, limit);
    }
}
