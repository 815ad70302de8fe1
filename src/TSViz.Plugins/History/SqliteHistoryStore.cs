using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace TSViz.Plugins.History;

/// <summary>
/// The history in one SQLite file (WAL mode, so readers never block the live writer). Times are Unix milliseconds;
/// channel contributions and top filters are JSON (queried with SQLite's json_each); full explanations are gzip'd
/// JSON and input windows raw float32, in a side table so the compact rows stay small; each machine's partial window
/// is one versioned binary row (<see cref="CheckpointCodec"/>). Every statement is parameterised. Thread-safe: each call opens a pooled connection.
/// </summary>
public sealed partial class SqliteHistoryStore : IHistoryStore
{
    /// <summary>Version 2 added alerts.close_reason and machine_checkpoints.</summary>
    private const int SchemaVersion = 3;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string connectionString;
    private readonly int busyTimeoutMilliseconds;

    /// <summary>A store whose statements wait up to 30 s for a lock held by another connection.</summary>
    public SqliteHistoryStore(string path)
        : this(path, TimeSpan.FromSeconds(30))
    {
    }

    /// <summary>A store whose statements wait up to <paramref name="busyTimeout"/> for a lock held by another connection, then fail (SQLITE_BUSY).</summary>
    public SqliteHistoryStore(string path, TimeSpan busyTimeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(busyTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(busyTimeout, TimeSpan.FromDays(1));
        Path = System.IO.Path.GetFullPath(path);
        BusyTimeout = busyTimeout;
        busyTimeoutMilliseconds = (int)Math.Ceiling(busyTimeout.TotalMilliseconds);
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            // Whole seconds Microsoft.Data.Sqlite retries a busy statement (0 would mean forever, so at least 1); SQLite's
            // own busy handler (PRAGMA busy_timeout, set on every open) does the waiting to the millisecond.
            DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds),
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>How long a statement waits for a lock held by another connection.</summary>
    public TimeSpan BusyTimeout { get; }

    /// <summary>The connection string (the Quartz job store shares the file).</summary>
    public string ConnectionString => connectionString;

    /// <summary>
    /// Creates the schema if needed and migrates a file of an older schema. A file that is not a usable SQLite
    /// database (random bytes, a directory, no permission, held by another process) is a <see cref="HistoryStoreException"/>.
    /// </summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            string? folder = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }

            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, Schema, cancellationToken).ConfigureAwait(false);
            await MigrateAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            await using var version = connection.CreateCommand();
            version.Transaction = transaction;
            version.CommandText = "INSERT OR IGNORE INTO schema_info(version, created_at) VALUES ($v, $t);";
            version.Parameters.AddWithValue("$v", SchemaVersion);
            version.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await version.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException e)
        {
            using (var pooled = new SqliteConnection(connectionString))
            {
                SqliteConnection.ClearPool(pooled); // no pooled handle on the bad file outlives the failure
            }

            throw Unusable(e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HistoryStoreException(
                $"history file '{Path}' cannot be created ({e.Message}): check the folder exists and the monitor may write it, or set History:Path to another file", e);
        }
    }

    /// <summary>Columns added since version 1; a table created by an older monitor gets them here (inside the schema transaction, so two starting monitors do not both add one).</summary>
    private static async Task MigrateAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        await using var probe = connection.CreateCommand();
        probe.Transaction = transaction;
        probe.CommandText = "SELECT COUNT(*) FROM pragma_table_info('alerts') WHERE name = 'close_reason';";
        if ((long)(await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 0)
        {
            await ExecuteAsync(connection, transaction, "ALTER TABLE alerts ADD COLUMN close_reason TEXT;", cancellationToken).ConfigureAwait(false);
        }

        // Version 3: feedback records how its author signed in (the author is the authenticated identity).
        probe.CommandText = "SELECT COUNT(*) FROM pragma_table_info('feedback') WHERE name = 'author_role';";
        if ((long)(await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 0)
        {
            await ExecuteAsync(connection, transaction, "ALTER TABLE feedback ADD COLUMN author_role TEXT; ALTER TABLE feedback ADD COLUMN author_method TEXT;", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The one-line message for a file SQLite refused: what is wrong, in SQLite's words, and the fix.</summary>
    private HistoryStoreException Unusable(SqliteException e)
    {
        string reason = SQLitePCL.raw.sqlite3_errstr(e.SqliteErrorCode).utf8_to_string();
        string message = e.SqliteErrorCode switch
        {
            SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED =>
                $"history file '{Path}' is locked by another process ({reason}): stop the other process using it or set History:Path to another file",
            SQLitePCL.raw.SQLITE_CANTOPEN or SQLitePCL.raw.SQLITE_PERM or SQLitePCL.raw.SQLITE_READONLY or SQLitePCL.raw.SQLITE_AUTH =>
                $"history file '{Path}' cannot be opened for reading and writing ({reason}): make it a file the monitor may read and write, or set History:Path to another file",
            SQLitePCL.raw.SQLITE_FULL =>
                $"history file '{Path}' cannot grow ({reason}): free disk space or set History:Path to another file",
            SQLitePCL.raw.SQLITE_ERROR =>
                $"history file '{Path}' holds tables this monitor cannot use ({e.Message.ReplaceLineEndings(" ")}): move it aside or set History:Path to another file",
            _ =>
                $"history file '{Path}' is not a readable SQLite database ({reason}): move it aside or set History:Path to another file",
        };
        return new HistoryStoreException(message, e);
    }

    private const string Schema = """
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

    public async Task<int> WriteWindowsAsync(IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return 0;
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int added = await InsertWindowsAsync(connection, transaction, records, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    /// <summary>Inserts window records (and their details) in the caller's transaction; returns how many were new.</summary>
    private static async Task<int> InsertWindowsAsync(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<WindowRecord> records, CancellationToken cancellationToken)
    {
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT OR IGNORE INTO windows (id, machine, model_version, window_start, window_end, score, decision, reason_code,
                contributions, dominant_channel, top_step_channel, top_step, top_filters, score_after_fgsm, flip_epsilon, alert_id, has_detail)
            VALUES ($id, $machine, $model, $start, $end, $score, $decision, $reason, $contributions, $dominant, $stepChannel, $step,
                $filters, $fgsm, $flip, $alert, $hasDetail);
            """;
        string[] names = ["$id", "$machine", "$model", "$start", "$end", "$score", "$decision", "$reason", "$contributions", "$dominant", "$stepChannel", "$step", "$filters", "$fgsm", "$flip", "$alert", "$hasDetail"];
        foreach (var name in names)
        {
            insert.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        await using var detail = connection.CreateCommand();
        detail.Transaction = transaction;
        detail.CommandText = "INSERT OR IGNORE INTO window_details (id, window_end, explanation, input, channels, length) VALUES ($id, $end, $explanation, $input, $channels, $length);";
        foreach (var name in new[] { "$id", "$end", "$explanation", "$input", "$channels", "$length" })
        {
            detail.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        int added = 0;
        foreach (var r in records)
        {
            object?[] values =
            [
                r.Id, r.Machine, r.ModelVersion, r.WindowStart.ToUnixTimeMilliseconds(), r.WindowEnd.ToUnixTimeMilliseconds(),
                r.Score, r.Decision is null ? null : (r.Decision.Value ? 1 : 0), r.ReasonCode,
                JsonSerializer.Serialize(r.ChannelContributions, Json), r.DominantChannel, r.TopStepChannel, r.TopStep,
                JsonSerializer.Serialize(r.TopFilters, Json), r.ScoreAfterFgsm, r.SmallestFlippingEpsilon, r.AlertId, r.Detail is null ? 0 : 1,
            ];
            for (int p = 0; p < values.Length; p++)
            {
                insert.Parameters[p].Value = values[p] ?? DBNull.Value;
            }

            int inserted = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            added += inserted;
            if (inserted == 1 && r.Detail is { } d)
            {
                detail.Parameters[0].Value = r.Id;
                detail.Parameters[1].Value = r.WindowEnd.ToUnixTimeMilliseconds();
                detail.Parameters[2].Value = Gzip(d.ExplanationJson);
                detail.Parameters[3].Value = MemoryMarshal.AsBytes(d.Input.AsSpan()).ToArray();
                detail.Parameters[4].Value = d.Channels;
                detail.Parameters[5].Value = d.Length;
                await detail.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        return added;
    }

    public async Task<IReadOnlySet<string>> ExistingWindowIdsAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return found;
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // Driven by the ids (a primary-key probe each), never by a scan of the windows table.
        command.CommandText = "SELECT j.value FROM json_each($ids) j WHERE EXISTS (SELECT 1 FROM windows w WHERE w.id = j.value);";
        command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(ids, Json));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            found.Add(reader.GetString(0));
        }

        return found;
    }

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> NewestWindowEndsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT machine, MAX(window_end) FROM windows GROUP BY machine;";
        var newest = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            newest[reader.GetString(0)] = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1));
        }

        return newest;
    }

    public async Task UpsertAlertsAsync(IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        if (alerts.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await UpsertAlertsAsync(connection, transaction, alerts, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inserts or updates alert episodes in the caller's transaction.</summary>
    private static async Task UpsertAlertsAsync(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken)
    {
        foreach (var a in alerts)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO alerts (id, machine, model_version, episode, status, since, closed_at, peak_score, peak_window_id,
                    dominant_channel, contributions, top_filters, signature, signature_saliency, close_reason)
                VALUES ($id, $machine, $model, $episode, $status, $since, $closed, $peak, $peakId, $dominant, $contributions, $filters, $signature, $saliency, $reason)
                ON CONFLICT (id) DO UPDATE SET status = excluded.status, closed_at = excluded.closed_at, peak_score = excluded.peak_score,
                    peak_window_id = excluded.peak_window_id, dominant_channel = excluded.dominant_channel, contributions = excluded.contributions,
                    top_filters = excluded.top_filters, signature = excluded.signature, signature_saliency = excluded.signature_saliency,
                    close_reason = excluded.close_reason;
                """;
            command.Parameters.AddWithValue("$id", a.Id);
            command.Parameters.AddWithValue("$machine", a.Machine);
            command.Parameters.AddWithValue("$model", a.ModelVersion);
            command.Parameters.AddWithValue("$episode", a.Episode);
            command.Parameters.AddWithValue("$status", a.Status);
            command.Parameters.AddWithValue("$since", a.Since.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$closed", (object?)a.ClosedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
            command.Parameters.AddWithValue("$peak", a.PeakScore);
            command.Parameters.AddWithValue("$peakId", a.PeakWindowId);
            command.Parameters.AddWithValue("$dominant", (object?)a.DominantChannel ?? DBNull.Value);
            command.Parameters.AddWithValue("$contributions", JsonSerializer.Serialize(a.ChannelContributions, Json));
            command.Parameters.AddWithValue("$filters", JsonSerializer.Serialize(a.TopFilters, Json));
            command.Parameters.AddWithValue("$signature", MemoryMarshal.AsBytes(a.Signature.AsSpan()).ToArray());
            command.Parameters.AddWithValue("$saliency", a.SignatureSaliencyLength);
            command.Parameters.AddWithValue("$reason", (object?)a.CloseReason ?? DBNull.Value);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private const string WindowColumns = """
        w.id, w.machine, w.model_version, w.window_start, w.window_end, w.score, w.decision, w.reason_code, w.contributions,
        w.dominant_channel, w.top_step_channel, w.top_step, w.top_filters, w.score_after_fgsm, w.flip_epsilon, w.alert_id, w.has_detail
        """;

    public async Task<Page<WindowRecord>> QueryWindowsAsync(WindowQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        var where = new Conditions(command);
        where.Add("w.machine = $machine", "$machine", query.Machine);
        where.Add("w.window_end >= $from", "$from", query.From?.ToUnixTimeMilliseconds());
        where.Add("w.window_end < $to", "$to", query.To?.ToUnixTimeMilliseconds());
        where.Add("w.score >= $minScore", "$minScore", query.MinScore);
        where.Add("w.reason_code = $reason", "$reason", query.ReasonCode);
        where.Add("w.dominant_channel = $channel", "$channel", query.DominantChannel);
        where.Add("w.has_detail = $hasDetail", "$hasDetail", query.HasDetail is null ? null : (query.HasDetail.Value ? 1 : 0));
        if (query.Cursor is not null)
        {
            var (end, id) = DecodeCursor(query.Cursor);
            where.After("w.window_end", "w.id", end, id);
        }

        int limit = Math.Clamp(query.Limit, 1, 1000);
        command.CommandText = $"SELECT {WindowColumns} FROM windows w {where.Sql} ORDER BY w.window_end DESC, w.id DESC LIMIT $limit;";
        command.Parameters.AddWithValue("$limit", limit + 1);
        var items = new List<WindowRecord>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                items.Add(ReadWindow(reader));
            }
        }

        return ToPage(items, limit, w => (w.WindowEnd, w.Id));
    }

    public async Task<WindowRecord?> GetWindowAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {WindowColumns}, d.explanation, d.input, d.channels, d.length
            FROM windows w LEFT JOIN window_details d ON d.id = w.id WHERE w.id = $id;
            """;
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var record = ReadWindow(reader);
        if (!reader.IsDBNull(17))
        {
            var input = MemoryMarshal.Cast<byte, float>((byte[])reader.GetValue(18)).ToArray();
            record = record with { Detail = new WindowDetail(Gunzip((byte[])reader.GetValue(17)), input, reader.GetInt32(19), reader.GetInt32(20)) };
        }

        return record;
    }

    private const string AlertColumns = "a.id, a.machine, a.model_version, a.episode, a.status, a.since, a.closed_at, a.peak_score, a.peak_window_id, a.dominant_channel, a.contributions, a.top_filters, a.signature, a.signature_saliency, (SELECT f.kind FROM feedback f WHERE f.alert_id = a.id ORDER BY f.at DESC, f.id DESC LIMIT 1), a.close_reason";

    public async Task<Page<AlertRecord>> QueryAlertsAsync(AlertQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        var where = new Conditions(command);
        where.Add("a.machine = $machine", "$machine", query.Machine);
        where.Add("a.since >= $from", "$from", query.From?.ToUnixTimeMilliseconds());
        where.Add("a.since < $to", "$to", query.To?.ToUnixTimeMilliseconds());
        where.Add("a.peak_score >= $minScore", "$minScore", query.MinScore);
        where.Add("a.status = $status", "$status", query.Status);
        where.Add("a.dominant_channel = $channel", "$channel", query.DominantChannel);
        if (query.Cursor is not null)
        {
            var (since, id) = DecodeCursor(query.Cursor);
            where.After("a.since", "a.id", since, id);
        }

        int limit = Math.Clamp(query.Limit, 1, 1000);
        command.CommandText = $"SELECT {AlertColumns} FROM alerts a {where.Sql} ORDER BY a.since DESC, a.id DESC LIMIT $limit;";
        command.Parameters.AddWithValue("$limit", limit + 1);
        var items = await ReadAlertsAsync(command, cancellationToken).ConfigureAwait(false);
        return ToPage(items, limit, a => (a.Since, a.Id));
    }

    public async Task<AlertRecord?> GetAlertAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {AlertColumns} FROM alerts a WHERE a.id = $id;";
        command.Parameters.AddWithValue("$id", id);
        var found = await ReadAlertsAsync(command, cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public async Task<IReadOnlyList<SimilarAlert>> SimilarAlertsAsync(string alertId, int limit, CancellationToken cancellationToken)
    {
        var target = await GetAlertAsync(alertId, cancellationToken).ConfigureAwait(false);
        if (target is null || target.Signature.Length == 0)
        {
            return [];
        }

        // Candidates: the most recent alerts of the same model (same signature layout). A plant has hundreds of
        // alerts a month, not millions; comparing 10,000 signatures of a few hundred floats takes milliseconds.
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {AlertColumns} FROM alerts a WHERE a.model_version = $model AND a.id <> $id ORDER BY a.since DESC LIMIT 10000;";
        command.Parameters.AddWithValue("$model", target.ModelVersion);
        command.Parameters.AddWithValue("$id", alertId);
        var candidates = await ReadAlertsAsync(command, cancellationToken).ConfigureAwait(false);
        return candidates
            .Where(c => c.Signature.Length == target.Signature.Length && c.SignatureSaliencyLength == target.SignatureSaliencyLength)
            .Select(c => new SimilarAlert(c, Similarity(target, c)))
            .OrderByDescending(s => s.Similarity)
            .Take(Math.Clamp(limit, 1, 100))
            .ToList();
    }

    /// <summary>
    /// The mean of the cosine similarities of the two parts of the signatures: where the model looked (the saliency
    /// pattern) and which filters carried the decision (influence), so neither part dominates by its length.
    /// </summary>
    internal static double Similarity(AlertRecord a, AlertRecord b)
    {
        int split = a.SignatureSaliencyLength;
        double saliency = Cosine(a.Signature.AsSpan(0, split), b.Signature.AsSpan(0, split));
        if (split == a.Signature.Length)
        {
            return saliency;
        }

        double influence = Cosine(a.Signature.AsSpan(split), b.Signature.AsSpan(split));
        return (saliency + influence) / 2;
    }

    private static double Cosine(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double dot = 0, nx = 0, ny = 0;
        for (int i = 0; i < x.Length; i++)
        {
            dot += (double)x[i] * y[i];
            nx += (double)x[i] * x[i];
            ny += (double)y[i] * y[i];
        }

        return nx == 0 || ny == 0 ? 0 : dot / Math.Sqrt(nx * ny);
    }

    public async Task<FeedbackRecord?> AddFeedbackAsync(string alertId, FeedbackKind kind, FeedbackAuthor author, string? comment, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(author);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO feedback (alert_id, kind, author, comment, at, author_role, author_method)
            SELECT $alert, $kind, $author, $comment, $at, $role, $method WHERE EXISTS (SELECT 1 FROM alerts WHERE id = $alert)
            RETURNING id;
            """;
        command.Parameters.AddWithValue("$alert", alertId);
        command.Parameters.AddWithValue("$kind", KindName(kind));
        command.Parameters.AddWithValue("$author", author.Name);
        command.Parameters.AddWithValue("$role", (object?)author.Role ?? DBNull.Value);
        command.Parameters.AddWithValue("$method", (object?)author.Method ?? DBNull.Value);
        command.Parameters.AddWithValue("$comment", (object?)comment ?? DBNull.Value);
        command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        var id = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return id is null ? null : new FeedbackRecord((long)id, alertId, kind, author.Name, comment, DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds()))
        {
            AuthorRole = author.Role,
            AuthorMethod = author.Method,
        };
    }

    public async Task<IReadOnlyList<FeedbackRecord>> FeedbackAsync(string alertId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, alert_id, kind, author, comment, at, author_role, author_method FROM feedback WHERE alert_id = $alert ORDER BY at, id;";
        command.Parameters.AddWithValue("$alert", alertId);
        var items = new List<FeedbackRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new FeedbackRecord(reader.GetInt64(0), reader.GetString(1), ParseKind(reader.GetString(2)), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)))
            {
                AuthorRole = reader.IsDBNull(6) ? null : reader.GetString(6),
                AuthorMethod = reader.IsDBNull(7) ? null : reader.GetString(7),
            });
        }

        return items;
    }

    public static string KindName(FeedbackKind kind) => kind switch
    {
        FeedbackKind.Acknowledge => "acknowledge",
        FeedbackKind.Confirm => "confirm",
        _ => "false_alarm",
    };

    public static FeedbackKind ParseKind(string name) => name switch
    {
        "acknowledge" => FeedbackKind.Acknowledge,
        "confirm" => FeedbackKind.Confirm,
        "false_alarm" => FeedbackKind.FalseAlarm,
        _ => throw new ArgumentException($"Unknown feedback kind '{name}' (acknowledge, confirm, false_alarm).", nameof(name)),
    };

    public async Task<IReadOnlyList<HourlyCount>> AlertsPerHourAsync(DateTimeOffset since, DateTimeOffset until, string? machine, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT machine, (since / 3600000) * 3600000 AS hour, COUNT(*) FROM alerts
            WHERE since >= $from AND since < $to {(machine is null ? string.Empty : "AND machine = $machine")}
            GROUP BY machine, hour ORDER BY hour, machine;
            """;
        command.Parameters.AddWithValue("$from", since.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", until.ToUnixTimeMilliseconds());
        if (machine is not null)
        {
            command.Parameters.AddWithValue("$machine", machine);
        }

        var items = new List<HourlyCount>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new HourlyCount(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetInt32(2)));
        }

        return items;
    }

    public async Task<IReadOnlyList<ChannelContributionPoint>> ChannelContributionOverTimeAsync(string machine, DateTimeOffset since, DateTimeOffset until, TimeSpan bucket, CancellationToken cancellationToken)
    {
        long bucketMs = Math.Max(1000, (long)bucket.TotalMilliseconds);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (w.window_end / $bucket) * $bucket AS b, c.key, AVG(c.value), COUNT(*)
            FROM windows w, json_each(w.contributions) c
            WHERE w.machine = $machine AND w.window_end >= $from AND w.window_end < $to AND w.score IS NOT NULL
            GROUP BY b, c.key ORDER BY b, c.key;
            """;
        command.Parameters.AddWithValue("$bucket", bucketMs);
        command.Parameters.AddWithValue("$machine", machine);
        command.Parameters.AddWithValue("$from", since.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", until.ToUnixTimeMilliseconds());
        var items = new List<ChannelContributionPoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new ChannelContributionPoint(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetDouble(2), reader.GetInt32(3)));
        }

        return items;
    }

    public async Task<IReadOnlyList<FilterFrequency>> TopFilterFrequencyAsync(DateTimeOffset since, DateTimeOffset until, string? machine, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT json_extract(f.value, '$.layer') AS layer, json_extract(f.value, '$.index') AS filter, COUNT(*) AS n
            FROM windows w, json_each(w.top_filters) f
            WHERE w.window_end >= $from AND w.window_end < $to {(machine is null ? string.Empty : "AND w.machine = $machine")}
            GROUP BY layer, filter ORDER BY n DESC, layer, filter LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$from", since.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", until.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$limit", Math.Clamp(limit, 1, 1000));
        if (machine is not null)
        {
            command.Parameters.AddWithValue("$machine", machine);
        }

        var items = new List<FilterFrequency>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new FilterFrequency(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2)));
        }

        return items;
    }

    public async Task<IReadOnlyList<StoredInput>> InputWindowsAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT w.id, w.machine, w.window_end, w.score, d.input, d.channels, d.length
            FROM window_details d JOIN windows w ON w.id = d.id
            WHERE d.window_end >= $since ORDER BY d.window_end DESC LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$limit", Math.Max(1, limit));
        var items = new List<StoredInput>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new StoredInput(reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                reader.IsDBNull(3) ? null : reader.GetFloat(3), MemoryMarshal.Cast<byte, float>((byte[])reader.GetValue(4)).ToArray(), reader.GetInt32(5), reader.GetInt32(6)));
        }

        return items;
    }

    public async Task<AnalysisRecord> SaveAnalysisAsync(string job, string model, string modelVersion, DateTimeOffset at, int windows, string summaryJson, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO analyses (job, model, model_version, at, windows, summary) VALUES ($job, $model, $version, $at, $windows, $summary) RETURNING id;";
        command.Parameters.AddWithValue("$job", job);
        command.Parameters.AddWithValue("$model", model);
        command.Parameters.AddWithValue("$version", modelVersion);
        command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$windows", windows);
        command.Parameters.AddWithValue("$summary", summaryJson);
        long id = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return new AnalysisRecord(id, job, model, modelVersion, DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds()), windows, summaryJson);
    }

    public async Task<IReadOnlyList<AnalysisRecord>> AnalysesAsync(string? job, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, job, model, model_version, at, windows, summary FROM analyses {(job is null ? string.Empty : "WHERE job = $job")} ORDER BY at DESC, id DESC LIMIT $limit;";
        if (job is not null)
        {
            command.Parameters.AddWithValue("$job", job);
        }

        command.Parameters.AddWithValue("$limit", Math.Clamp(limit, 1, 1000));
        var items = new List<AnalysisRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new AnalysisRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), reader.GetInt32(5), reader.GetString(6)));
        }

        return items;
    }

    public async Task<RetentionResult> ApplyRetentionAsync(RetentionPolicy policy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        async Task<int> Delete(string sql, TimeSpan age)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            command.Parameters.AddWithValue("$cutoff", (now - age).ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // Alerts go first (closed ones only: an open alert is never deleted). A window of an alert that is still kept
        // keeps its row and its full detail as long as the alert, so an alert's evidence outlives the window ages;
        // once its alert is gone it ages like any other window. Then details (their own, shorter age), then windows.
        const string NotOfAKeptAlert = "NOT EXISTS (SELECT 1 FROM windows w JOIN alerts a ON a.id = w.alert_id WHERE w.id = window_details.id)";
        await Delete("DELETE FROM feedback WHERE alert_id IN (SELECT id FROM alerts WHERE status = 'closed' AND since < $cutoff);", policy.Alerts).ConfigureAwait(false);
        int alerts = await Delete("DELETE FROM alerts WHERE status = 'closed' AND since < $cutoff;", policy.Alerts).ConfigureAwait(false);
        int details = await Delete($"DELETE FROM window_details WHERE window_end < $cutoff AND {NotOfAKeptAlert};", policy.Details).ConfigureAwait(false);
        await Delete($"DELETE FROM window_details WHERE window_end < $cutoff AND {NotOfAKeptAlert};", policy.Windows).ConfigureAwait(false);
        int windows = await Delete("DELETE FROM windows WHERE window_end < $cutoff AND (alert_id IS NULL OR NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = windows.alert_id));", policy.Windows).ConfigureAwait(false);
        await Delete("UPDATE windows SET has_detail = 0 WHERE has_detail = 1 AND window_end < $cutoff AND NOT EXISTS (SELECT 1 FROM window_details d WHERE d.id = windows.id);", policy.Details).ConfigureAwait(false);
        int analyses = await Delete("DELETE FROM analyses WHERE at < $cutoff;", policy.Analyses).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new RetentionResult(windows, details, alerts, analyses);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout={busyTimeoutMilliseconds}; PRAGMA synchronous=NORMAL;"), cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
        => ExecuteAsync(connection, null, sql, cancellationToken);

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static WindowRecord ReadWindow(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        Machine = r.GetString(1),
        ModelVersion = r.GetString(2),
        WindowStart = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)),
        WindowEnd = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)),
        Score = r.IsDBNull(5) ? null : r.GetFloat(5),
        Decision = r.IsDBNull(6) ? null : r.GetInt32(6) == 1,
        ReasonCode = r.GetString(7),
        ChannelContributions = JsonSerializer.Deserialize<Dictionary<string, float>>(r.GetString(8), Json) ?? [],
        DominantChannel = r.IsDBNull(9) ? null : r.GetString(9),
        TopStepChannel = r.IsDBNull(10) ? null : r.GetString(10),
        TopStep = r.IsDBNull(11) ? null : r.GetInt32(11),
        TopFilters = JsonSerializer.Deserialize<List<FilterRef>>(r.GetString(12), Json) ?? [],
        ScoreAfterFgsm = r.IsDBNull(13) ? null : r.GetFloat(13),
        SmallestFlippingEpsilon = r.IsDBNull(14) ? null : r.GetDouble(14),
        AlertId = r.IsDBNull(15) ? null : r.GetString(15),
        HasDetail = r.GetInt32(16) == 1,
    };

    private static async Task<List<AlertRecord>> ReadAlertsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var items = new List<AlertRecord>();
        await using var r = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new AlertRecord
            {
                Id = r.GetString(0),
                Machine = r.GetString(1),
                ModelVersion = r.GetString(2),
                Episode = r.GetInt64(3),
                Status = r.GetString(4),
                Since = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
                ClosedAt = r.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)),
                PeakScore = r.GetDouble(7),
                PeakWindowId = r.GetString(8),
                DominantChannel = r.IsDBNull(9) ? null : r.GetString(9),
                ChannelContributions = JsonSerializer.Deserialize<Dictionary<string, float>>(r.GetString(10), Json) ?? [],
                TopFilters = JsonSerializer.Deserialize<List<FilterRef>>(r.GetString(11), Json) ?? [],
                Signature = MemoryMarshal.Cast<byte, float>((byte[])r.GetValue(12)).ToArray(),
                SignatureSaliencyLength = r.GetInt32(13),
                LastFeedback = r.IsDBNull(14) ? null : r.GetString(14),
                CloseReason = r.IsDBNull(15) ? null : r.GetString(15),
            });
        }

        return items;
    }

    /// <summary>The WHERE clause of a query: each optional filter adds its condition and its parameter.</summary>
    private sealed class Conditions(SqliteCommand command)
    {
        private readonly List<string> clauses = [];

        public string Sql => clauses.Count > 0 ? "WHERE " + string.Join(" AND ", clauses) : string.Empty;

        public void Add(string clause, string name, object? value)
        {
            if (value is not null)
            {
                clauses.Add(clause);
                command.Parameters.AddWithValue(name, value);
            }
        }

        /// <summary>Keyset paging, newest first: rows strictly after the cursor's (time, id).</summary>
        public void After(string timeColumn, string idColumn, long time, string id)
        {
            clauses.Add($"({timeColumn} < $cursorTime OR ({timeColumn} = $cursorTime AND {idColumn} < $cursorId))");
            command.Parameters.AddWithValue("$cursorTime", time);
            command.Parameters.AddWithValue("$cursorId", id);
        }
    }

    /// <summary>A page from up to limit + 1 rows: the extra row only says there is more; the cursor is the last row's key.</summary>
    private static Page<T> ToPage<T>(List<T> items, int limit, Func<T, (DateTimeOffset Time, string Id)> key)
    {
        if (items.Count <= limit)
        {
            return new Page<T>(items, null);
        }

        items.RemoveAt(limit);
        var (time, id) = key(items[^1]);
        return new Page<T>(items, EncodeCursor(time.ToUnixTimeMilliseconds(), id));
    }

    private static string EncodeCursor(long time, string id)
        => Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{time}|{id}")));

    /// <summary>Reads a paging cursor; a malformed one is an <see cref="ArgumentException"/> (the caller's bad input).</summary>
    public static (long Time, string Id) DecodeCursor(string cursor)
    {
        try
        {
            string text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            int bar = text.IndexOf('|', StringComparison.Ordinal);
            if (bar > 0 && long.TryParse(text.AsSpan(0, bar), NumberStyles.Integer, CultureInfo.InvariantCulture, out long time))
            {
                return (time, text[(bar + 1)..]);
            }
        }
        catch (FormatException)
        {
            // Falls through to the error below.
        }

        throw new ArgumentException("The cursor is not one this API returned.", nameof(cursor));
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Fastest))
        {
            zip.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] Gunzip(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
