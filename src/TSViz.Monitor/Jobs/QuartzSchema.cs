using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// Creates the tables Quartz's AdoJobStore (4.7) reads and writes in SQLite, and the monitor's own job_runs table, all
/// in the history file, from the scripts embedded in the assembly (Jobs/Sql: quartz_tables_sqlite.sql, job_runs.sql).
/// Every statement is guarded (IF NOT EXISTS), so running them at each start is harmless; a Quartz table an older
/// Quartz.NET made, which IF NOT EXISTS would leave as it is, stops the start naming the columns it lacks.
/// </summary>
internal static partial class QuartzSchema
{
    /// <summary>The QRTZ_ tables, their delete triggers and indexes.</summary>
    public static string Tables { get; } = Script("quartz_tables_sqlite.sql");

    /// <summary>The monitor's record of every job run.</summary>
    public static string JobRuns { get; } = Script("job_runs.sql");

    /// <summary>The same table in PostgreSQL (Quartz provisions its own tables there).</summary>
    public static string JobRunsPostgres { get; } = Script("job_runs_postgres.sql");

    /// <summary>Creates the folder, switches the file to WAL (readers never block the writer) and creates the tables.</summary>
    public static async Task EnsureAsync(string connectionString, CancellationToken cancellationToken)
    {
        string? folder = Path.GetDirectoryName(new SqliteConnectionStringBuilder(connectionString).DataSource);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
        await CheckColumnsAsync(connection, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, Tables, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, JobRuns, cancellationToken).ConfigureAwait(false);
        // Who triggered a manual run (issue 14); job_runs tables made before it get the column here.
        await using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT COUNT(*) FROM pragma_table_info('job_runs') WHERE name = 'triggered_by';";
        if ((long)(await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 0)
        {
            await ExecuteAsync(connection, "ALTER TABLE job_runs ADD COLUMN triggered_by TEXT;", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// CREATE TABLE IF NOT EXISTS leaves a table that already exists as it is: one made by an older Quartz lacks
    /// columns 4.7 writes. Says which before anything is created (a table not there yet is created whole), instead
    /// of letting the scheduler fail on its first statement or an index fail on a missing column.
    /// </summary>
    private static async Task CheckColumnsAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM pragma_table_info($table);";
        var table = command.Parameters.Add(new SqliteParameter { ParameterName = "$table" });
        foreach (Match definition in TableDefinition().Matches(Tables))
        {
            string name = definition.Groups["table"].Value;
            var expected = ColumnDefinition().Matches(definition.Groups["body"].Value).Select(c => c.Groups["column"].Value)
                .Where(c => c is not ("PRIMARY" or "FOREIGN")).ToList();
            var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            table.Value = name;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    present.Add(reader.GetString(0));
                }
            }

            if (present.Count > 0)
            {
                missing.AddRange(expected.Where(c => !present.Contains(c)).Select(c => $"{name}.{c}"));
            }
        }

        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The Quartz tables in {connection.DataSource} were made by an older Quartz.NET and lack {string.Join(", ", missing)}: apply Quartz's migration scripts for SQLite (database/migrations in the Quartz.NET repository), or move the file aside to start a new history.");
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Script(string file)
    {
        string name = $"jobs/{file}";
        using var stream = typeof(QuartzSchema).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The resource {name} is not in the monitor's assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"CREATE TABLE IF NOT EXISTS (?<table>QRTZ_\w+) \((?<body>.*?)\);", RegexOptions.Singleline)]
    private static partial Regex TableDefinition();

    [GeneratedRegex(@"^\s+(?<column>[A-Z][A-Z0-9_]*) ", RegexOptions.Multiline)]
    private static partial Regex ColumnDefinition();
}
