namespace TSViz.Plugins.History;

/// <summary>The nightly retention's one call.</summary>
public interface IHistoryRetention
{
    /// <summary>
    /// Deletes what is older than the policy allows, by record kind (relative to <paramref name="now"/>): closed alerts
    /// with their feedback, full details, windows (a window of a kept alert lives as long as the alert), analyses.
    /// An open alert is never deleted.
    /// </summary>
    Task<RetentionResult> ApplyRetentionAsync(RetentionPolicy policy, DateTimeOffset now, CancellationToken cancellationToken);
}
