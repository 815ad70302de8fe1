namespace TSViz.Plugins.History.Ado;

/// <summary>Deletes what the retention policy no longer keeps, in one transaction.</summary>
internal sealed class DbRetention(IHistoryConnections connections) : IHistoryRetention
{
    /// <summary>A detail whose window belongs to an alert still stored is kept with it.</summary>
    private const string NotOfAKeptAlert = "NOT EXISTS (SELECT 1 FROM windows w JOIN alerts a ON a.id = w.alert_id WHERE w.id = window_details.id)";

    public async Task<RetentionResult> ApplyRetentionAsync(RetentionPolicy policy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var dialect = connections.Dialect;
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        async Task<int> Delete(string sql, TimeSpan age)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            command.Bind("cutoff", ColumnCodec.Milliseconds(now - age));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // Alerts go first (closed ones only: an open alert is never deleted). A window of an alert that is still kept
        // keeps its row and its full detail as long as the alert, so an alert's evidence outlives the window ages;
        // once its alert is gone it ages like any other window. Then details (their own, shorter age), then windows.
        await Delete("DELETE FROM feedback WHERE alert_id IN (SELECT id FROM alerts WHERE status = 'closed' AND since < @cutoff);", policy.Alerts).ConfigureAwait(false);
        await Delete("DELETE FROM alert_patterns WHERE alert_id IN (SELECT id FROM alerts WHERE status = 'closed' AND since < @cutoff);", policy.Alerts).ConfigureAwait(false);
        await Delete("DELETE FROM drift_events WHERE at < @cutoff;", policy.Alerts).ConfigureAwait(false);
        await Delete("DELETE FROM counterfactuals WHERE alert_id IN (SELECT id FROM alerts WHERE status = 'closed' AND since < @cutoff);", policy.Alerts).ConfigureAwait(false);
        int alerts = await Delete("DELETE FROM alerts WHERE status = 'closed' AND since < @cutoff;", policy.Alerts).ConfigureAwait(false);
        int details = await Delete($"DELETE FROM window_details WHERE window_end < @cutoff AND {NotOfAKeptAlert};", policy.Details).ConfigureAwait(false);
        await Delete($"DELETE FROM window_details WHERE window_end < @cutoff AND {NotOfAKeptAlert};", policy.Windows).ConfigureAwait(false);
        int windows = await Delete("DELETE FROM windows WHERE window_end < @cutoff AND (alert_id IS NULL OR NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = windows.alert_id));", policy.Windows).ConfigureAwait(false);
        await Delete($"UPDATE windows SET has_detail = {dialect.False} WHERE has_detail = {dialect.True} AND window_end < @cutoff AND NOT EXISTS (SELECT 1 FROM window_details d WHERE d.id = windows.id);", policy.Details).ConfigureAwait(false);
        int analyses = await Delete("DELETE FROM analyses WHERE at < @cutoff;", policy.Analyses).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new RetentionResult(windows, details, alerts, analyses);
    }
}
