using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Postgres;
using TSViz.Plugins.History.Sqlite;
using TSViz.Plugins.Tests.History.Sqlite;
using TSViz.Tests.Shared;
using static TSViz.Plugins.Tests.History.HistoryTestData;

namespace TSViz.Plugins.Tests.History.Postgres;

/// <summary>
/// What only the PostgreSQL history has, on the real server of <see cref="PostgresServer"/>: its tables beside SQLite's,
/// the same cursors, concurrent starts, and a database that cannot be used, named with its fix.
/// </summary>
[Collection(SharedPostgresServer.Name)]
public sealed class PostgresHistoryStoreTests(PostgresServer server)
{
    private static async Task<List<string>> Read(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static async Task<List<string>> ReadSqlite(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static string Text((List<string> Ids, string? Cursor) page) => string.Join(' ', page.Ids) + " | " + page.Cursor;

    private async Task<(PostgresHistoryStore Store, NpgsqlConnection Connection)> NewStore()
    {
        string connectionString = await server.CreateDatabaseAsync();
        var store = new PostgresHistoryStore(connectionString);
        await store.InitializeAsync(CancellationToken.None);
        var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync();
        return (store, connection);
    }

    [Fact]
    public async Task Initialize_DatabaseOfSchema7_TradesTheIndexOfEveryScoreForTheIndexOfHighScores()
    {
        var (store, connection) = await NewStore();
        await using var _ = store;
        await using var __ = connection;
        // A version-7 database: the score index of every window, no index of high scores.
        await using (var downgrade = new NpgsqlCommand("DROP INDEX ix_windows_high_score; CREATE INDEX ix_windows_score ON windows (score) WHERE score IS NOT NULL;", connection))
        {
            await downgrade.ExecuteNonQueryAsync();
        }

        await using var upgraded = new PostgresHistoryStore(connection.ConnectionString);
        await upgraded.InitializeAsync(CancellationToken.None);

        Assert.Equal(["ix_windows_high_score"], await Read(connection, "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'ix_windows_%score' ORDER BY indexname;"));
        Assert.Equal(["CREATE INDEX ix_windows_high_score ON windows USING btree (score) WHERE (score >= (0.5)::double precision)"],
            await Read(connection, "SELECT regexp_replace(indexdef, ' ON \\S+\\.windows', ' ON windows') FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'ix_windows_high_score';"));
    }

    [Fact]
    public async Task Initialize_NewDatabase_TheTablesColumnsAndIndexesOfTheSqliteStore_SchemaVersion8()
    {
        var (store, connection) = await NewStore();
        await using var _ = store;
        await using var __ = connection;
        var sqlite = await SqliteHistoryStoreTests.NewStore();

        var pgColumns = await Read(connection, """
            SELECT table_name || '.' || column_name FROM information_schema.columns
            WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position;
            """);
        var sqliteColumns = await ReadSqlite(sqlite.Path, """
            SELECT m.name || '.' || c.name FROM sqlite_master m, pragma_table_info(m.name) c
            WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, c.cid;
            """);
        Assert.Equal(sqliteColumns, pgColumns);

        var pgIndexes = await Read(connection, "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'ix_%' ORDER BY indexname;");
        var sqliteIndexes = await ReadSqlite(sqlite.Path, "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%' ORDER BY name;");
        Assert.Equal(sqliteIndexes, pgIndexes);
        Assert.Equal(["8"], await Read(connection, "SELECT version::text FROM schema_info;"));
        Assert.Equal(
            ["windows.contributions jsonb", "windows.top_filters jsonb", "windows.drift bytea", "window_details.explanation bytea", "window_details.input bytea",
                "alerts.contributions jsonb", "alerts.top_filters jsonb", "alerts.signature bytea", "machine_checkpoints.state bytea"],
            await Read(connection, """
                SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns
                WHERE table_schema = current_schema() AND data_type IN ('jsonb', 'bytea')
                ORDER BY array_position(ARRAY['windows', 'window_details', 'alerts', 'machine_checkpoints']::text[], table_name::text), ordinal_position;
                """));
    }

    [Fact]
    public async Task Initialize_FourStoresAtOnceOnOneNewDatabase_AllSucceedAndOneVersionRow()
    {
        string connectionString = await server.CreateDatabaseAsync();
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresHistoryStore(connectionString)).ToList();

        await Task.WhenAll(stores.Select(s => s.InitializeAsync(CancellationToken.None)));

        Assert.Equal(1, await stores[3].WriteWindowsAsync([Window("m1", 0, 0.5f)], CancellationToken.None));
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync();
        Assert.Equal(["8"], await Read(connection, "SELECT version::text FROM schema_info;"));
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }
    }

