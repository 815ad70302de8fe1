namespace TSViz.Plugins.History;

/// <summary>
/// The counterfactual of an alert's peak window ("what would have made it normal"), one per alert: the latest peak's
/// replaces an earlier one. <see cref="Document"/> is the monitor's JSON (the changes, the scores, the received and
/// the changed window); the store keeps it as given.
/// </summary>
/// <param name="AlertId">The alert episode.</param>
/// <param name="Machine">The alert's machine.</param>
/// <param name="PeakWindowId">The window the counterfactual changes (the alert's peak when it was computed).</param>
/// <param name="ComputedAt">When it was computed.</param>
/// <param name="Found">Whether a change within the budget was found and verified.</param>
/// <param name="Document">The counterfactual as JSON.</param>
public sealed record CounterfactualRecord(string AlertId, string Machine, string PeakWindowId, DateTimeOffset ComputedAt, bool Found, string Document);

/// <summary>Alert counterfactuals.</summary>
public interface ICounterfactualStore
{
    /// <summary>Stores an alert's counterfactual, replacing the one it had.</summary>
    Task SaveCounterfactualAsync(CounterfactualRecord record, CancellationToken cancellationToken);

    /// <summary>The alert's counterfactual; null when none was computed (or the alert is unknown).</summary>
    Task<CounterfactualRecord?> CounterfactualAsync(string alertId, CancellationToken cancellationToken);
}
