using Microsoft.Data.Sqlite;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using TSViz.Plugins.Windows;
using TSViz.Tests.Shared;
using static TSViz.Plugins.Tests.History.Sqlite.SqliteHistoryStoreTests;

namespace TSViz.Plugins.Tests.History.Sqlite;

/// <summary>The one-transaction batch, the checkpoints and the alert episodes a restarted monitor reads back, on real SQLite files.</summary>
public sealed class SqliteHistoryStoreRestartTests
{
    /// <summary>A partial window whose times are not whole milliseconds and whose values need every bit kept.</summary>
    internal static WindowCheckpoint Checkpoint(string machine, int samples, float seed, int sinceEmit = 3, long emitted = 7)
    {
        const int Channels = 3;
        var times = Enumerable.Range(0, samples).Select(i => T0.AddTicks((i * 1_000_0003L) + 1)).ToArray();
        var values = Enumerable.Range(0, samples * Channels).Select(i => seed + (i / 7f)).ToArray();
        if (values.Length > 2)
        {
            values[0] = BitConverter.Int32BitsToSingle(0x7FC0_1234); // a NaN with a payload
            values[1] = -0f;
            values[2] = float.Epsilon;
        }

        return new WindowCheckpoint(machine, times, values, sinceEmit, emitted);
    }

    internal static void AssertSame(WindowCheckpoint expected, WindowCheckpoint actual)
    {
        Assert.Equal(expected.Machine, actual.Machine);
        Assert.Equal(expected.Times.Select(t => (t.UtcTicks, t.Offset)), actual.Times.Select(t => (t.UtcTicks, t.Offset)));
        Assert.Equal(expected.Values.Select(BitConverter.SingleToInt32Bits), actual.Values.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expected.SinceEmit, actual.SinceEmit);
        Assert.Equal(expected.Emitted, actual.Emitted);
    }

