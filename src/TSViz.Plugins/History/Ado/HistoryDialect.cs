using System.Globalization;
using System.Data;
using System.Data.Common;
using TSViz.Plugins.History.Postgres;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Plugins.History.Ado;

/// <summary>
/// What differs between the databases the history is kept in, and nothing else. Every statement of the history's parts
/// (<see cref="DbHistoryStore"/>) is written once over System.Data.Common with @name parameters (both providers bind
/// them) and asks its dialect for the pieces that differ: how a JSON column is read, written and expanded, how text is
/// compared in byte order, how a flag is kept and read, how an integer and a blob are read, how a list of ids is bound,
/// how a micro-batch of windows is inserted, and the schema script.
/// </summary>
internal abstract class HistoryDialect
{
    private readonly Lazy<string> script;

    /// <summary>A dialect whose schema is the embedded resource <paramref name="scriptName"/>.</summary>
    protected HistoryDialect(string scriptName)
    {
        ScriptName = scriptName;
        script = new(() =>
        {
            using var stream = typeof(HistoryDialect).Assembly.GetManifestResourceStream(scriptName)
                ?? throw new InvalidOperationException($"The resource {scriptName} is not in {typeof(HistoryDialect).Assembly.GetName().Name}.");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        });
    }

    /// <summary>
    /// The lowest score the windows' score index holds (ix_windows_high_score in both schema scripts). A window of a
    /// healthy machine scores far below it, so the live writer does not add an index entry, at a random place in the
    /// index, for nearly every window; the queries that look for anomalous windows (a minimum score at or above it)
    /// still find them through the index. A query with a lower minimum reads the time index instead.
    /// </summary>
    public const double HighScore = 0.5;

    /// <summary>The index's condition on <paramref name="column"/>, as written in the schema scripts (the planners match it as text).</summary>
    public static string HighScoreCondition(string column) => string.Create(CultureInfo.InvariantCulture, $"{column} >= {HighScore}");

    /// <summary>SQLite (<see cref="SqliteHistoryDialect"/>).</summary>
    public static HistoryDialect Sqlite { get; } = new SqliteHistoryDialect();

    /// <summary>PostgreSQL (<see cref="PostgresHistoryDialect"/>).</summary>
    public static HistoryDialect Postgres { get; } = new PostgresHistoryDialect();

    /// <summary>The embedded schema script's resource name.</summary>
    public string ScriptName { get; }

    /// <summary>The history's DDL (every statement guarded, so it runs at every start).</summary>
    public string SchemaSql => script.Value;

    /// <summary>The SQL literal of a set flag.</summary>
    public abstract string True { get; }

    /// <summary>The SQL literal of a cleared flag.</summary>
    public abstract string False { get; }

    /// <summary>A flag as a parameter's value.</summary>
    public abstract object Flag(bool value);

    /// <summary>Reads a flag column.</summary>
    public abstract bool ReadFlag(DbDataReader reader, int ordinal);

    /// <summary>Reads an integer column of any width (a key, a time in Unix milliseconds, a count).</summary>
    public abstract long ReadInt64(DbDataReader reader, int ordinal);

    /// <summary>Reads a blob column.</summary>
    public abstract byte[] ReadBlob(DbDataReader reader, int ordinal);

    /// <summary>A JSON column as text, for reading back.</summary>
    public abstract string JsonColumn(string column);

    /// <summary>A JSON parameter (given as text) as the column's type, for writing.</summary>
    public abstract string JsonValue(string parameter);

    /// <summary>The rows (key, value) of a JSON object column, joinable after CROSS JOIN.</summary>
    public abstract string JsonObjectEntries(string column);

    /// <summary>The rows (value) of a JSON array column, joinable after CROSS JOIN.</summary>
    public abstract string JsonArrayElements(string column);

    /// <summary>The number a JSON value (of <see cref="JsonObjectEntries"/>) holds.</summary>
    public abstract string JsonNumber(string value);

    /// <summary>The text of a key of a JSON object value (of <see cref="JsonArrayElements"/>).</summary>
    public abstract string JsonText(string value, string key);

    /// <summary>The integer of a key of a JSON object value (of <see cref="JsonArrayElements"/>).</summary>
    public abstract string JsonInteger(string value, string key);

    /// <summary>Text that groups and sorts in byte order (as SQLite compares text), whatever the database's locale.</summary>
    public abstract string ByteOrder(string expression);

    /// <summary>The statement that returns (as id) which of the ids bound by <see cref="BindIds"/> as @ids are stored windows, by primary-key probes.</summary>
    public abstract string ExistingWindowIdsSql { get; }

    /// <summary>Binds a list of ids as the parameter <paramref name="name"/>.</summary>
    public abstract void BindIds(DbCommand command, string name, IReadOnlyList<string> ids);

    /// <summary>
    /// Inserts window records and, for each one that was new, its detail, in the caller's transaction; a record whose id
    /// is stored (or came earlier in the same list) is skipped. Returns how many were new.
    /// </summary>
    public abstract Task<int> InsertWindowsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken);
}
