namespace TSViz.Plugins.History;

/// <summary>Operators' feedback on alert episodes.</summary>
public interface IFeedbackStore
{
    /// <summary>Stores feedback; null when the alert does not exist.</summary>
    Task<FeedbackRecord?> AddFeedbackAsync(string alertId, FeedbackKind kind, FeedbackAuthor author, string? comment, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The feedback given on an alert, oldest first.</summary>
    Task<IReadOnlyList<FeedbackRecord>> FeedbackAsync(string alertId, CancellationToken cancellationToken);
}
