using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using TSViz.Plugins.History.Ado;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>
/// Connections to the history file: the one place its connection string is made (the store's own and the one the
/// Quartz job store and job-run log share the file with), and every store connection opened with the busy timeout
/// and synchronous=NORMAL (safe in WAL mode).
/// </summary>
public sealed class SqliteConnectionFactory : IHistoryConnections
{
    /// <summary>
    /// The page size of a new history file. Each transaction rewrites the leaf pages it touches (the windows table and
    /// its time-keyed indexes have one insertion point per machine), and SQLite writes each page
    /// to the write-ahead log with two system calls and again to the file at the checkpoint: 16 KiB pages halve the
    /// pages written per window against SQLite's default of 4 KiB. A file created before keeps its page size.
    /// </summary>
    public const int NewFilePageSize = 16 * 1024;

    /// <summary>The write-ahead log is checkpointed into the file once it holds this much (PRAGMA wal_autocheckpoint, in pages of the file's size).</summary>
    public const int CheckpointBytes = 32 * 1024 * 1024;

    private readonly int busyTimeoutMilliseconds;
    private int checkpointPages = CheckpointBytes / 4096;

    /// <summary>Connections whose statements wait up to <paramref name="busyTimeout"/> for a lock held by another connection, then fail (SQLITE_BUSY).</summary>
    public SqliteConnectionFactory(string path, TimeSpan busyTimeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(busyTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(busyTimeout, TimeSpan.FromDays(1));
        Path = System.IO.Path.GetFullPath(path);
        BusyTimeout = busyTimeout;
        busyTimeoutMilliseconds = (int)Math.Ceiling(busyTimeout.TotalMilliseconds);
        ConnectionString = ConnectionStringOf(Path, busyTimeout);
    }

    /// <summary>The database file (full path).</summary>
    public string Path { get; }

    /// <summary>How long a statement waits for a lock held by another connection.</summary>
    public TimeSpan BusyTimeout { get; }

    /// <summary>The connection string of this file.</summary>
    public string ConnectionString { get; }

    /// <summary>
    /// The connection string of the history file at <paramref name="path"/>: read-write (created when missing), pooled,
    /// and Microsoft.Data.Sqlite retrying a busy statement for <paramref name="busyTimeout"/> in whole seconds (0 would
    /// mean forever, so at least 1). Store connections also set SQLite's own busy handler to the millisecond.
    /// </summary>
    public static string ConnectionStringOf(string path, TimeSpan busyTimeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new SqliteConnectionStringBuilder
        {
            DataSource = System.IO.Path.GetFullPath(path),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
        }.ToString();
    }

    /// <inheritdoc/>
    HistoryDialect IHistoryConnections.Dialect => HistoryDialect.Sqlite;

    /// <inheritdoc/>
    async ValueTask<DbConnection> IHistoryConnections.OpenConnectionAsync(CancellationToken cancellationToken)
        => await OpenAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>An open connection with the busy timeout set (PRAGMA busy_timeout) and synchronous=NORMAL.</summary>
    internal async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, null, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout={busyTimeoutMilliseconds}; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384; PRAGMA wal_autocheckpoint={Volatile.Read(ref checkpointPages)};"), cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sizes the checkpoint interval for the file's page size (read when the schema is initialised).</summary>
    internal void UsePageSize(long pageSize) => Volatile.Write(ref checkpointPages, (int)Math.Max(1, CheckpointBytes / Math.Max(512, pageSize)));

    /// <summary>Drops the pooled handles on this file (after a failure, so none outlives it).</summary>
    internal void ClearPool()
    {
        using var pooled = new SqliteConnection(ConnectionString);
        SqliteConnection.ClearPool(pooled);
    }

    internal static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
