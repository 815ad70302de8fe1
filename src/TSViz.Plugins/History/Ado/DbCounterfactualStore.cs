using System.Data;

namespace TSViz.Plugins.History.Ado;

/// <summary>Alert counterfactuals in the counterfactuals table, one row per alert (an upsert replaces it).</summary>
internal sealed class DbCounterfactualStore(IHistoryConnections connections) : ICounterfactualStore
{
    public async Task SaveCounterfactualAsync(CounterfactualRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO counterfactuals (alert_id, machine, peak_window_id, computed_at, found, document)
            VALUES (@alert, @machine, @peak, @at, @found, @document)
            ON CONFLICT (alert_id) DO UPDATE SET machine = excluded.machine, peak_window_id = excluded.peak_window_id,
                computed_at = excluded.computed_at, found = excluded.found, document = excluded.document;
            """;
        command.Bind("alert", record.AlertId, DbType.String);
        command.Bind("machine", record.Machine, DbType.String);
        command.Bind("peak", record.PeakWindowId, DbType.String);
        command.Bind("at", ColumnCodec.Milliseconds(record.ComputedAt), DbType.Int64);
        command.Bind("found", record.Found ? 1 : 0, DbType.Int32);
        command.Bind("document", record.Document, DbType.String);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<CounterfactualRecord?> CounterfactualAsync(string alertId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT alert_id, machine, peak_window_id, computed_at, found, document FROM counterfactuals WHERE alert_id = @alert;";
        command.Bind("alert", alertId);
        var rows = await DbRow.ReadAllAsync(
            command,
            connections.Dialect,
            row => new CounterfactualRecord(row.String("alert_id"), row.String("machine"), row.String("peak_window_id"), row.Time("computed_at"), row.Int64("found") != 0, row.String("document")),
            cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }
}
