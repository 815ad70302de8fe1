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
}
