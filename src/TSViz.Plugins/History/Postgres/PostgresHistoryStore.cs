using TSViz.Plugins.History.Ado;

namespace TSViz.Plugins.History.Postgres;

/// <summary>
/// The history in a PostgreSQL database, through <see cref="DbHistoryStore"/> in PostgreSQL's dialect over one pooled
/// Npgsql data source: the tables of the SQLite store column for column (history_schema_postgres.sql), contributions
/// and top filters as jsonb, blobs as bytea. Disposing it closes its pooled connections.
/// </summary>
public sealed class PostgresHistoryStore : DbHistoryStore, IAsyncDisposable, IDisposable
{
    private readonly PostgresConnectionFactory connections;

    /// <summary>A store in the database <paramref name="connectionString"/> names (an Npgsql connection string).</summary>
    public PostgresHistoryStore(string connectionString)
        : this(connectionString, TimeProvider.System)
    {
    }

    /// <summary>A store whose schema records its creation time from <paramref name="time"/>.</summary>
    public PostgresHistoryStore(string connectionString, TimeProvider time)
        : this(time is null ? throw new ArgumentNullException(nameof(time)) : new PostgresConnectionFactory(connectionString), time)
    {
    }

    private PostgresHistoryStore(PostgresConnectionFactory connections, TimeProvider time)
        : base(connections, new PostgresHistorySchema(connections, time))
    {
        this.connections = connections;
    }

    /// <summary>The database's name.</summary>
    public string Database => connections.Database;

    /// <summary>Closes the store's pooled connections.</summary>
    public void Dispose() => connections.Dispose();

    /// <summary>Closes the store's pooled connections.</summary>
    public ValueTask DisposeAsync() => connections.DisposeAsync();
}
