using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>
/// The history in one SQLite file (WAL mode, so readers never block the live writer): every contract of
/// <see cref="IHistoryStore"/>, each served by its own part (schema, writer, restart state, queries, aggregates,
/// feedback, analyses, retention) over one <see cref="SqliteConnectionFactory"/>. Compact rows and JSON columns, full
/// explanations gzip'd in a side table, each machine's partial window one binary row (<see cref="CheckpointCodec"/>).
/// Every statement is parameterised. Thread-safe: each call opens a pooled connection.
/// </summary>
public sealed class SqliteHistoryStore : IHistoryStore
{
    private readonly SqliteHistorySchema schema;
    private readonly SqliteHistoryWriter writer;
    private readonly SqliteRestartState restart;
    private readonly SqliteHistoryQueries queries;
    private readonly SqliteHistoryAggregates aggregates;
    private readonly SqliteFeedbackStore feedback;
    private readonly SqliteAnalysisStore analyses;
    private readonly SqliteRetention retention;

    /// <summary>A store whose statements wait up to 30 s for a lock held by another connection.</summary>
    public SqliteHistoryStore(string path)
        : this(path, TimeSpan.FromSeconds(30))
    {
    }

    /// <summary>A store whose statements wait up to <paramref name="busyTimeout"/> for a lock held by another connection, then fail (SQLITE_BUSY).</summary>
    public SqliteHistoryStore(string path, TimeSpan busyTimeout)
        : this(path, busyTimeout, TimeProvider.System)
    {
    }

    /// <summary>A store whose schema records its creation time from <paramref name="time"/>.</summary>
    public SqliteHistoryStore(string path, TimeSpan busyTimeout, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        Connections = new SqliteConnectionFactory(path, busyTimeout);
        schema = new SqliteHistorySchema(Connections, time);
        writer = new SqliteHistoryWriter(Connections);
        restart = new SqliteRestartState(Connections);
        queries = new SqliteHistoryQueries(Connections);
        aggregates = new SqliteHistoryAggregates(Connections);
        feedback = new SqliteFeedbackStore(Connections);
        analyses = new SqliteAnalysisStore(Connections);
        retention = new SqliteRetention(Connections);
    }

    /// <summary>The file and its connections.</summary>
    public SqliteConnectionFactory Connections { get; }

    /// <summary>The database file.</summary>
    public string Path => Connections.Path;

    /// <summary>How long a statement waits for a lock held by another connection.</summary>
    public TimeSpan BusyTimeout => Connections.BusyTimeout;

    /// <summary>The connection string.</summary>
    public string ConnectionString => Connections.ConnectionString;

    /// <inheritdoc/>
    public string Location => Path;

    /// <inheritdoc/>
    public Task InitializeAsync(CancellationToken cancellationToken) => schema.InitializeAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<int> WriteBatchAsync(HistoryBatch batch, CancellationToken cancellationToken) => writer.WriteBatchAsync(batch, cancellationToken);

    /// <inheritdoc/>
    public Task<int> WriteWindowsAsync(IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken) => writer.WriteWindowsAsync(records, cancellationToken);

    /// <inheritdoc/>
    public Task UpsertAlertsAsync(IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken) => writer.UpsertAlertsAsync(alerts, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WindowCheckpoint>> LoadCheckpointsAsync(CancellationToken cancellationToken) => restart.LoadCheckpointsAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<AlertRecord>> LatestAlertsAsync(CancellationToken cancellationToken) => restart.LatestAlertsAsync(cancellationToken);

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
