using TSViz.Plugins.Drift;

namespace TSViz.Plugins.History;

/// <summary>A change of one kind of a machine's drift state, as the live comparison recorded it.</summary>
/// <param name="Machine">The machine.</param>
/// <param name="ModelVersion">The model version.</param>
/// <param name="At">The end of the window that changed it.</param>
/// <param name="Kind">input, score or explanation.</param>
/// <param name="State">The new state: drift or normal.</param>
/// <param name="Value">The kind's divergence at that window (bits).</param>
/// <param name="Threshold">The reference's null level (bits).</param>
/// <param name="Moved">What moved most.</param>
/// <param name="Summary">In plain words.</param>
public sealed record DriftEvent(string Machine, string ModelVersion, DateTimeOffset At, string Kind, string State, double Value, double Threshold, DriftMove Moved, string Summary)
{
    /// <summary>Its id in the history (0 before it is stored).</summary>
    public long Id { get; init; }
}

/// <summary>
/// Drift in the history: the windows a reference is built from, the machines' reference profiles per model version,
/// and the drift state changes.
/// </summary>
public interface IDriftStore
{
    /// <summary>The machines with windows of <paramref name="modelVersion"/> carrying drift features whose end lies in [<paramref name="since"/>, <paramref name="until"/>].</summary>
    Task<IReadOnlyList<string>> ReferenceMachinesAsync(string modelVersion, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>
    /// One machine's normal windows (scored below the threshold, outside every alert, with drift features) of
    /// <paramref name="modelVersion"/> whose end lies in [<paramref name="since"/>, <paramref name="until"/>], the last
    /// <paramref name="max"/> of them in stream order; the channel shares in the order of <paramref name="channels"/>.
    /// One machine at a time, so a plant's week of windows is never in memory at once.
    /// </summary>
    Task<IReadOnlyList<DriftObservation>> ReferenceWindowsAsync(
        string machine, string modelVersion, DateTimeOffset since, DateTimeOffset until, int max, IReadOnlyList<string> channels, CancellationToken cancellationToken);

    /// <summary>Stores a profile, replacing the machine's profile for its model version.</summary>
    Task SaveDriftProfileAsync(DriftProfile profile, CancellationToken cancellationToken);

    /// <summary>Every machine's profile for <paramref name="modelVersion"/>.</summary>
    Task<IReadOnlyList<DriftProfile>> DriftProfilesAsync(string modelVersion, CancellationToken cancellationToken);

    /// <summary>Stores drift state changes.</summary>
    Task AddDriftEventsAsync(IReadOnlyList<DriftEvent> events, CancellationToken cancellationToken);

    /// <summary>Drift state changes, newest first: of one machine or all, since a time, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<DriftEvent>> DriftEventsAsync(string? machine, DateTimeOffset? since, int limit, CancellationToken cancellationToken);
}
