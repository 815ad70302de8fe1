using Microsoft.Data.Sqlite;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using TSViz.Tests.Shared;
using static TSViz.Plugins.Tests.History.HistoryTestData;

namespace TSViz.Plugins.Tests.History.Sqlite;

/// <summary>
/// A history file of an older schema migrated in place, on real SQLite files (the one-transaction batch, the checkpoints
/// and the alert episodes a restarted monitor reads back are <see cref="HistoryStoreBehaviourTests"/>, for every store).
/// </summary>
public sealed class SqliteHistoryStoreRestartTests
{
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
        Assert.Equal("1,8", (string?)await versions.ExecuteScalarAsync());
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
