using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// The tables Quartz's AdoJobStore (4.7) reads and writes in SQLite, and the monitor's own job_runs table, all in the
/// history file. Every statement is guarded (IF NOT EXISTS), so running it at each start is harmless; Quartz probes
/// the tables and columns it needs when the scheduler starts and names anything missing. Times in the QRTZ_ tables
/// are .NET ticks (Quartz's convention), in job_runs Unix milliseconds (the history's).
/// </summary>
internal static partial class QuartzSchema
{
    /// <summary>The QRTZ_ tables and their keys.</summary>
    public const string Tables = """
        CREATE TABLE IF NOT EXISTS QRTZ_JOB_DETAILS (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            JOB_NAME NVARCHAR(150) NOT NULL,
            JOB_GROUP NVARCHAR(150) NOT NULL,
            DESCRIPTION NVARCHAR(250) NULL,
            JOB_CLASS_NAME NVARCHAR(250) NOT NULL,
            IS_DURABLE BIT NOT NULL,
            IS_NONCONCURRENT BIT NOT NULL,
            IS_UPDATE_DATA BIT NOT NULL,
            REQUESTS_RECOVERY BIT NOT NULL,
            JOB_DATA BLOB NULL,
            PRIMARY KEY (SCHED_NAME, JOB_NAME, JOB_GROUP));

        CREATE TABLE IF NOT EXISTS QRTZ_TRIGGERS (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            TRIGGER_NAME NVARCHAR(150) NOT NULL,
            TRIGGER_GROUP NVARCHAR(150) NOT NULL,
            JOB_NAME NVARCHAR(150) NOT NULL,
            JOB_GROUP NVARCHAR(150) NOT NULL,
            DESCRIPTION NVARCHAR(250) NULL,
            NEXT_FIRE_TIME BIGINT NULL,
            PREV_FIRE_TIME BIGINT NULL,
            PRIORITY INTEGER NULL,
            TRIGGER_STATE NVARCHAR(16) NOT NULL,
            TRIGGER_TYPE NVARCHAR(8) NOT NULL,
            START_TIME BIGINT NOT NULL,
            END_TIME BIGINT NULL,
            CALENDAR_NAME NVARCHAR(200) NULL,
            MISFIRE_INSTR INTEGER NULL,
            MISFIRE_ORIG_FIRE_TIME BIGINT NULL,
            MISFIRE_THRESHOLD BIGINT NULL,
            EXECUTION_GROUP NVARCHAR(200) NULL,
            PREFERRED_NODE NVARCHAR(200) NULL,
            PREFERRED_NODE_AUTO BIT NOT NULL DEFAULT 0,
            RETRY_POLICY NVARCHAR(250) NULL,
            RETRY_ATTEMPT INTEGER NULL,
            CONTINUES_TRIGGER_NAME NVARCHAR(150) NULL,
            CONTINUES_TRIGGER_GROUP NVARCHAR(150) NULL,
            CONTINUATION_CONDITION INTEGER NULL,
            OVERLAP_POLICY INTEGER NULL,
            FIXED_DELAY BIT NULL,
            PAUSE_REASON NVARCHAR(250) NULL,
            PAUSED_BY NVARCHAR(200) NULL,
            PAUSED_AT BIGINT NULL,
            JOB_DATA BLOB NULL,
            PRIMARY KEY (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP),
            FOREIGN KEY (SCHED_NAME, JOB_NAME, JOB_GROUP) REFERENCES QRTZ_JOB_DETAILS (SCHED_NAME, JOB_NAME, JOB_GROUP));

        CREATE TABLE IF NOT EXISTS QRTZ_SIMPLE_TRIGGERS (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            TRIGGER_NAME NVARCHAR(150) NOT NULL,
            TRIGGER_GROUP NVARCHAR(150) NOT NULL,
            REPEAT_COUNT BIGINT NOT NULL,
            REPEAT_INTERVAL BIGINT NOT NULL,
            TIMES_TRIGGERED BIGINT NOT NULL,
            PRIMARY KEY (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP),
            FOREIGN KEY (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP) REFERENCES QRTZ_TRIGGERS (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP) ON DELETE CASCADE);

        CREATE TABLE IF NOT EXISTS QRTZ_SIMPROP_TRIGGERS (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            TRIGGER_NAME NVARCHAR(150) NOT NULL,
            TRIGGER_GROUP NVARCHAR(150) NOT NULL,
            STR_PROP_1 NVARCHAR(512) NULL,
            STR_PROP_2 NVARCHAR(512) NULL,
            STR_PROP_3 NVARCHAR(512) NULL,
            INT_PROP_1 INT NULL,
            INT_PROP_2 INT NULL,
            LONG_PROP_1 BIGINT NULL,
            LONG_PROP_2 BIGINT NULL,
            DEC_PROP_1 NUMERIC NULL,
            DEC_PROP_2 NUMERIC NULL,
            BOOL_PROP_1 BIT NULL,
            BOOL_PROP_2 BIT NULL,
            TIME_ZONE_ID NVARCHAR(80) NULL,
            PRIMARY KEY (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP),
            FOREIGN KEY (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP) REFERENCES QRTZ_TRIGGERS (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP) ON DELETE CASCADE);

        CREATE TABLE IF NOT EXISTS QRTZ_CRON_TRIGGERS (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            TRIGGER_NAME NVARCHAR(150) NOT NULL,
            TRIGGER_GROUP NVARCHAR(150) NOT NULL,
            CRON_EXPRESSION NVARCHAR(250) NOT NULL,
            TIME_ZONE_ID NVARCHAR(80) NULL,
            PRIMARY KEY (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP),
            FOREIGN KEY (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP) REFERENCES QRTZ_TRIGGERS (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP) ON DELETE CASCADE);

        CREATE TABLE IF NOT EXISTS QRTZ_BLOB_TRIGGERS (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            TRIGGER_NAME NVARCHAR(150) NOT NULL,
            TRIGGER_GROUP NVARCHAR(150) NOT NULL,
            BLOB_DATA BLOB NULL,
            PRIMARY KEY (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP),
            FOREIGN KEY (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP) REFERENCES QRTZ_TRIGGERS (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP) ON DELETE CASCADE);

        -- SQLite enforces the cascades above only with PRAGMA foreign_keys on, which Quartz's connections do not
        -- set: these triggers remove a trigger's schedule rows with it either way.
        CREATE TRIGGER IF NOT EXISTS QRTZ_TRIGGERS_DELETE_SCHEDULE AFTER DELETE ON QRTZ_TRIGGERS
        BEGIN
            DELETE FROM QRTZ_SIMPLE_TRIGGERS WHERE SCHED_NAME = OLD.SCHED_NAME AND TRIGGER_NAME = OLD.TRIGGER_NAME AND TRIGGER_GROUP = OLD.TRIGGER_GROUP;
            DELETE FROM QRTZ_SIMPROP_TRIGGERS WHERE SCHED_NAME = OLD.SCHED_NAME AND TRIGGER_NAME = OLD.TRIGGER_NAME AND TRIGGER_GROUP = OLD.TRIGGER_GROUP;
            DELETE FROM QRTZ_CRON_TRIGGERS WHERE SCHED_NAME = OLD.SCHED_NAME AND TRIGGER_NAME = OLD.TRIGGER_NAME AND TRIGGER_GROUP = OLD.TRIGGER_GROUP;
            DELETE FROM QRTZ_BLOB_TRIGGERS WHERE SCHED_NAME = OLD.SCHED_NAME AND TRIGGER_NAME = OLD.TRIGGER_NAME AND TRIGGER_GROUP = OLD.TRIGGER_GROUP;
        END;

        CREATE TABLE IF NOT EXISTS QRTZ_CALENDARS (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            CALENDAR_NAME NVARCHAR(200) NOT NULL,
            CALENDAR BLOB NOT NULL,
            PRIMARY KEY (SCHED_NAME, CALENDAR_NAME));

        CREATE TABLE IF NOT EXISTS QRTZ_PAUSED_TRIGGER_GRPS (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            TRIGGER_GROUP NVARCHAR(150) NOT NULL,
            PAUSE_REASON NVARCHAR(250) NULL,
            PAUSED_BY NVARCHAR(200) NULL,
            PAUSED_AT BIGINT NULL,
            PRIMARY KEY (SCHED_NAME, TRIGGER_GROUP));

        CREATE TABLE IF NOT EXISTS QRTZ_PAUSED_JOB_GRPS (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            JOB_GROUP NVARCHAR(150) NOT NULL,
            PAUSE_REASON NVARCHAR(250) NULL,
            PAUSED_BY NVARCHAR(200) NULL,
            PAUSED_AT BIGINT NULL,
            PRIMARY KEY (SCHED_NAME, JOB_GROUP));

        CREATE TABLE IF NOT EXISTS QRTZ_FIRED_TRIGGERS (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            ENTRY_ID NVARCHAR(140) NOT NULL,
            TRIGGER_NAME NVARCHAR(150) NOT NULL,
            TRIGGER_GROUP NVARCHAR(150) NOT NULL,
            INSTANCE_NAME NVARCHAR(200) NOT NULL,
            FIRED_TIME BIGINT NOT NULL,
            SCHED_TIME BIGINT NOT NULL,
            PRIORITY INTEGER NOT NULL,
            STATE NVARCHAR(16) NOT NULL,
            JOB_NAME NVARCHAR(150) NULL,
            JOB_GROUP NVARCHAR(150) NULL,
            IS_NONCONCURRENT BIT NULL,
            REQUESTS_RECOVERY BIT NULL,
            EXECUTION_GROUP NVARCHAR(200) NULL,
            PROGRESS INTEGER NULL,
            PROGRESS_MESSAGE NVARCHAR(250) NULL,
            INTERRUPT_REQUESTED_TIME BIGINT NULL,
            PRIMARY KEY (SCHED_NAME, ENTRY_ID));

        CREATE TABLE IF NOT EXISTS QRTZ_SCHEDULER_STATE (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            INSTANCE_NAME NVARCHAR(200) NOT NULL,
            LAST_CHECKIN_TIME BIGINT NOT NULL,
            CHECKIN_INTERVAL BIGINT NOT NULL,
            QUARTZ_VERSION NVARCHAR(40) NULL,
            PRIMARY KEY (SCHED_NAME, INSTANCE_NAME));

        CREATE TABLE IF NOT EXISTS QRTZ_LOCKS (
            SCHED_NAME NVARCHAR(120) NOT NULL,
            LOCK_NAME NVARCHAR(40) NOT NULL,
            PRIMARY KEY (SCHED_NAME, LOCK_NAME));
        """;

