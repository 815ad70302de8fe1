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
    public async Task Connections_KeepA16MiBPageCache_AndCheckpointEvery32MiB()
    {
        // Measured with bench --only history: SQLite's 2 MiB default cache and 1,000-page checkpoints cost the live
        // writer a third of its rate (every page read back from the file, every page written twice).
        var factory = new SqliteConnectionFactory(Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"), TimeSpan.FromSeconds(5));
        await using var connection = await factory.OpenAsync(CancellationToken.None);
        Assert.Equal(-16384L, await Pragma(connection, "cache_size"));
        Assert.Equal(32L * 1024 * 1024 / 4096, await Pragma(connection, "wal_autocheckpoint")); // before the file's page size is known: SQLite's default
    }

    [Theory]
    [InlineData(null, 16384L)] // a new file
    [InlineData(4096, 4096L)] // a file an earlier monitor made, with SQLite's default page size
    [InlineData(8192, 8192L)]
    public async Task Initialize_NewFileGets16KiBPages_AnExistingFileKeepsItsOwn_CheckpointsEvery32MiBOfThem(int? existingPageSize, long expected)
    {
        // 16 KiB pages halve the pages (and system calls) the live writer spends per window (bench --only history).
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        if (existingPageSize is { } size)
        {
            await using var existing = new SqliteConnection(SqliteConnectionFactory.ConnectionStringOf(path, TimeSpan.FromSeconds(5)));
            await existing.OpenAsync();
            await using var command = existing.CreateCommand();
            command.CommandText = $"PRAGMA page_size={size}; PRAGMA journal_mode=WAL; CREATE TABLE earlier(x);";
            await command.ExecuteNonQueryAsync();
        }

        var factory = new SqliteConnectionFactory(path, TimeSpan.FromSeconds(5));
        await new SqliteHistorySchema(factory, TimeProvider.System).InitializeAsync(CancellationToken.None);
        await using var connection = await factory.OpenAsync(CancellationToken.None);
        Assert.Equal(expected, await Pragma(connection, "page_size"));
        Assert.Equal(32L * 1024 * 1024 / expected, await Pragma(connection, "wal_autocheckpoint"));
        Assert.Equal("wal", (string?)await Scalar(connection, "PRAGMA journal_mode;"));
    }

    private static async Task<long> Pragma(SqliteConnection connection, string name) => (long)(await Scalar(connection, $"PRAGMA {name};"))!;

    private static async Task<object?> Scalar(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