    [Fact]
    public async Task QueryWindowsAndAlerts_TheSameRowsAsInSqlite_TheSamePagesAndCursors()
    {
        var (pg, connection) = await NewStore();
        await using var _ = pg;
        await using var __ = connection;
        var sqlite = await SqliteHistoryStoreTests.NewStore();
        // Several windows per end time, so the id breaks ties within a page and across pages.
        var windows = Enumerable.Range(0, 30).Select(i => Window($"m{i % 3}", i / 3, i / 30f, detail: i % 7 == 0)).ToList();
        var alerts = Enumerable.Range(0, 9).Select(i => Alert($"m{i % 3}", i / 3 * 60, [1, 0, 0, 0, 0, i])).ToList();
        foreach (IHistoryStore store in new IHistoryStore[] { pg, sqlite })
        {
            await store.WriteBatchAsync(new HistoryBatch { Windows = windows, Alerts = alerts }, CancellationToken.None);
        }

        static async Task<List<(List<string> Ids, string? Cursor)>> WindowPages(IHistoryStore store)
        {
            var pages = new List<(List<string>, string?)>();
            string? cursor = null;
            do
            {
                var page = await store.QueryWindowsAsync(new WindowQuery { Limit = 4, MinScore = 0.1, Cursor = cursor }, CancellationToken.None);
                pages.Add((page.Items.Select(w => w.Id).ToList(), page.NextCursor));
                cursor = page.NextCursor;
            }
            while (cursor is not null);
            return pages;
        }

        static async Task<List<(List<string> Ids, string? Cursor)>> AlertPages(IHistoryStore store)
        {
            var pages = new List<(List<string>, string?)>();
            string? cursor = null;
            do
            {
                var page = await store.QueryAlertsAsync(new AlertQuery { Limit = 2, Cursor = cursor }, CancellationToken.None);
                pages.Add((page.Items.Select(a => a.Id).ToList(), page.NextCursor));
                cursor = page.NextCursor;
            }
            while (cursor is not null);
            return pages;
        }

        // Each page as "its ids | its next cursor".
        var pgPages = await WindowPages(pg);
        Assert.True(pgPages.Count > 5);
        Assert.Equal((await WindowPages(sqlite)).Select(Text), pgPages.Select(Text));
        Assert.Equal((await AlertPages(sqlite)).Select(Text), (await AlertPages(pg)).Select(Text));

        // A cursor one store gave out pages the other the same way.
        var fromSqlite = await sqlite.QueryWindowsAsync(new WindowQuery { Limit = 5 }, CancellationToken.None);
        var next = await pg.QueryWindowsAsync(new WindowQuery { Limit = 5, Cursor = fromSqlite.NextCursor }, CancellationToken.None);
        Assert.Equal(
            (await sqlite.QueryWindowsAsync(new WindowQuery { Limit = 5, Cursor = fromSqlite.NextCursor }, CancellationToken.None)).Items.Select(w => w.Id),
            next.Items.Select(w => w.Id));
        Assert.Equal(
            await sqlite.TopFilterFrequencyAsync(T0, T0.AddHours(1), null, 10, CancellationToken.None),
            await pg.TopFilterFrequencyAsync(T0, T0.AddHours(1), null, 10, CancellationToken.None));
        Assert.Equal(
            await sqlite.ChannelContributionOverTimeAsync("m1", T0, T0.AddHours(1), TimeSpan.FromSeconds(3), CancellationToken.None),
            await pg.ChannelContributionOverTimeAsync("m1", T0, T0.AddHours(1), TimeSpan.FromSeconds(3), CancellationToken.None));
    }