    private static async Task<long?> UpdatedAt(SqliteHistoryStore store, string machine)
    {
        await using var connection = new SqliteConnection($"Data Source={store.Path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT updated_at FROM machine_checkpoints WHERE machine = $m;";
        command.Parameters.AddWithValue("$m", machine);
        return await command.ExecuteScalarAsync() is long ms ? ms : null;
    }

    [Fact]
    public async Task WriteBatch_WindowsAlertsAndCheckpoints_ReloadExactlyAndTheLatestCheckpointWins()
    {
        var store = await NewStore();
        var first = new HistoryBatch
        {
            Windows = [Window("m1", 0, 0.9f, detail: true, alert: "a1"), Window("m2", 0, 0.1f)],
            Alerts = [Alert("m1", 0, [1, 0, 0, 0, 0, 0], "open")],
            Checkpoints = [Checkpoint("m1", 5, 1f), Checkpoint("m2", 4, 2f), Checkpoint("m1", 6, 3f, sinceEmit: 1, emitted: 8)],
        };
        Assert.Equal(2, await store.WriteBatchAsync(first, CancellationToken.None));

        var loaded = await store.LoadCheckpointsAsync(CancellationToken.None);
        Assert.Equal(["m1", "m2"], loaded.Select(c => c.Machine));
        AssertSame(first.Checkpoints[2], loaded[0]); // of m1's two, the last in the list
        AssertSame(first.Checkpoints[1], loaded[1]);
        Assert.Equal(first.Checkpoints[2].Last!.Value.ToUnixTimeMilliseconds(), await UpdatedAt(store, "m1"));
        Assert.Equal("open", (await store.GetAlertAsync(first.Alerts[0].Id, CancellationToken.None))!.Status);
        Assert.Equal(2, (await store.QueryWindowsAsync(new WindowQuery(), CancellationToken.None)).Items.Count);

        // The next write: one redelivered window, one new; m1 moves on, m2 is evicted, m3 starts with an empty buffer.
        var second = new HistoryBatch
        {
            Windows = [first.Windows[0], Window("m1", 1, 0.2f, alert: "a1")],
            Alerts = [Alert("m1", 0, [1, 0, 0, 0, 0, 0], "closed")],
            Checkpoints = [Checkpoint("m1", 7, 4f, sinceEmit: 2, emitted: 9), new WindowCheckpoint("m3", [], [], 0, 0)],
            RemovedCheckpoints = ["m2", "never-seen"],
        };
        Assert.Equal(1, await store.WriteBatchAsync(second, CancellationToken.None));

        loaded = await store.LoadCheckpointsAsync(CancellationToken.None);
        Assert.Equal(["m1", "m3"], loaded.Select(c => c.Machine));
        AssertSame(second.Checkpoints[0], loaded[0]);
        AssertSame(second.Checkpoints[1], loaded[1]);
        Assert.Null(await UpdatedAt(store, "m3"));
        Assert.Equal("closed", (await store.GetAlertAsync(first.Alerts[0].Id, CancellationToken.None))!.Status);
        Assert.Equal(0, await store.WriteBatchAsync(new HistoryBatch(), CancellationToken.None));
    }

    [Fact]
    public async Task WriteBatch_FailsAtItsLastStatement_LeavesNothingWritten()
    {
        var store = await NewStore();
        var before = Checkpoint("m1", 5, 1f);
        await store.WriteBatchAsync(new HistoryBatch { Checkpoints = [before, Checkpoint("m2", 5, 2f)] }, CancellationToken.None);

        // A trigger stands in for any failure after everything else in the batch went through: the poisoned checkpoint
        // is the batch's last statement, after its windows, its alert, m2's removal and m1's new checkpoint.
        await using (var connection = new SqliteConnection($"Data Source={store.Path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "CREATE TRIGGER poison AFTER INSERT ON machine_checkpoints WHEN NEW.machine = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END;";
            await command.ExecuteNonQueryAsync();
        }

        var batch = new HistoryBatch
        {
            Windows = [Window("m1", 0, 0.9f, detail: true), Window("m1", 1, 0.9f)],
            Alerts = [Alert("m1", 0, [1, 0, 0, 0, 0, 0], "open")],
            Checkpoints = [Checkpoint("m1", 6, 9f), Checkpoint("poison", 2, 0f)],
            RemovedCheckpoints = ["m2"],
        };
        var error = await Assert.ThrowsAsync<SqliteException>(() => store.WriteBatchAsync(batch, CancellationToken.None));
        Assert.Contains("poisoned", error.Message, StringComparison.Ordinal);

        Assert.Empty((await store.QueryWindowsAsync(new WindowQuery(), CancellationToken.None)).Items);
        Assert.Empty((await store.QueryAlertsAsync(new AlertQuery(), CancellationToken.None)).Items);
        var loaded = await store.LoadCheckpointsAsync(CancellationToken.None);
        Assert.Equal(["m1", "m2"], loaded.Select(c => c.Machine));
        AssertSame(before, loaded[0]);
    }

    [Fact]
    public async Task WriteBatch_InconsistentCheckpoint_ThrowsBeforeWritingAnything()
    {
        var store = await NewStore();
        var batch = new HistoryBatch
        {
            Windows = [Window("m1", 0, 0.9f)],
            Checkpoints = [new WindowCheckpoint("m1", [T0, T0.AddSeconds(1)], [1f, 2f, 3f], 0, 0)], // 3 values for 2 samples
        };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.WriteBatchAsync(batch, CancellationToken.None));
        Assert.Contains("m1", error.Message, StringComparison.Ordinal);
        Assert.Empty((await store.QueryWindowsAsync(new WindowQuery(), CancellationToken.None)).Items);
        Assert.Empty(await store.LoadCheckpointsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task LatestAndOpenAlerts_AfterACrashLeftTwoOpen_NewestPerMachineAndEveryOpenOne()
    {
        var store = await NewStore();
        float[] sig = [1, 0, 0, 0, 0, 0];
        var m1Closed = Alert("m1", 0, sig) with { Episode = 1 };
        var m1Stale = Alert("m1", 100, sig, "open") with { Episode = 2 };
        var m1Live = Alert("m1", 200, sig, "open") with { Episode = 3 };
        var m2Idle = Alert("m2", 50, sig) with { Episode = 4, CloseReason = "machine_idle" };
        await store.WriteBatchAsync(new HistoryBatch { Alerts = [m1Live, m2Idle, m1Closed, m1Stale] }, CancellationToken.None);

        var latest = await store.LatestAlertsAsync(CancellationToken.None);
        Assert.Equal([(m1Live.Id, 3L, (string?)null), (m2Idle.Id, 4L, "machine_idle")], latest.Select(a => (a.Id, a.Episode, a.CloseReason)));
        var open = await store.OpenAlertsAsync(CancellationToken.None);
        Assert.Equal([m1Stale.Id, m1Live.Id], open.Select(a => a.Id));

        // What the monitor does at start: close all but the newest open episode of each machine.
        await store.WriteBatchAsync(new HistoryBatch { Alerts = [m1Stale with { Status = "closed", ClosedAt = T0.AddSeconds(300), CloseReason = "monitor_restarted" }] }, CancellationToken.None);
        Assert.Equal([m1Live.Id], (await store.OpenAlertsAsync(CancellationToken.None)).Select(a => a.Id));
        var closed = await store.GetAlertAsync(m1Stale.Id, CancellationToken.None);
        Assert.Equal(("closed", "monitor_restarted", T0.AddSeconds(300)), (closed!.Status, closed.CloseReason, closed.ClosedAt));
        var queried = await store.QueryAlertsAsync(new AlertQuery { Machine = "m1", Status = "closed" }, CancellationToken.None);
        Assert.Equal([("monitor_restarted", m1Stale.Id), (null, m1Closed.Id)], queried.Items.Select(a => (a.CloseReason, a.Id)));
        Assert.Empty(await (await NewStore()).LatestAlertsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Initialize_AlertsTableOfTheFirstSchema_AddsCloseReasonAndKeepsTheRows()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE schema_info (version INTEGER PRIMARY KEY, created_at INTEGER NOT NULL);
                INSERT INTO schema_info VALUES (1, 0);
                CREATE TABLE alerts (
                    id TEXT PRIMARY KEY, machine TEXT NOT NULL, model_version TEXT NOT NULL, episode INTEGER NOT NULL,
                    status TEXT NOT NULL, since INTEGER NOT NULL, closed_at INTEGER, peak_score REAL NOT NULL,
                    peak_window_id TEXT NOT NULL, dominant_channel TEXT, contributions TEXT NOT NULL, top_filters TEXT NOT NULL,
                    signature BLOB NOT NULL, signature_saliency INTEGER NOT NULL
                ) WITHOUT ROWID;
                INSERT INTO alerts VALUES ('old', 'm1', 'anomaly-cnn 1.0.0', 5, 'open', 0, NULL, 0.8, 'w', NULL, '{}', '[]', x'', 0);
                """;
            await command.ExecuteNonQueryAsync();
        }

        var store = new SqliteHistoryStore(path);
        await store.InitializeAsync(CancellationToken.None);
        await store.InitializeAsync(CancellationToken.None); // a second start finds the column there

        var old = await store.GetAlertAsync("old", CancellationToken.None);
        Assert.Equal(("open", 5L, (string?)null), (old!.Status, old.Episode, old.CloseReason));
        await store.UpsertAlertsAsync([old with { Status = "closed", ClosedAt = T0, CloseReason = "monitor_restarted" }], CancellationToken.None);
        Assert.Equal("monitor_restarted", (await store.GetAlertAsync("old", CancellationToken.None))!.CloseReason);
        Assert.Empty(await store.LoadCheckpointsAsync(CancellationToken.None)); // the new table exists

        await using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        await check.OpenAsync();
        await using var versions = check.CreateCommand();
        versions.CommandText = "SELECT group_concat(version) FROM (SELECT version FROM schema_info ORDER BY version);";
        Assert.Equal("1,3", (string?)await versions.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Initialize_FeedbackTableOfSchema2_AddsAuthorRoleAndMethodAndKeepsTheRows()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        var store = new SqliteHistoryStore(path);
        await store.InitializeAsync(CancellationToken.None);
        await store.UpsertAlertsAsync([new AlertRecord { Id = "a", Machine = "m1", ModelVersion = "v", Episode = 1, Status = "open", Since = T0, PeakScore = 0.9f, PeakWindowId = "w" }], CancellationToken.None);
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            // The feedback table as schema 2 had it, with one row written then.
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                DROP TABLE feedback;
                CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('acknowledge', 'confirm', 'false_alarm')), author TEXT NOT NULL, comment TEXT, at INTEGER NOT NULL);
                INSERT INTO feedback (alert_id, kind, author, comment, at) VALUES ('a', 'confirm', 'ana', NULL, 0);
                DELETE FROM schema_info; INSERT INTO schema_info VALUES (2, 0);
                """;
            await command.ExecuteNonQueryAsync();
        }

        var migrated = new SqliteHistoryStore(path);
        await migrated.InitializeAsync(CancellationToken.None);
        await migrated.InitializeAsync(CancellationToken.None); // a second start finds the columns there
        await migrated.AddFeedbackAsync("a", FeedbackKind.Acknowledge, new FeedbackAuthor("ben", "operator", "jwt"), null, T0, CancellationToken.None);
        var feedback = await migrated.FeedbackAsync("a", CancellationToken.None);
        Assert.Equal([("ana", null, null), ("ben", "operator", "jwt")], feedback.Select(f => (f.Author, f.AuthorRole, f.AuthorMethod)));
    }
}
