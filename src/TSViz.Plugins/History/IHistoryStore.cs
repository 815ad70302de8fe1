namespace TSViz.Plugins.History;

/// <summary>
/// The explanation history as one object: every scored window's compact record, full explanations for some, alert
/// episodes, operator feedback and analysis results. An implementation (SQLite: <see cref="Sqlite.SqliteHistoryStore"/>;
/// PostgreSQL: <see cref="Postgres.PostgresHistoryStore"/>) registers once with
/// <see cref="HistoryServiceCollectionExtensions.AddHistoryStore{TStore}"/>; each consumer takes only the contract it uses: the live path <see cref="IHistoryWriter"/> and <see cref="IHistoryRestartState"/>, the
/// API <see cref="IHistoryQueries"/>, <see cref="IHistoryAggregates"/> and <see cref="IFeedbackStore"/>, the nightly
/// jobs <see cref="IAnalysisStore"/> and <see cref="IHistoryRetention"/>, the start-up <see cref="IHistorySchema"/>.
/// </summary>
public interface IHistoryStore : IHistorySchema, IHistoryWriter, IHistoryRestartState, IHistoryQueries, IHistoryAggregates, IFeedbackStore, ICounterfactualStore, IAlertPatternStore, IDriftStore, IAnalysisStore, IHistoryRetention;