    /// <summary>The indexes the store's queries use (after the column check: an index on a missing column would fail less clearly).</summary>
    public const string Indexes = """
        CREATE INDEX IF NOT EXISTS IDX_QRTZ_J_G_N ON QRTZ_JOB_DETAILS (SCHED_NAME, JOB_GROUP, JOB_NAME);
        CREATE INDEX IF NOT EXISTS IDX_QRTZ_T_J ON QRTZ_TRIGGERS (SCHED_NAME, JOB_NAME, JOB_GROUP);
        CREATE INDEX IF NOT EXISTS IDX_QRTZ_T_G_N ON QRTZ_TRIGGERS (SCHED_NAME, TRIGGER_GROUP, TRIGGER_NAME);
        CREATE INDEX IF NOT EXISTS IDX_QRTZ_T_C ON QRTZ_TRIGGERS (SCHED_NAME, CALENDAR_NAME);
        CREATE INDEX IF NOT EXISTS IDX_QRTZ_T_NFT_ST ON QRTZ_TRIGGERS (SCHED_NAME, TRIGGER_STATE, NEXT_FIRE_TIME ASC, PRIORITY DESC, MISFIRE_INSTR);
        CREATE INDEX IF NOT EXISTS IDX_QRTZ_FT_INST_JOB_REQ_RCVRY ON QRTZ_FIRED_TRIGGERS (SCHED_NAME, INSTANCE_NAME, REQUESTS_RECOVERY);
        CREATE INDEX IF NOT EXISTS IDX_QRTZ_FT_J_G ON QRTZ_FIRED_TRIGGERS (SCHED_NAME, JOB_NAME, JOB_GROUP);
        CREATE INDEX IF NOT EXISTS IDX_QRTZ_FT_T_G ON QRTZ_FIRED_TRIGGERS (SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP);
        """;

