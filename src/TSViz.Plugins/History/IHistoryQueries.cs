namespace TSViz.Plugins.History;

/// <summary>
/// Reading the history: windows and alert episodes by filter, newest first, keyset-paged (<see cref="PageCursor"/>);
/// one of either by id; and the past alerts whose explanation resembles one's (<see cref="AlertSimilarity"/>).
/// Every filter reaches the store as a parameter, never as query text.
/// </summary>
public interface IHistoryQueries
{
    /// <summary>A page of windows (without their full explanation); a cursor that is not a page's is an <see cref="ArgumentException"/>.</summary>
    Task<Page<WindowRecord>> QueryWindowsAsync(WindowQuery query, CancellationToken cancellationToken);

    /// <summary>One window with its full explanation and input when they were kept.</summary>
    Task<WindowRecord?> GetWindowAsync(string id, CancellationToken cancellationToken);

    /// <summary>A page of alert episodes with their latest feedback; a cursor that is not a page's is an <see cref="ArgumentException"/>.</summary>
    Task<Page<AlertRecord>> QueryAlertsAsync(AlertQuery query, CancellationToken cancellationToken);

    /// <summary>One alert episode with its latest feedback.</summary>
    Task<AlertRecord?> GetAlertAsync(string id, CancellationToken cancellationToken);

    /// <summary>Past alerts of the same model (other than <paramref name="alertId"/>) ranked by <see cref="AlertSimilarity.Similarity"/>; empty for an unknown alert.</summary>
    Task<IReadOnlyList<SimilarAlert>> SimilarAlertsAsync(string alertId, int limit, CancellationToken cancellationToken);
}
