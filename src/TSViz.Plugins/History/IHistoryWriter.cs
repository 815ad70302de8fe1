namespace TSViz.Plugins.History;

/// <summary>What the live path writes: window records, alert episodes and the machines' partial windows. Every write is idempotent on the record ids.</summary>
public interface IHistoryWriter
{
    /// <summary>
    /// Stores a batch in one transaction: its windows (a record whose id is already stored is skipped), its alert
    /// upserts, its checkpoint deletions and its checkpoints (one per machine, the latest wins). Either all of it is
    /// stored or nothing. Returns how many windows were new.
    /// </summary>
    Task<int> WriteBatchAsync(HistoryBatch batch, CancellationToken cancellationToken);

    /// <summary>Stores window records in one transaction; a record whose id is already stored is skipped. Returns how many were new.</summary>
    Task<int> WriteWindowsAsync(IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken);

    /// <summary>Inserts or updates alert episodes (by id).</summary>
    Task UpsertAlertsAsync(IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken);
}
