using Microsoft.Data.Sqlite;

namespace TSViz.Monitor.Jobs;

/// <summary>job_runs in the history's SQLite file, beside Quartz's tables (created together by <see cref="QuartzSchema"/>).</summary>
internal sealed class SqliteJobRunStore(string connectionString) : IJobRunStore
{
    public bool Shared => false;

    public Task EnsureSchemaAsync(CancellationToken cancellationToken) => QuartzSchema.EnsureAsync(connectionString, cancellationToken);

    public async Task<JobRun?> LastAsync(string job, bool success, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, JobRunSql.Last('$', success), [("job", job)]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? JobRunSql.Read(reader, job) : null;
    }

    public async Task InsertAsync(JobRun run, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, JobRunSql.Insert('$'), JobRunSql.Values(run));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> DeleteBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, JobRunSql.DeleteBefore('$'), [("cutoff", cutoff.ToUnixTimeMilliseconds())]);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, IEnumerable<(string Name, object Value)> values)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in values)
        {
            command.Parameters.AddWithValue("$" + name, value);
        }

        return command;
    }
}
