using System.Data;
using System.Data.Common;

namespace TSViz.Plugins.History.Ado;

/// <summary>
/// Recurring fault patterns in the alert_patterns table (one row per assigned alert); a pattern's summary is read from
/// its alerts and their feedback when asked, so operators' latest verdicts count at once.
/// </summary>
internal sealed class DbAlertPatternStore(IHistoryConnections connections) : IAlertPatternStore
{
    private const int ListedAlerts = 50;

    private readonly string alertColumns = HistoryRows.AlertColumns(connections.Dialect);

    public async Task<IReadOnlyList<AlertRecord>> AlertsSinceAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {alertColumns} FROM alerts a WHERE a.since >= @since ORDER BY a.since DESC, a.id DESC LIMIT @limit;";
        command.Bind("since", ColumnCodec.Milliseconds(since));
        command.Bind("limit", Math.Max(1, limit));
        return await HistoryRows.AlertsAsync(command, connections.Dialect, cancellationToken).ConfigureAwait(false);
    }

    public async Task ReplacePatternsAsync(string modelVersion, IReadOnlyList<PatternAssignment> assignments, DateTimeOffset computedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM alert_patterns WHERE model_version = @model;";
            delete.Bind("model", modelVersion, DbType.String);
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var assignment in assignments)
        {
            await using var insert = Upsert(connection, assignment.AlertId, assignment.PatternId, modelVersion, computedAt);
            insert.Transaction = transaction;
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task AssignPatternAsync(string alertId, string patternId, string modelVersion, DateTimeOffset computedAt, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var insert = Upsert(connection, alertId, patternId, modelVersion, computedAt);
        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The statement that sets one alert's pattern (replacing the one it had).</summary>
    private static DbCommand Upsert(DbConnection connection, string alertId, string patternId, string modelVersion, DateTimeOffset computedAt)
    {
        var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO alert_patterns (alert_id, pattern_id, model_version, computed_at) VALUES (@alert, @pattern, @model, @at)
            ON CONFLICT (alert_id) DO UPDATE SET pattern_id = excluded.pattern_id, model_version = excluded.model_version, computed_at = excluded.computed_at;
            """;
        insert.Bind("alert", alertId, DbType.String);
        insert.Bind("pattern", patternId, DbType.String);
        insert.Bind("model", modelVersion, DbType.String);
        insert.Bind("at", ColumnCodec.Milliseconds(computedAt), DbType.Int64);
        return insert;
    }

    public async Task<string?> PatternIdOfAsync(string alertId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT pattern_id FROM alert_patterns WHERE alert_id = @alert;";
        command.Bind("alert", alertId);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task<PatternSummary?> PatternAsync(string patternId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var alerts = await ReadAsync(
            connection,
            "SELECT a.id, a.machine, a.since, p.model_version, p.computed_at FROM alerts a JOIN alert_patterns p ON p.alert_id = a.id WHERE p.pattern_id = @pattern ORDER BY a.since DESC, a.id DESC;",
            patternId,
            row => (Id: row.String("id"), Machine: row.String("machine"), Since: row.Time("since"), Model: row.String("model_version"), At: row.Time("computed_at")),
            cancellationToken).ConfigureAwait(false);
        if (alerts.Count == 0)
        {
            return null;
        }

        var feedback = await ReadAsync(
            connection,
            "SELECT f.alert_id, f.kind, f.comment, f.at FROM feedback f JOIN alert_patterns p ON p.alert_id = f.alert_id WHERE p.pattern_id = @pattern ORDER BY f.at, f.id;",
            patternId,
            row => (Alert: row.String("alert_id"), Kind: row.String("kind"), Comment: row.StringOrNull("comment"), At: row.Time("at")),
            cancellationToken).ConfigureAwait(false);

        // Each alert's verdict is its latest confirm or false_alarm (an acknowledgement is no verdict).
        var verdicts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in feedback.Where(f => f.Kind is "confirm" or "false_alarm"))
        {
            verdicts[f.Alert] = f.Kind;
        }

        var commented = feedback.LastOrDefault(f => !string.IsNullOrWhiteSpace(f.Comment));
        return new PatternSummary(
            patternId, alerts[0].Model, alerts.Count, [.. alerts.Select(a => a.Machine).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            alerts.Min(a => a.Since), alerts.Max(a => a.Since),
            verdicts.Values.Count(v => v == "confirm"), verdicts.Values.Count(v => v == "false_alarm"),
            commented.Comment, commented.Comment is null ? null : commented.At,
            [.. alerts.Take(ListedAlerts).Select(a => a.Id)], alerts.Max(a => a.At));
    }

    public async Task<IReadOnlyList<PatternMember>> PatternMembersAsync(string modelVersion, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {alertColumns}, p.pattern_id FROM alerts a JOIN alert_patterns p ON p.alert_id = a.id WHERE p.model_version = @model ORDER BY a.since, a.id;";
        command.Bind("model", modelVersion);
        return await DbRow.ReadAllAsync(command, connections.Dialect, row => new PatternMember(row.String("pattern_id"), HistoryRows.Alert(row)), cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<T>> ReadAsync<T>(DbConnection connection, string sql, string patternId, Func<DbRow, T> read, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Bind("pattern", patternId);
        return await DbRow.ReadAllAsync(command, connections.Dialect, read, cancellationToken).ConfigureAwait(false);
    }
}
