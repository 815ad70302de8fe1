using TSViz.Plugins.History.Ado;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>
/// The history in one SQLite file (WAL mode, so readers never block the live writer), through
/// <see cref="DbHistoryStore"/> in SQLite's dialect over one <see cref="SqliteConnectionFactory"/>.
/// </summary>
public sealed class SqliteHistoryStore : DbHistoryStore
{
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
        : this(time is null ? throw new ArgumentNullException(nameof(time)) : new SqliteConnectionFactory(path, busyTimeout), time)
    {
    }

    private SqliteHistoryStore(SqliteConnectionFactory connections, TimeProvider time)
        : base(connections, new SqliteHistorySchema(connections, time))
    {
        Connections = connections;
    }

    /// <summary>The file and its connections.</summary>
    public SqliteConnectionFactory Connections { get; }

    /// <summary>The database file.</summary>
    public string Path => Connections.Path;

    /// <summary>How long a statement waits for a lock held by another connection.</summary>
    public TimeSpan BusyTimeout => Connections.BusyTimeout;

    /// <summary>The connection string.</summary>
    public string ConnectionString => Connections.ConnectionString;
}
