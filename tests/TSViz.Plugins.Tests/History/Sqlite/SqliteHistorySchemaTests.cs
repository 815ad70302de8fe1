using System.IO.Compression;
using System.Text;
using Microsoft.Data.Sqlite;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using TSViz.Tests.Shared;
using static TSViz.Plugins.Tests.History.HistoryTestData;

namespace TSViz.Plugins.Tests.History.Sqlite;

/// <summary>A history file written by the monitor before the schema moved into history_schema.sql opens with this one.</summary>
public sealed class SqliteHistorySchemaTests
{
    /// <summary>The schema as the monitor created it until the DDL became an embedded script (schema version 3), verbatim.</summary>
    private const string ReleasedSchema = """
        CREATE TABLE IF NOT EXISTS schema_info (version INTEGER PRIMARY KEY, created_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS windows (
            id TEXT PRIMARY KEY,
            machine TEXT NOT NULL,
            model_version TEXT NOT NULL,
            window_start INTEGER NOT NULL,
            window_end INTEGER NOT NULL,
            score REAL,
            decision INTEGER,
            reason_code TEXT NOT NULL,
            contributions TEXT NOT NULL,
            dominant_channel TEXT,
            top_step_channel TEXT,
            top_step INTEGER,
            top_filters TEXT NOT NULL,
            score_after_fgsm REAL,
            flip_epsilon REAL,
            alert_id TEXT,
            has_detail INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_windows_machine_end ON windows (machine, window_end);
        CREATE INDEX IF NOT EXISTS ix_windows_end ON windows (window_end);
        CREATE INDEX IF NOT EXISTS ix_windows_score ON windows (score) WHERE score IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_windows_channel_end ON windows (dominant_channel, window_end);
        CREATE INDEX IF NOT EXISTS ix_windows_alert ON windows (alert_id) WHERE alert_id IS NOT NULL;
        CREATE TABLE IF NOT EXISTS window_details (
            id TEXT PRIMARY KEY,
            window_end INTEGER NOT NULL,
            explanation BLOB NOT NULL,
            input BLOB NOT NULL,
            channels INTEGER NOT NULL,
            length INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_details_end ON window_details (window_end);
        CREATE TABLE IF NOT EXISTS alerts (
            id TEXT PRIMARY KEY,
            machine TEXT NOT NULL,
            model_version TEXT NOT NULL,
            episode INTEGER NOT NULL,
            status TEXT NOT NULL,
            since INTEGER NOT NULL,
            closed_at INTEGER,
            peak_score REAL NOT NULL,
            peak_window_id TEXT NOT NULL,
            dominant_channel TEXT,
            contributions TEXT NOT NULL,
            top_filters TEXT NOT NULL,
            signature BLOB NOT NULL,
            signature_saliency INTEGER NOT NULL,
            close_reason TEXT
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_alerts_machine_since ON alerts (machine, since);
        CREATE INDEX IF NOT EXISTS ix_alerts_since ON alerts (since);
        CREATE INDEX IF NOT EXISTS ix_alerts_open ON alerts (machine, since) WHERE status = 'open';
        CREATE TABLE IF NOT EXISTS feedback (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            alert_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('acknowledge', 'confirm', 'false_alarm')),
            author TEXT NOT NULL,
            comment TEXT,
            at INTEGER NOT NULL,
            author_role TEXT,
            author_method TEXT
        );
        CREATE INDEX IF NOT EXISTS ix_feedback_alert ON feedback (alert_id, at);
        CREATE TABLE IF NOT EXISTS analyses (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            job TEXT NOT NULL,
            model TEXT NOT NULL,
            model_version TEXT NOT NULL,
            at INTEGER NOT NULL,
            windows INTEGER NOT NULL,
            summary TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_analyses_job_at ON analyses (job, at);
        -- One row per machine: its partial window (CheckpointCodec), written in the transaction of the windows it led to.
        -- updated_at is the newest buffered sample's time (the data clock; null for an empty buffer).
        CREATE TABLE IF NOT EXISTS machine_checkpoints (
            machine TEXT PRIMARY KEY,
            updated_at INTEGER,
            state BLOB NOT NULL
        ) WITHOUT ROWID;
        """;

