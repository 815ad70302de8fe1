using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History;

/// <summary>
/// What one history write stores in one transaction: window records (idempotent by id), alert upserts, the partial
/// window of every machine the write touched and the checkpoints of machines no longer tracked. A monitor killed at
/// any moment finds either all of it or none of it.
/// </summary>
public sealed record HistoryBatch
{
    /// <summary>Window records, stored unless their id is (a redelivery).</summary>
    public IReadOnlyList<WindowRecord> Windows { get; init; } = [];

    /// <summary>Alert episodes inserted or updated by id.</summary>
    public IReadOnlyList<AlertRecord> Alerts { get; init; } = [];

    /// <summary>One row per machine is kept; of several checkpoints of one machine the last in the list wins.</summary>
    public IReadOnlyList<WindowCheckpoint> Checkpoints { get; init; } = [];

    /// <summary>Machines whose checkpoint is deleted (applied before <see cref="Checkpoints"/>, so a machine in both keeps its new one).</summary>
    public IReadOnlyList<string> RemovedCheckpoints { get; init; } = [];
}
