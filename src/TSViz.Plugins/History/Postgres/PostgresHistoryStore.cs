using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History.Postgres;

/// <summary>
/// The history in a PostgreSQL database: every contract of <see cref="IHistoryStore"/>, each served by its own part
/// (schema, writer, restart state, queries, aggregates, feedback, analyses, retention) over one pooled Npgsql data
/// source. The tables of the SQLite store column for column (history_schema_postgres.sql): times as Unix milliseconds,
/// so paging, ordering and cursors are the same; contributions and top filters as jsonb; full explanations gzip'd and
/// input windows and signatures as float32 bytes in bytea; each machine's partial window one row
/// (<see cref="CheckpointCodec"/>). Every statement is parameterised. Thread-safe: each call takes a pooled connection.
/// </summary>
public sealed class PostgresHistoryStore : IHistoryStore, IAsyncDisposable, IDisposable
{
    private readonly PostgresConnectionFactory connections;
    private readonly PostgresHistorySchema schema;
    private readonly PostgresHistoryWriter writer;
    private readonly PostgresRestartState restart;
    private readonly PostgresHistoryQueries queries;
    private readonly PostgresHistoryAggregates aggregates;
    private readonly PostgresFeedbackStore feedback;
    private readonly PostgresAnalysisStore analyses;
    private readonly PostgresRetention retention;

    /// <summary>A store in the database <paramref name="connectionString"/> names (an Npgsql connection string).</summary>
    public PostgresHistoryStore(string connectionString)
        : this(connectionString, TimeProvider.System)
    {
    }

    /// <summary>A store whose schema records its creation time from <paramref name="time"/>.</summary>
    public PostgresHistoryStore(string connectionString, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        connections = new PostgresConnectionFactory(connectionString);
        schema = new PostgresHistorySchema(connections, time);
        writer = new PostgresHistoryWriter(connections);
        restart = new PostgresRestartState(connections);
        queries = new PostgresHistoryQueries(connections);
        aggregates = new PostgresHistoryAggregates(connections);
        feedback = new PostgresFeedbackStore(connections);
        analyses = new PostgresAnalysisStore(connections);
        retention = new PostgresRetention(connections);
    }

    /// <summary>"{host}:{port}/{database}" (never the password).</summary>
    public string Location => connections.Location;

    /// <summary>The database's name.</summary>
    public string Database => connections.Database;

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

    /// <summary>Closes the store's pooled connections.</summary>
    public void Dispose() => connections.Dispose();

    /// <summary>Closes the store's pooled connections.</summary>
    public ValueTask DisposeAsync() => connections.DisposeAsync();
}
