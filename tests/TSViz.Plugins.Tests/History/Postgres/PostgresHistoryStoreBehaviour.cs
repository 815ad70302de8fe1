using Npgsql;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Postgres;
using TSViz.Tests.Shared;
using Xunit.Abstractions;

namespace TSViz.Plugins.Tests.History.Postgres;

/// <summary>
/// The history contracts' behaviour (<see cref="HistoryStoreBehaviourTests"/>) on a real PostgreSQL 15 the fixture
/// starts (<see cref="PostgresServer"/>), a new database for each test.
/// </summary>
[Collection(SharedPostgresServer.Name)]
public sealed class PostgresHistoryStoreBehaviour(PostgresServer server, ITestOutputHelper output) : HistoryStoreBehaviourTests(output), IDisposable
{
    private readonly List<PostgresHistoryStore> stores = [];

    /// <inheritdoc/>
    protected override Type StorageErrorType => typeof(PostgresException);

    /// <inheritdoc/>
    protected override async Task<IHistoryStore> NewStore()
    {
        var store = new PostgresHistoryStore(await server.CreateDatabaseAsync());
        stores.Add(store);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    /// <inheritdoc/>
    protected override async Task<long?> CheckpointUpdatedAtAsync(IHistoryStore store, string machine)
    {
        await using var connection = await OpenAsync(store);
        await using var command = new NpgsqlCommand("SELECT updated_at FROM machine_checkpoints WHERE machine = @m;", connection);
        command.Parameters.AddWithValue("m", machine);
        return await command.ExecuteScalarAsync() is long ms ? ms : null;
    }

    /// <inheritdoc/>
    protected override async Task PoisonCheckpointsAsync(IHistoryStore store)
    {
        await using var connection = await OpenAsync(store);
        await using var command = new NpgsqlCommand(
            """
            CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.machine = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER poison AFTER INSERT ON machine_checkpoints FOR EACH ROW EXECUTE FUNCTION poison();
            """,
            connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Closes every store's pooled connections (the server and its databases go with the fixture).</summary>
    public void Dispose()
    {
        foreach (var store in stores)
        {
            store.Dispose();
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(IHistoryStore store)
    {
        var connection = new NpgsqlConnection(server.ConnectionString(((PostgresHistoryStore)store).Database) + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }
}