    private static async Task Execute(string path, string sql, Action<SqliteParameterCollection>? parameters = null)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        parameters?.Invoke(command.Parameters);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<string>> SchemaObjects(string path)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT type || ' ' || name || ' ON ' || tbl_name || ': ' || COALESCE(sql, '') FROM sqlite_master ORDER BY type, name;";
        var objects = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            objects.Add(reader.GetString(0));
        }

        return objects;
    }

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Fastest))
        {
            zip.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }

    private static byte[] Floats(params float[] values) => values.SelectMany(v => BitConverter.GetBytes(v)).ToArray();

    [Fact]
    public async Task Initialize_NewFile_TheSameTablesAndIndexesAsTheReleasedSchemaPlusVersion4sColumnsAndTheTablesOfVersions5To8()
    {
        string released = Path.Combine(RepositoryPaths.NewTempDirectory(), "released.db");
        await Execute(released, ReleasedSchema);
        var store = await SqliteHistoryStoreTests.NewStore();

        // Version 4 added the alerts' faithfulness columns; everything else is the released DDL, verbatim.
        var expected = (await SchemaObjects(released)).Select(o => o.StartsWith("table alerts ON alerts:", StringComparison.Ordinal)
            ? o.Replace("    close_reason TEXT\n)", "    close_reason TEXT,\n    faithfulness_fraction REAL,\n    faithfulness_score REAL,\n    faithfulness_deletion REAL,\n    faithfulness_random REAL,\n    faithfulness_verdict TEXT\n)", StringComparison.Ordinal)
            : o.StartsWith("table windows ON windows:", StringComparison.Ordinal)
                ? o.Replace("    has_detail INTEGER NOT NULL DEFAULT 0\n) WITHOUT ROWID", "    has_detail INTEGER NOT NULL DEFAULT 0,\n    drift BLOB\n) WITHOUT ROWID", StringComparison.Ordinal)
                : o).ToList();
        // Version 5 added the counterfactuals table (and the primary key's automatic index).
        expected.Add("index sqlite_autoindex_counterfactuals_1 ON counterfactuals: ");
        expected.Add("table counterfactuals ON counterfactuals: CREATE TABLE counterfactuals (\n    alert_id TEXT PRIMARY KEY,\n    machine TEXT NOT NULL,\n    peak_window_id TEXT NOT NULL,\n    computed_at INTEGER NOT NULL,\n    found INTEGER NOT NULL,\n    document TEXT NOT NULL\n)");
        // Version 6 added alert_patterns.
        expected.Add("index ix_alert_patterns_model ON alert_patterns: CREATE INDEX ix_alert_patterns_model ON alert_patterns (model_version)");
        expected.Add("index ix_alert_patterns_pattern ON alert_patterns: CREATE INDEX ix_alert_patterns_pattern ON alert_patterns (pattern_id)");
        expected.Add("index sqlite_autoindex_alert_patterns_1 ON alert_patterns: ");
        expected.Add("table alert_patterns ON alert_patterns: CREATE TABLE alert_patterns (\n    alert_id TEXT PRIMARY KEY,\n    pattern_id TEXT NOT NULL,\n    model_version TEXT NOT NULL,\n    computed_at INTEGER NOT NULL\n)");
        // Version 7 added windows.drift (above), drift_profiles and drift_events.
        expected.Add("index ix_drift_events_at ON drift_events: CREATE INDEX ix_drift_events_at ON drift_events (at)");
        expected.Add("index ix_drift_events_machine_at ON drift_events: CREATE INDEX ix_drift_events_machine_at ON drift_events (machine, at)");
        expected.Add("index sqlite_autoindex_drift_profiles_1 ON drift_profiles: ");
        expected.Add("table drift_profiles ON drift_profiles: CREATE TABLE drift_profiles (\n    machine TEXT NOT NULL,\n    model_version TEXT NOT NULL,\n    built_at INTEGER NOT NULL,\n    ref_from INTEGER NOT NULL,\n    ref_to INTEGER NOT NULL,\n    windows INTEGER NOT NULL,\n    document TEXT NOT NULL,\n    PRIMARY KEY (machine, model_version)\n)");
        expected.Add("table drift_events ON drift_events: CREATE TABLE drift_events (\n    id INTEGER PRIMARY KEY AUTOINCREMENT,\n    machine TEXT NOT NULL,\n    model_version TEXT NOT NULL,\n    at INTEGER NOT NULL,\n    kind TEXT NOT NULL,\n    state TEXT NOT NULL,\n    value REAL NOT NULL,\n    threshold REAL NOT NULL,\n    moved TEXT NOT NULL,\n    summary TEXT NOT NULL\n)");
        // Version 8 keeps only high scores in the score index.
        Assert.True(expected.Remove("index ix_windows_score ON windows: CREATE INDEX ix_windows_score ON windows (score) WHERE score IS NOT NULL"));
        expected.Add("index ix_windows_high_score ON windows: CREATE INDEX ix_windows_high_score ON windows (score) WHERE score >= 0.5");
        expected.Sort(StringComparer.Ordinal);
        Assert.Equal(expected, await SchemaObjects(store.Path));
    }

    [Fact]
    public async Task Initialize_FileOfSchema7_TradesTheIndexOfEveryScoreForTheIndexOfHighScores_AndMinScoreQueriesUseIt()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        await Execute(path, ReleasedSchema + "\nINSERT INTO schema_info VALUES (7, 0);");
        Assert.Contains(await SchemaObjects(path), o => o.StartsWith("index ix_windows_score ", StringComparison.Ordinal));
        var store = new SqliteHistoryStore(path);
        await store.InitializeAsync(CancellationToken.None);

        var objects = await SchemaObjects(path);
        Assert.DoesNotContain(objects, o => o.StartsWith("index ix_windows_score ", StringComparison.Ordinal));
        Assert.Contains(objects, o => o.StartsWith("index ix_windows_high_score ", StringComparison.Ordinal));
        // The planner takes the partial index only when the query states its condition as a constant, as the queries do.
        Assert.Contains("ix_windows_high_score", await QueryPlan(path, $"SELECT id FROM windows w WHERE w.score >= @min_score AND {TSViz.Plugins.History.Ado.HistoryDialect.HighScoreCondition("w.score")} ORDER BY w.window_end DESC, w.id DESC LIMIT 51"), StringComparison.Ordinal);
        Assert.DoesNotContain("ix_windows_high_score", await QueryPlan(path, "SELECT id FROM windows w WHERE w.score >= @min_score ORDER BY w.window_end DESC, w.id DESC LIMIT 51"), StringComparison.Ordinal);
    }

    private static async Task<string> QueryPlan(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        command.Parameters.AddWithValue("@min_score", 0.9);
        var plan = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(3));
        }

        return string.Join(" | ", plan);
    }

    [Fact]
    public async Task Initialize_FileOfSchema3_GainsTheFaithfulnessColumnsAndAnAlertKeepsItsCheck()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        await Execute(path, ReleasedSchema + "\nINSERT INTO schema_info VALUES (3, 0);");
        var store = new SqliteHistoryStore(path);
        await store.InitializeAsync(CancellationToken.None);
        await store.InitializeAsync(CancellationToken.None); // a second start finds the columns there

        var check = new AlertFaithfulness(0.05, 0.99, 0.12, 0.97, "passed");
        await store.UpsertAlertsAsync([new AlertRecord { Id = "a", Machine = "m1", ModelVersion = "v", Episode = 1, Status = "open", Since = T0, PeakScore = 0.99, PeakWindowId = "w", Faithfulness = check }], CancellationToken.None);
        await store.UpsertAlertsAsync([new AlertRecord { Id = "b", Machine = "m2", ModelVersion = "v", Episode = 1, Status = "open", Since = T0, PeakScore = 0.9, PeakWindowId = "w2" }], CancellationToken.None);

        Assert.Equal(check, (await store.GetAlertAsync("a", CancellationToken.None))!.Faithfulness);
        Assert.Null((await store.GetAlertAsync("b", CancellationToken.None))!.Faithfulness);
    }

    [Fact]
    public async Task Initialize_FileWrittenWithTheReleasedSchema_OpensAndReadsEveryKindOfRow()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        long t0 = T0.ToUnixTimeMilliseconds();
        await Execute(path, ReleasedSchema + """

            INSERT INTO schema_info VALUES (3, 0);
            INSERT INTO windows VALUES ('w1', 'm1', 'anomaly-cnn 1.0.0', $t0 - 5000, $t0, 0.875, 1, 'anomaly',
                '{"temperature":0.75,"torque":0.25}', 'temperature', 'temperature', 42,
                '[{"layer":"conv1","index":3,"influence":1.5,"influenceScaled":1}]', 0.5, 0.125, 'a1', 1);
            INSERT INTO windows VALUES ('w0', 'm1', 'anomaly-cnn 1.0.0', $t0 - 6000, $t0 - 1000, NULL, NULL, 'insufficient_data',
                '{}', NULL, NULL, NULL, '[]', NULL, NULL, NULL, 0);
            INSERT INTO window_details VALUES ('w1', $t0, $explanation, $input, 2, 2);
            INSERT INTO alerts VALUES ('a1', 'm1', 'anomaly-cnn 1.0.0', 7, 'closed', $t0 - 5000, $t0 + 5000, 0.875, 'w1', 'temperature',
                '{"temperature":0.75}', '[{"layer":"conv1","index":3,"influence":1.5,"influenceScaled":1}]', $signature, 2, 'machine_idle');
            INSERT INTO alerts VALUES ('a2', 'm1', 'anomaly-cnn 1.0.0', 8, 'open', $t0 + 10000, NULL, 0.75, 'w1', NULL, '{}', '[]', $signature, 2, NULL);
            INSERT INTO feedback (alert_id, kind, author, comment, at, author_role, author_method) VALUES ('a1', 'false_alarm', 'ana', 'recalibration', $t0 + 6000, 'operator', 'api_key');
            INSERT INTO analyses (job, model, model_version, at, windows, summary) VALUES ('analysis', 'anomaly-cnn', '1.0.0', $t0, 12, '{"k":3}');
            INSERT INTO machine_checkpoints VALUES ('m1', $t0, $checkpoint);
            """, p =>
        {
            p.AddWithValue("$t0", t0);
            p.AddWithValue("$explanation", Gzip("""{"id":"w1"}"""));
            p.AddWithValue("$input", Floats(1, 2, 3, 4));
            p.AddWithValue("$signature", Floats(1, 0, 0.5f, 0.5f));
            p.AddWithValue("$checkpoint", CheckpointCodec.Encode(Checkpoint("m1", 4, 1f)));
        });

        var store = new SqliteHistoryStore(path);
        await store.InitializeAsync(CancellationToken.None);

        var window = await store.GetWindowAsync("w1", CancellationToken.None);
        Assert.NotNull(window);
        Assert.Equal(("m1", "anomaly-cnn 1.0.0", T0.AddSeconds(-5), T0), (window.Machine, window.ModelVersion, window.WindowStart, window.WindowEnd));
        Assert.Equal(((float?)0.875f, (bool?)true, "anomaly"), (window.Score, window.Decision, window.ReasonCode));
        Assert.Equal([("temperature", 0.75f), ("torque", 0.25f)], window.ChannelContributions.Select(c => (c.Key, c.Value)).Order());
        Assert.Equal(("temperature", "temperature", (int?)42), (window.DominantChannel, window.TopStepChannel, window.TopStep));
        Assert.Equal([new InfluentialFilter("conv1", 3, 1.5f, 1f)], window.TopFilters);
        Assert.Equal(((float?)0.5f, (double?)0.125, "a1", true), (window.ScoreAfterFgsm, window.SmallestFlippingEpsilon, window.AlertId, window.HasDetail));
        Assert.Equal("""{"id":"w1"}""", Encoding.UTF8.GetString(window.Detail!.ExplanationJson));
        Assert.Equal([1f, 2f, 3f, 4f], window.Detail.Input);
        Assert.Equal((2, 2), (window.Detail.Channels, window.Detail.Length));

        var gap = Assert.Single((await store.QueryWindowsAsync(new WindowQuery { ReasonCode = "insufficient_data" }, CancellationToken.None)).Items);
        Assert.Equal(("w0", (float?)null, (bool?)null, (int?)null, false), (gap.Id, gap.Score, gap.Decision, gap.TopStep, gap.HasDetail));

        var alert = await store.GetAlertAsync("a1", CancellationToken.None);
        Assert.NotNull(alert);
        Assert.Equal((7L, "closed", T0.AddSeconds(-5), (DateTimeOffset?)T0.AddSeconds(5)), (alert.Episode, alert.Status, alert.Since, alert.ClosedAt));
        Assert.Equal((0.875, "w1", "temperature", "machine_idle", "false_alarm"), (alert.PeakScore, alert.PeakWindowId, alert.DominantChannel, alert.CloseReason, alert.LastFeedback));
        Assert.Equal([1f, 0f, 0.5f, 0.5f], alert.Signature);
        Assert.Equal(2, alert.SignatureSaliencyLength);
        Assert.Equal(["a2"], (await store.OpenAlertsAsync(CancellationToken.None)).Select(a => a.Id));
        Assert.Equal(["a2"], (await store.LatestAlertsAsync(CancellationToken.None)).Select(a => a.Id));
        Assert.Equal("a1", Assert.Single(await store.SimilarAlertsAsync("a2", 10, CancellationToken.None)).Alert.Id);

        var feedback = Assert.Single(await store.FeedbackAsync("a1", CancellationToken.None));
        Assert.Equal((FeedbackKind.FalseAlarm, "ana", "recalibration", T0.AddSeconds(6), "operator", "api_key"),
            (feedback.Kind, feedback.Author, feedback.Comment, feedback.At, feedback.AuthorRole, feedback.AuthorMethod));
        var analysis = Assert.Single(await store.AnalysesAsync("analysis", 10, CancellationToken.None));
        Assert.Equal(("anomaly-cnn", "1.0.0", T0, 12, """{"k":3}"""), (analysis.Model, analysis.ModelVersion, analysis.At, analysis.Windows, analysis.SummaryJson));
        var input = Assert.Single(await store.InputWindowsAsync(T0.AddDays(-1), 10, CancellationToken.None));
        Assert.Equal(("w1", "m1", (float?)0.875f, 2, 2), (input.WindowId, input.Machine, input.Score, input.Channels, input.Length));
        AssertSame(Checkpoint("m1", 4, 1f), Assert.Single(await store.LoadCheckpointsAsync(CancellationToken.None)));
        Assert.Equal(T0, (await store.NewestWindowEndsAsync(CancellationToken.None))["m1"]);

        // And it takes new rows as before.
        Assert.Equal(1, await store.WriteWindowsAsync([Window("m2", 0, 0.2f)], CancellationToken.None));
    }
}