    [Fact]
    public async Task Initialize_NoServerOnThePort_ThrowsOneLineNamingTheServerAndTheFix()
    {
        int port = Loopback.FreePort();
        await using var store = new PostgresHistoryStore($"Host=127.0.0.1;Port={port};Username=tsviz;Password=secret-pw;Database=history;Timeout=5");

        var error = await Assert.ThrowsAsync<HistoryStoreException>(() => store.InitializeAsync(CancellationToken.None));

        Assert.StartsWith($"history database server 127.0.0.1:{port} cannot be reached (", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("): start it, or correct Host and Port of the history connection string", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain("secret-pw", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<NpgsqlException>(error.InnerException);
        Assert.Equal($"127.0.0.1:{port}/history", store.Location);
    }

    [Fact]
    public async Task Initialize_DatabaseMissing_ThrowsNamingItAndCreatedb()
    {
        string database = $"missing_{Guid.NewGuid():N}";
        await using var store = new PostgresHistoryStore(server.ConnectionString(database));

        var error = await Assert.ThrowsAsync<HistoryStoreException>(() => store.InitializeAsync(CancellationToken.None));

        Assert.Equal(
            $"history database 127.0.0.1:{server.Port}/{database} does not exist (database \"{database}\" does not exist): create it (createdb {database}) or name another Database in the history connection string",
            error.Message);
        Assert.Equal(PostgresErrorCodes.InvalidCatalogName, Assert.IsType<PostgresException>(error.InnerException).SqlState);
    }

    [Fact]
    public async Task Initialize_AWindowsTableOfAnotherShape_ThrowsAndCreatesNothing()
    {
        string connectionString = await server.CreateDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using (var command = new NpgsqlCommand("CREATE TABLE windows (id integer PRIMARY KEY, payload text);", connection))
        {
            await command.ExecuteNonQueryAsync();
        }

        await using var store = new PostgresHistoryStore(connectionString);
        var error = await Assert.ThrowsAsync<HistoryStoreException>(() => store.InitializeAsync(CancellationToken.None));

        Assert.StartsWith($"history database {store.Location} holds tables this monitor cannot use (42703: column \"machine\" does not exist)", error.Message, StringComparison.Ordinal);
        Assert.Equal([string.Empty], await Read(connection, "SELECT COALESCE(to_regclass('schema_info')::text, '');")); // the whole script is one transaction
    }

    [Fact]
    public void AddPostgresHistory_EveryContract_OneStoreOfTheConnectionString()
    {
        var services = new ServiceCollection();
        services.AddPostgresHistory(_ => "Host=db.plant.local;Port=5433;Username=tsviz;Password=pw;Database=history");

        var factory = Assert.Single(services, d => d.ServiceType == typeof(PostgresHistoryStore));
        Assert.Equal(ServiceLifetime.Singleton, factory.Lifetime);
        using var store = Assert.IsType<PostgresHistoryStore>(factory.ImplementationFactory!(new NoServices()));
        Assert.Equal("db.plant.local:5433/history", store.Location);
        Type[] contracts = [typeof(IHistoryStore), typeof(IHistorySchema), typeof(IHistoryWriter), typeof(IHistoryRestartState), typeof(IHistoryQueries),
            typeof(IHistoryAggregates), typeof(IFeedbackStore), typeof(IAnalysisStore), typeof(IHistoryRetention)];
        Assert.All(contracts, c => Assert.Equal(ServiceLifetime.Singleton, Assert.Single(services, d => d.ServiceType == c).Lifetime));
    }

    private sealed class NoServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
