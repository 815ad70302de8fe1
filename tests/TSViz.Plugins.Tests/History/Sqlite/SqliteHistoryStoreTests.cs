using Microsoft.Data.Sqlite;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using TSViz.Tests.Shared;
using static TSViz.Plugins.Tests.History.HistoryTestData;

namespace TSViz.Plugins.Tests.History.Sqlite;

/// <summary>
/// What only the SQLite history has, on real files in a temp folder (the contracts' behaviour, shared with PostgreSQL,
/// is <see cref="SqliteHistoryStoreBehaviour"/>).
/// </summary>
public sealed class SqliteHistoryStoreTests
{
    internal static async Task<SqliteHistoryStore> NewStore()
    {
        var store = new SqliteHistoryStore(Path.Combine(RepositoryPaths.NewTempDirectory(), "sub", "history.db"));
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    [Fact]
    public async Task Initialize_NewFileInAFolderToCreate_WalModeSoReadersNeverBlockTheWriter()
    {
        var store = await NewStore();
        Assert.Equal(2, await store.WriteWindowsAsync([Window("m1", 0, 0.9f, detail: true, alert: "a1"), Window("m1", 1, 0.1f)], CancellationToken.None));

        // WAL mode, so the live writer and the API's readers do not block each other.
        await using var connection = new SqliteConnection($"Data Source={store.Path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Connections_KeepA16MiBPageCache_AndCheckpointEvery8000Pages()
    {
        // Measured with bench --only history: SQLite's 2 MiB default cache and 1,000-page checkpoints cost the live
        // writer a third of its rate (every page read back from the file, every page written twice).
        var factory = new SqliteConnectionFactory(Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"), TimeSpan.FromSeconds(5));
        await using var connection = await factory.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA cache_size;";
        Assert.Equal(-16384L, (long)(await command.ExecuteScalarAsync())!);
        command.CommandText = "PRAGMA wal_autocheckpoint;";
        Assert.Equal(8000L, (long)(await command.ExecuteScalarAsync())!);
    }
}
