using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History;

/// <summary>
/// What a restarted monitor reads back before input arrives: each machine's partial window, its alert episodes, its
/// newest stored window, and which redelivered windows are already stored.
/// </summary>
public interface IHistoryRestartState
{
    /// <summary>Every machine's stored partial window, for a restarted monitor to resume from.</summary>
    Task<IReadOnlyList<WindowCheckpoint>> LoadCheckpointsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// One machine's stored partial window (by its key), as <see cref="LoadCheckpointsAsync"/> reads it: null when the
    /// machine has none, or one this version cannot read.
    /// </summary>
    Task<WindowCheckpoint?> LoadCheckpointAsync(string machine, CancellationToken cancellationToken);

    /// <summary>Each machine's newest alert episode (by since), open or closed, so a restarted monitor continues its numbering.</summary>
    Task<IReadOnlyList<AlertRecord>> LatestAlertsAsync(CancellationToken cancellationToken);

    /// <summary>One machine's newest alert episode, as <see cref="LatestAlertsAsync"/> picks it (by the index on machine and since); null when it has none.</summary>
    Task<AlertRecord?> LatestAlertAsync(string machine, CancellationToken cancellationToken);

    /// <summary>Every alert episode still open (more than one per machine only after a crash; the newest is the live one).</summary>
    Task<IReadOnlyList<AlertRecord>> OpenAlertsAsync(CancellationToken cancellationToken);

    /// <summary>Each machine's newest stored window end (what a restarted monitor may see redelivered lies at or before it).</summary>
    Task<IReadOnlyDictionary<string, DateTimeOffset>> NewestWindowEndsAsync(CancellationToken cancellationToken);

    /// <summary>Which of these window ids are already stored (a redelivery of a window whose results went out).</summary>
    Task<IReadOnlySet<string>> ExistingWindowIdsAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken);
}
