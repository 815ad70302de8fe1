using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History.Ado;

/// <summary>
/// A history kept in a relational database through System.Data.Common: every contract of <see cref="IHistoryStore"/>,
/// each served by its own part (schema, writer, restart state, queries, aggregates, feedback, analyses, retention)
/// over one set of pooled connections; what differs between the databases is their dialect. The same tables in each
/// (times as Unix milliseconds, so paging, ordering and cursors are the same; compact rows and JSON columns; full
/// explanations gzip'd in a side table; each machine's partial window one binary row, <see cref="CheckpointCodec"/>).
/// Every statement is parameterised. Thread-safe: each call takes a pooled connection. The stores:
/// <see cref="Sqlite.SqliteHistoryStore"/> and <see cref="Postgres.PostgresHistoryStore"/>.
/// </summary>
public abstract class DbHistoryStore : IHistoryStore
{
    private readonly IHistorySchema schema;
    private readonly DbHistoryWriter writer;
    private readonly DbRestartState restart;
    private readonly DbHistoryQueries queries;
    private readonly DbHistoryAggregates aggregates;
    private readonly DbFeedbackStore feedback;
    private readonly DbCounterfactualStore counterfactuals;
    private readonly DbAlertPatternStore patterns;
    private readonly DbDriftStore drift;
    private readonly DbAnalysisStore analyses;
    private readonly DbRetention retention;

    /// <summary>A store over <paramref name="connections"/> whose schema is made by <paramref name="schema"/>.</summary>
    private protected DbHistoryStore(IHistoryConnections connections, IHistorySchema schema)
    {
        ArgumentNullException.ThrowIfNull(connections);
        ArgumentNullException.ThrowIfNull(schema);
        this.schema = schema;
        writer = new DbHistoryWriter(connections);
        restart = new DbRestartState(connections);
        queries = new DbHistoryQueries(connections);
        aggregates = new DbHistoryAggregates(connections);
        feedback = new DbFeedbackStore(connections);
        counterfactuals = new DbCounterfactualStore(connections);
        patterns = new DbAlertPatternStore(connections);
        drift = new DbDriftStore(connections);
        analyses = new DbAnalysisStore(connections);
        retention = new DbRetention(connections);
    }

    /// <inheritdoc/>
    public string Location => schema.Location;

    /// <inheritdoc/>
    public Task InitializeAsync(CancellationToken cancellationToken) => schema.InitializeAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<int> WriteBatchAsync(HistoryBatch batch, CancellationToken cancellationToken) => writer.WriteBatchAsync(batch, cancellationToken);

    /// <inheritdoc/>
    public Task<int> WriteWindowsAsync(IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken) => writer.WriteWindowsAsync(records, cancellationToken);

    /// <inheritdoc/>
    public Task UpsertAlertsAsync(IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken) => writer.UpsertAlertsAsync(alerts, cancellationToken);

    /// <inheritdoc/>
    public Task SaveCounterfactualAsync(CounterfactualRecord record, CancellationToken cancellationToken) => counterfactuals.SaveCounterfactualAsync(record, cancellationToken);

    /// <inheritdoc/>
    public Task<CounterfactualRecord?> CounterfactualAsync(string alertId, CancellationToken cancellationToken) => counterfactuals.CounterfactualAsync(alertId, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<AlertRecord>> AlertsSinceAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken) => patterns.AlertsSinceAsync(since, limit, cancellationToken);

    /// <inheritdoc/>
    public Task ReplacePatternsAsync(string modelVersion, IReadOnlyList<PatternAssignment> assignments, DateTimeOffset computedAt, CancellationToken cancellationToken)
        => patterns.ReplacePatternsAsync(modelVersion, assignments, computedAt, cancellationToken);

    /// <inheritdoc/>
    public Task AssignPatternAsync(string alertId, string patternId, string modelVersion, DateTimeOffset computedAt, CancellationToken cancellationToken)
        => patterns.AssignPatternAsync(alertId, patternId, modelVersion, computedAt, cancellationToken);

    /// <inheritdoc/>
    public Task<PatternSummary?> PatternAsync(string patternId, CancellationToken cancellationToken) => patterns.PatternAsync(patternId, cancellationToken);