    /// <summary>The monitor's record of every job run (the analysis result itself goes to the history's analyses table).</summary>
    public const string JobRuns = """
        CREATE TABLE IF NOT EXISTS job_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            job TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'skipped')),
            started_at INTEGER NOT NULL,
            finished_at INTEGER NOT NULL,
            duration_seconds REAL NOT NULL,
            manual INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            detail TEXT,
            triggered_by TEXT);
        CREATE INDEX IF NOT EXISTS ix_job_runs_job_started ON job_runs (job, started_at);
        """;

    /// <summary>Creates the folder, switches the file to WAL (readers never block the writer) and creates the tables.</summary>
    public static async Task EnsureAsync(string connectionString, CancellationToken cancellationToken)
    {
        string? folder = Path.GetDirectoryName(new SqliteConnectionStringBuilder(connectionString).DataSource);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, Tables, cancellationToken).ConfigureAwait(false);
        await CheckColumnsAsync(connection, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, Indexes, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, JobRuns, cancellationToken).ConfigureAwait(false);
        // Who triggered a manual run (issue 14); job_runs tables made before it get the column here.
        await using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT COUNT(*) FROM pragma_table_info('job_runs') WHERE name = 'triggered_by';";
        if ((long)(await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 0)
        {
            await ExecuteAsync(connection, "ALTER TABLE job_runs ADD COLUMN triggered_by TEXT;", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// CREATE TABLE IF NOT EXISTS leaves a table that already exists as it is: one made by an older Quartz lacks
    /// columns 4.7 writes. Says which, instead of letting the scheduler fail on its first statement.
    /// </summary>
    private static async Task CheckColumnsAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        foreach (Match table in TableDefinition().Matches(Tables))
        {
            string name = table.Groups["table"].Value;
            var expected = ColumnDefinition().Matches(table.Groups["body"].Value).Select(c => c.Groups["column"].Value)
                .Where(c => c is not ("PRIMARY" or "FOREIGN")).ToList();
            var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT name FROM pragma_table_info('{name}');";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                present.Add(reader.GetString(0));
            }

            missing.AddRange(expected.Where(c => !present.Contains(c)).Select(c => $"{name}.{c}"));
        }

        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The Quartz tables in {connection.DataSource} were made by an older Quartz.NET and lack {string.Join(", ", missing)}: apply Quartz's migration scripts for SQLite (database/migrations in the Quartz.NET repository), or move the file aside to start a new history.");
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    [GeneratedRegex(@"CREATE TABLE IF NOT EXISTS (?<table>QRTZ_\w+) \((?<body>.*?)\);", RegexOptions.Singleline)]
    private static partial Regex TableDefinition();

    [GeneratedRegex(@"^\s+(?<column>[A-Z][A-Z0-9_]*) ", RegexOptions.Multiline)]
    private static partial Regex ColumnDefinition();
}

/// <summary>Creates the Quartz tables and job_runs before Quartz's scheduler starts, then loads the last runs.</summary>
internal sealed class JobStoreInitializer(string connectionString, JobRunLog runs) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await QuartzSchema.EnsureAsync(connectionString, cancellationToken).ConfigureAwait(false);
        await runs.LoadAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
