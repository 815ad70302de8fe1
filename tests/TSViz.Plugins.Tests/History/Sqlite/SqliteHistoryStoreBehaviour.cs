using Microsoft.Data.Sqlite;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using Xunit.Abstractions;

namespace TSViz.Plugins.Tests.History.Sqlite;

/// <summary>The history contracts' behaviour (<see cref="HistoryStoreBehaviourTests"/>) on real SQLite files in a temp folder.</summary>
public sealed class SqliteHistoryStoreBehaviour(ITestOutputHelper output) : HistoryStoreBehaviourTests(output)
{
    /// <inheritdoc/>
    protected override Type StorageErrorType => typeof(SqliteException);

    /// <inheritdoc/>
    protected override async Task<IHistoryStore> NewStore() => await SqliteHistoryStoreTests.NewStore();

    /// <inheritdoc/>
    protected override async Task<long?> CheckpointUpdatedAtAsync(IHistoryStore store, string machine)
    {
        await using var connection = new SqliteConnection($"Data Source={((SqliteHistoryStore)store).Path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT updated_at FROM machine_checkpoints WHERE machine = $m;";
        command.Parameters.AddWithValue("$m", machine);
        return await command.ExecuteScalarAsync() is long ms ? ms : null;
    }

    /// <inheritdoc/>
    protected override async Task PoisonCheckpointsAsync(IHistoryStore store)
    {
        await using var connection = new SqliteConnection($"Data Source={((SqliteHistoryStore)store).Path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE TRIGGER poison AFTER INSERT ON machine_checkpoints WHEN NEW.machine = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END;";
        await command.ExecuteNonQueryAsync();
    }
}