    /// <inheritdoc/>
    public Task<string?> PatternIdOfAsync(string alertId, CancellationToken cancellationToken) => patterns.PatternIdOfAsync(alertId, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<PatternMember>> PatternMembersAsync(string modelVersion, CancellationToken cancellationToken) => patterns.PatternMembersAsync(modelVersion, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ReferenceMachinesAsync(string modelVersion, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
        => drift.ReferenceMachinesAsync(modelVersion, since, until, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<Drift.DriftObservation>> ReferenceWindowsAsync(
        string machine, string modelVersion, DateTimeOffset since, DateTimeOffset until, int max, IReadOnlyList<string> channels, CancellationToken cancellationToken)
        => drift.ReferenceWindowsAsync(machine, modelVersion, since, until, max, channels, cancellationToken);

    /// <inheritdoc/>
    public Task SaveDriftProfileAsync(Drift.DriftProfile profile, CancellationToken cancellationToken) => drift.SaveDriftProfileAsync(profile, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<Drift.DriftProfile>> DriftProfilesAsync(string modelVersion, CancellationToken cancellationToken) => drift.DriftProfilesAsync(modelVersion, cancellationToken);

    /// <inheritdoc/>
    public Task AddDriftEventsAsync(IReadOnlyList<DriftEvent> events, CancellationToken cancellationToken) => drift.AddDriftEventsAsync(events, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<DriftEvent>> DriftEventsAsync(string? machine, DateTimeOffset? since, int limit, CancellationToken cancellationToken)
        => drift.DriftEventsAsync(machine, since, limit, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WindowCheckpoint>> LoadCheckpointsAsync(CancellationToken cancellationToken) => restart.LoadCheckpointsAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<WindowCheckpoint?> LoadCheckpointAsync(string machine, CancellationToken cancellationToken) => restart.LoadCheckpointAsync(machine, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<AlertRecord>> LatestAlertsAsync(CancellationToken cancellationToken) => restart.LatestAlertsAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<AlertRecord?> LatestAlertAsync(string machine, CancellationToken cancellationToken) => restart.LatestAlertAsync(machine, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<AlertRecord>> OpenAlertsAsync(CancellationToken cancellationToken) => restart.OpenAlertsAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyDictionary<string, DateTimeOffset>> NewestWindowEndsAsync(CancellationToken cancellationToken) => restart.NewestWindowEndsAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlySet<string>> ExistingWindowIdsAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken) => restart.ExistingWindowIdsAsync(ids, cancellationToken);

    /// <inheritdoc/>
    public Task<Page<WindowRecord>> QueryWindowsAsync(WindowQuery query, CancellationToken cancellationToken) => queries.QueryWindowsAsync(query, cancellationToken);

    /// <inheritdoc/>
    public Task<WindowRecord?> GetWindowAsync(string id, CancellationToken cancellationToken) => queries.GetWindowAsync(id, cancellationToken);

    /// <inheritdoc/>
    public Task<Page<AlertRecord>> QueryAlertsAsync(AlertQuery query, CancellationToken cancellationToken) => queries.QueryAlertsAsync(query, cancellationToken);

    /// <inheritdoc/>
    public Task<AlertRecord?> GetAlertAsync(string id, CancellationToken cancellationToken) => queries.GetAlertAsync(id, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<SimilarAlert>> SimilarAlertsAsync(string alertId, int limit, CancellationToken cancellationToken) => queries.SimilarAlertsAsync(alertId, limit, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<HourlyCount>> AlertsPerHourAsync(DateTimeOffset since, DateTimeOffset until, string? machine, CancellationToken cancellationToken)
        => aggregates.AlertsPerHourAsync(since, until, machine, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<ChannelContributionPoint>> ChannelContributionOverTimeAsync(string machine, DateTimeOffset since, DateTimeOffset until, TimeSpan bucket, CancellationToken cancellationToken)
        => aggregates.ChannelContributionOverTimeAsync(machine, since, until, bucket, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<FilterFrequency>> TopFilterFrequencyAsync(DateTimeOffset since, DateTimeOffset until, string? machine, int limit, CancellationToken cancellationToken)
        => aggregates.TopFilterFrequencyAsync(since, until, machine, limit, cancellationToken);

    /// <inheritdoc/>
    public Task<FeedbackRecord?> AddFeedbackAsync(string alertId, FeedbackKind kind, FeedbackAuthor author, string? comment, DateTimeOffset at, CancellationToken cancellationToken)
        => feedback.AddFeedbackAsync(alertId, kind, author, comment, at, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<FeedbackRecord>> FeedbackAsync(string alertId, CancellationToken cancellationToken) => feedback.FeedbackAsync(alertId, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<StoredInput>> InputWindowsAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken) => analyses.InputWindowsAsync(since, limit, cancellationToken);

    /// <inheritdoc/>
    public Task<AnalysisRecord> SaveAnalysisAsync(string job, string model, string modelVersion, DateTimeOffset at, int windows, string summaryJson, CancellationToken cancellationToken)
        => analyses.SaveAnalysisAsync(job, model, modelVersion, at, windows, summaryJson, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<AnalysisRecord>> AnalysesAsync(string? job, int limit, CancellationToken cancellationToken) => analyses.AnalysesAsync(job, limit, cancellationToken);

    /// <inheritdoc/>
    public Task<RetentionResult> ApplyRetentionAsync(RetentionPolicy policy, DateTimeOffset now, CancellationToken cancellationToken) => retention.ApplyRetentionAsync(policy, now, cancellationToken);
}
