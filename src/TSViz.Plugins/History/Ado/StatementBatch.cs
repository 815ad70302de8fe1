using System.Data;
using System.Data.Common;

namespace TSViz.Plugins.History.Ado;

/// <summary>
/// Statements of one transaction. With a provider that batches (<see cref="DbConnection.CanCreateBatch"/>: Npgsql) they
/// go to the server together, in one round trip, when <see cref="ExecuteAsync"/> runs; otherwise (SQLite, in process)
/// each runs as it is added, and the prepared command of a statement is kept for the next one of the same SQL.
/// </summary>
internal sealed class StatementBatch(DbConnection connection, DbTransaction transaction) : IAsyncDisposable
{
    private readonly DbBatch? batch = connection.CanCreateBatch ? connection.CreateBatch() : null;
    private readonly Dictionary<string, DbCommand> commands = new(StringComparer.Ordinal);

    /// <summary>Adds (or, without batching, runs) <paramref name="sql"/> with the parameters <paramref name="bind"/> adds.</summary>
    public async Task AddAsync(string sql, Action<StatementParameters> bind, CancellationToken cancellationToken)
    {
        if (batch is not null)
        {
            var statement = batch.CreateBatchCommand();
            statement.CommandText = sql;
            bind(new StatementParameters(statement.Parameters, statement.CreateParameter));
            batch.BatchCommands.Add(statement);
            return;
        }

        if (!commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            commands[sql] = command;
        }

        command.Parameters.Clear();
        bind(new StatementParameters(command.Parameters, command.CreateParameter));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs the statements added (batching); every one's error surfaces here, before the caller commits.</summary>
    public async Task ExecuteAsync(CancellationToken cancellationToken)
    {
        if (batch is { BatchCommands.Count: > 0 })
        {
            batch.Transaction = transaction;
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var command in commands.Values)
        {
            await command.DisposeAsync().ConfigureAwait(false);
        }

        if (batch is not null)
        {
            await batch.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Where a statement's parameters go (a command's or a batch command's).</summary>
internal readonly struct StatementParameters(DbParameterCollection parameters, Func<DbParameter> create)
{
    /// <summary>Binds <paramref name="value"/> as <paramref name="type"/> (null as a NULL of that type), written @name in the SQL.</summary>
    public void Add(string name, object? value, DbType type) => parameters.Add(DbCommandExtensions.New(create(), name, value, type));
}
