using System.Globalization;
using Microsoft.Data.Sqlite;
using TSViz.Plugins.History.Ado;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>
/// Creates the history's tables from the embedded history_schema.sql, adds the columns of later versions to a file an
/// older monitor made, switches the file to WAL (readers never block the live writer), and turns a file SQLite
/// refuses into a <see cref="HistoryStoreException"/> naming it and the fix.
/// </summary>
internal sealed class SqliteHistorySchema(SqliteConnectionFactory connections, TimeProvider time) : IHistorySchema
{
    /// <summary>
    /// Version 2 added alerts.close_reason and machine_checkpoints, version 3 feedback.author_role and author_method,
    /// version 4 the alerts' faithfulness check, version 5 the counterfactuals table, version 6 alert_patterns, version 7
    /// windows.drift, drift_profiles and drift_events, version 8 the score index of high scores only.
    /// </summary>
    public const int Version = 8;

    /// <summary>Columns added since version 1: a table an older monitor created gets each that it lacks.</summary>
    private static readonly (string Table, string Column, string Sql)[] Migrations =
    [
        ("alerts", "close_reason", "ALTER TABLE alerts ADD COLUMN close_reason TEXT;"),
        // Version 3: feedback records how its author signed in (the author is the authenticated identity).
        ("feedback", "author_role", "ALTER TABLE feedback ADD COLUMN author_role TEXT;"),
        ("feedback", "author_method", "ALTER TABLE feedback ADD COLUMN author_method TEXT;"),
        // Version 4: the peak explanation's faithfulness check.
        ("alerts", "faithfulness_fraction", "ALTER TABLE alerts ADD COLUMN faithfulness_fraction REAL;"),
        ("alerts", "faithfulness_score", "ALTER TABLE alerts ADD COLUMN faithfulness_score REAL;"),
        ("alerts", "faithfulness_deletion", "ALTER TABLE alerts ADD COLUMN faithfulness_deletion REAL;"),
        ("alerts", "faithfulness_random", "ALTER TABLE alerts ADD COLUMN faithfulness_random REAL;"),
        ("alerts", "faithfulness_verdict", "ALTER TABLE alerts ADD COLUMN faithfulness_verdict TEXT;"),
        // Version 7: each window's drift features.
        ("windows", "drift", "ALTER TABLE windows ADD COLUMN drift BLOB;"),
    ];

    /// <summary>The history's DDL (every statement guarded, so it runs at every start).</summary>
    public static string Sql => HistoryDialect.Sqlite.SchemaSql;

    /// <summary>The database file.</summary>
    public string Location => connections.Path;

    /// <summary>
    /// Creates the schema if needed and migrates a file of an older schema. A file that is not a usable SQLite
    /// database (random bytes, a directory, no permission, held by another process) is a <see cref="HistoryStoreException"/>.
    /// </summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            string? folder = Path.GetDirectoryName(connections.Path);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }

            await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
            // The page size applies to a new, empty file only (before the journal mode writes its header); an existing file keeps its own.
            await SqliteConnectionFactory.ExecuteAsync(connection, null, string.Create(CultureInfo.InvariantCulture, $"PRAGMA page_size={SqliteConnectionFactory.NewFilePageSize}; PRAGMA journal_mode=WAL;"), cancellationToken).ConfigureAwait(false);
            await using (var pageSize = connection.CreateCommand())
            {
                pageSize.CommandText = "PRAGMA page_size;";
                connections.UsePageSize(Convert.ToInt64(await pageSize.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture));
            }

            // One transaction, so two monitors starting together do not both add a column.
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await SqliteConnectionFactory.ExecuteAsync(connection, transaction, Sql, cancellationToken).ConfigureAwait(false);
            await MigrateAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            await using var version = connection.CreateCommand();
            version.Transaction = transaction;
            version.CommandText = "INSERT OR IGNORE INTO schema_info(version, created_at) VALUES ($v, $t);";
            version.Parameters.AddWithValue("$v", Version);
            version.Parameters.AddWithValue("$t", time.GetUtcNow().ToUnixTimeMilliseconds());
            await version.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException e)
        {
            connections.ClearPool(); // no pooled handle on the bad file outlives the failure
            throw Unusable(e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HistoryStoreException(
                $"history file '{connections.Path}' cannot be created ({e.Message}): check the folder exists and the monitor may write it, or set History:Path to another file", e);
        }
    }

    private static async Task MigrateAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        await using var probe = connection.CreateCommand();
        probe.Transaction = transaction;
        probe.CommandText = "SELECT COUNT(*) FROM pragma_table_info($table) WHERE name = $column;";
        var table = probe.Parameters.Add(new SqliteParameter { ParameterName = "$table" });
        var column = probe.Parameters.Add(new SqliteParameter { ParameterName = "$column" });
        foreach (var migration in Migrations)
        {
            table.Value = migration.Table;
            column.Value = migration.Column;
            if ((long)(await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 0)
            {
                await SqliteConnectionFactory.ExecuteAsync(connection, transaction, migration.Sql, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The one-line message for a file SQLite refused: what is wrong, in SQLite's words, and the fix.</summary>
    private HistoryStoreException Unusable(SqliteException e)
    {
        string path = connections.Path;
        string reason = SQLitePCL.raw.sqlite3_errstr(e.SqliteErrorCode).utf8_to_string();
        string message = e.SqliteErrorCode switch
        {
            SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED =>
                $"history file '{path}' is locked by another process ({reason}): stop the other process using it or set History:Path to another file",
            SQLitePCL.raw.SQLITE_CANTOPEN or SQLitePCL.raw.SQLITE_PERM or SQLitePCL.raw.SQLITE_READONLY or SQLitePCL.raw.SQLITE_AUTH =>
                $"history file '{path}' cannot be opened for reading and writing ({reason}): make it a file the monitor may read and write, or set History:Path to another file",
            SQLitePCL.raw.SQLITE_FULL =>
                $"history file '{path}' cannot grow ({reason}): free disk space or set History:Path to another file",
            SQLitePCL.raw.SQLITE_ERROR =>
                $"history file '{path}' holds tables this monitor cannot use ({e.Message.ReplaceLineEndings(" ")}): move it aside or set History:Path to another file",
            _ =>
                $"history file '{path}' is not a readable SQLite database ({reason}): move it aside or set History:Path to another file",
        };
        return new HistoryStoreException(message, e);
    }
}
