using System.Diagnostics;
using Microsoft.Data.Sqlite;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using TSViz.Tests.Shared;
using static TSViz.Plugins.Tests.History.HistoryTestData;

namespace TSViz.Plugins.Tests.History.Sqlite;

/// <summary>A history file that cannot be used, and a write lock held by another connection.</summary>
public sealed class SqliteHistoryStoreFaultTests
{
    [Fact]
    public async Task Initialize_FileOfRandomBytes_ThrowsOneLineNamingTheFileAndTheFix()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        var bytes = new byte[64 * 1024];
        new Random(13).NextBytes(bytes);
        await File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<HistoryStoreException>(() => new SqliteHistoryStore(path).InitializeAsync(CancellationToken.None));

        Assert.Equal($"history file '{path}' is not a readable SQLite database (file is not a database): move it aside or set History:Path to another file", error.Message);
        Assert.Equal(SQLitePCL.raw.SQLITE_NOTADB, Assert.IsType<SqliteException>(error.InnerException).SqliteErrorCode);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path)); // left as it was, for the operator to look at
    }

    [Fact]
    public async Task Initialize_PathIsADirectory_ThrowsNamingTheFile()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        Directory.CreateDirectory(path);

        var error = await Assert.ThrowsAsync<HistoryStoreException>(() => new SqliteHistoryStore(path).InitializeAsync(CancellationToken.None));

        Assert.Equal($"history file '{path}' cannot be opened for reading and writing (unable to open database file): make it a file the monitor may read and write, or set History:Path to another file", error.Message);
    }

    [Fact]
    public async Task WriteBatch_AnotherConnectionHoldsTheWriteLock_FailsAfterTheBusyTimeoutAndWritesNothing()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        var store = new SqliteHistoryStore(path, TimeSpan.FromSeconds(1));
        await store.InitializeAsync(CancellationToken.None);
        var batch = new HistoryBatch { Windows = [Window("m1", 0, 0.9f)], Checkpoints = [Checkpoint("m1", 4, 1f)] };

        await using var holder = new SqliteConnection($"Data Source={path};Pooling=False");
        await holder.OpenAsync();
        await using (var begin = holder.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE;";
            await begin.ExecuteNonQueryAsync();
        }

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<SqliteException>(() => store.WriteBatchAsync(batch, CancellationToken.None));
        clock.Stop();
        Assert.Contains(error.SqliteErrorCode, new[] { SQLitePCL.raw.SQLITE_BUSY, SQLitePCL.raw.SQLITE_LOCKED });
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.5), $"failed after {clock.Elapsed}, without waiting for the lock");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"waited {clock.Elapsed}, not about the 1 s busy timeout");

        await using (var rollback = holder.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK;";
            await rollback.ExecuteNonQueryAsync();
        }

        Assert.Empty((await store.QueryWindowsAsync(new WindowQuery(), CancellationToken.None)).Items);
        Assert.Empty(await store.LoadCheckpointsAsync(CancellationToken.None));
        Assert.Equal(1, await store.WriteBatchAsync(batch, CancellationToken.None)); // the lock gone, the same batch goes through
        Assert.Single(await store.LoadCheckpointsAsync(CancellationToken.None));
    }

    [Fact]
    public void Constructor_BusyTimeoutNotPositive_IsRefused()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new SqliteHistoryStore("history.db", TimeSpan.Zero));
}
