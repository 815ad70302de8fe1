using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History;

/// <summary>
/// The explanation history: every scored window's compact record, full explanations for some, alert episodes,
/// operator feedback and analysis results. SQLite by default (SqliteHistoryStore); a PostgreSQL store
/// implements the same contract. Writes are idempotent on the record ids; every query is parameterised.
/// </summary>
public interface IHistoryStore
{
    /// <summary>Creates the schema if needed (idempotent).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Stores window records in one transaction; a record whose id is already stored is skipped. Returns how many were new.</summary>
    Task<int> WriteWindowsAsync(IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken);

    /// <summary>Which of these window ids are already stored (a redelivery of a window whose results went out).</summary>
    Task<IReadOnlySet<string>> ExistingWindowIdsAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken);

    /// <summary>Each machine's newest stored window end (what a restarted monitor may see redelivered lies at or before it).</summary>
    Task<IReadOnlyDictionary<string, DateTimeOffset>> NewestWindowEndsAsync(CancellationToken cancellationToken);

    /// <summary>Inserts or updates alert episodes (by id).</summary>
    Task UpsertAlertsAsync(IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a batch in one transaction: its windows (a record whose id is already stored is skipped), its alert
    /// upserts, its checkpoint deletions and its checkpoints (one per machine, the latest wins). Either all of it is
    /// stored or nothing. Returns how many windows were new.
    /// </summary>
    Task<int> WriteBatchAsync(HistoryBatch batch, CancellationToken cancellationToken);

    /// <summary>Every machine's stored partial window, for a restarted monitor to resume from.</summary>
    Task<IReadOnlyList<WindowCheckpoint>> LoadCheckpointsAsync(CancellationToken cancellationToken);

    /// <summary>Each machine's newest alert episode (by since), open or closed, so a restarted monitor continues its numbering.</summary>
    Task<IReadOnlyList<AlertRecord>> LatestAlertsAsync(CancellationToken cancellationToken);

    /// <summary>Every alert episode still open (more than one per machine only after a crash; the newest is the live one).</summary>
    Task<IReadOnlyList<AlertRecord>> OpenAlertsAsync(CancellationToken cancellationToken);

    Task<Page<WindowRecord>> QueryWindowsAsync(WindowQuery query, CancellationToken cancellationToken);

    /// <summary>One window with its full explanation and input when they were kept.</summary>
    Task<WindowRecord?> GetWindowAsync(string id, CancellationToken cancellationToken);

    Task<Page<AlertRecord>> QueryAlertsAsync(AlertQuery query, CancellationToken cancellationToken);

    Task<AlertRecord?> GetAlertAsync(string id, CancellationToken cancellationToken);

    /// <summary>Past alerts (other than <paramref name="alertId"/>) ranked by the cosine similarity of their signatures.</summary>
    Task<IReadOnlyList<SimilarAlert>> SimilarAlertsAsync(string alertId, int limit, CancellationToken cancellationToken);

    /// <summary>Stores feedback; null when the alert does not exist.</summary>
    Task<FeedbackRecord?> AddFeedbackAsync(string alertId, FeedbackKind kind, FeedbackAuthor author, string? comment, DateTimeOffset at, CancellationToken cancellationToken);

    Task<IReadOnlyList<FeedbackRecord>> FeedbackAsync(string alertId, CancellationToken cancellationToken);

    Task<IReadOnlyList<HourlyCount>> AlertsPerHourAsync(DateTimeOffset since, DateTimeOffset until, string? machine, CancellationToken cancellationToken);

    Task<IReadOnlyList<ChannelContributionPoint>> ChannelContributionOverTimeAsync(string machine, DateTimeOffset since, DateTimeOffset until, TimeSpan bucket, CancellationToken cancellationToken);

    Task<IReadOnlyList<FilterFrequency>> TopFilterFrequencyAsync(DateTimeOffset since, DateTimeOffset until, string? machine, int limit, CancellationToken cancellationToken);

    /// <summary>Input windows stored since <paramref name="since"/> (newest first, at most <paramref name="limit"/>), for the analysis jobs.</summary>
    Task<IReadOnlyList<StoredInput>> InputWindowsAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken);

    Task<AnalysisRecord> SaveAnalysisAsync(string job, string model, string modelVersion, DateTimeOffset at, int windows, string summaryJson, CancellationToken cancellationToken);

    Task<IReadOnlyList<AnalysisRecord>> AnalysesAsync(string? job, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes what is older than the policy allows, by record kind (relative to <paramref name="now"/>).</summary>
    Task<RetentionResult> ApplyRetentionAsync(RetentionPolicy policy, DateTimeOffset now, CancellationToken cancellationToken);
}
