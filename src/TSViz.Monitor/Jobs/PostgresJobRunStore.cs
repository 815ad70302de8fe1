using Npgsql;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// job_runs in the cluster's PostgreSQL (History:Provider postgres), shared by every node: a run recorded by one node is
/// the last run every node reports. The table is created at start under an advisory lock, so nodes starting together
/// do not race on it; Quartz provisions its own tables.
/// </summary>
internal sealed class PostgresJobRunStore(NpgsqlDataSource database) : IJobRunStore
{
    /// <summary>The advisory lock key nodes take while creating job_runs (any constant the history's own lock is not).</summary>
    private const long SchemaLock = 0x7473_7669_7a6a_6f62; // "tsvizjob"

    public bool Shared => true;

    public async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SchemaLock});", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var create = new NpgsqlCommand(QuartzSchema.JobRunsPostgres, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<JobRun?> LastAsync(string job, bool success, CancellationToken cancellationToken)
    {
        await using var command = Command(JobRunSql.Last('@', success), [("job", job)]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? JobRunSql.Read(reader, job) : null;
    }

    public async Task InsertAsync(JobRun run, CancellationToken cancellationToken)
    {
        await using var command = Command(JobRunSql.Insert('@'), JobRunSql.Values(run));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> DeleteBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var command = Command(JobRunSql.DeleteBefore('@'), [("cutoff", cutoff.ToUnixTimeMilliseconds())]);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private NpgsqlCommand Command(string sql, IEnumerable<(string Name, object Value)> values)
    {
        var command = database.CreateCommand(sql);
        foreach (var (name, value) in values)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }
}
