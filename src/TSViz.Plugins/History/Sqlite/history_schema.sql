-- The explanation history's tables (schema version 3). Run at every start: every statement is guarded
-- (IF NOT EXISTS), so an existing file keeps its rows; columns added since version 1 are added by
-- SqliteHistorySchema's migrations. Times are Unix milliseconds.
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
    has_detail INTEGER NOT NULL DEFAULT 0,
    drift BLOB
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_windows_machine_end ON windows (machine, window_end);
CREATE INDEX IF NOT EXISTS ix_windows_end ON windows (window_end);
-- Scores from HistoryDialect.HighScore up only: a healthy window adds no entry at a random place in it (version 8; the
-- index of every score before it is dropped).
DROP INDEX IF EXISTS ix_windows_score;
CREATE INDEX IF NOT EXISTS ix_windows_high_score ON windows (score) WHERE score >= 0.5;
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
    close_reason TEXT,
    faithfulness_fraction REAL,
    faithfulness_score REAL,
    faithfulness_deletion REAL,
    faithfulness_random REAL,
    faithfulness_verdict TEXT
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
-- Version 5: each alert's counterfactual (what would have made its peak window normal), the monitor's JSON.
CREATE TABLE IF NOT EXISTS counterfactuals (
    alert_id TEXT PRIMARY KEY,
    machine TEXT NOT NULL,
    peak_window_id TEXT NOT NULL,
    computed_at INTEGER NOT NULL,
    found INTEGER NOT NULL,
    document TEXT NOT NULL
);
-- Version 6: each alert's recurring fault pattern, as the nightly analysis assigned it.
CREATE TABLE IF NOT EXISTS alert_patterns (
    alert_id TEXT PRIMARY KEY,
    pattern_id TEXT NOT NULL,
    model_version TEXT NOT NULL,
    computed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_alert_patterns_pattern ON alert_patterns (pattern_id);
CREATE INDEX IF NOT EXISTS ix_alert_patterns_model ON alert_patterns (model_version);
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
-- Version 7: each machine's drift reference profile per model version (the nightly analysis's JSON) and the drift
-- state changes of the live comparison; windows.drift (each window's drift features) is added by a migration.
CREATE TABLE IF NOT EXISTS drift_profiles (
    machine TEXT NOT NULL,
    model_version TEXT NOT NULL,
    built_at INTEGER NOT NULL,
    ref_from INTEGER NOT NULL,
    ref_to INTEGER NOT NULL,
    windows INTEGER NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (machine, model_version)
);
CREATE TABLE IF NOT EXISTS drift_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    machine TEXT NOT NULL,
    model_version TEXT NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    value REAL NOT NULL,
    threshold REAL NOT NULL,
    moved TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_drift_events_machine_at ON drift_events (machine, at);
CREATE INDEX IF NOT EXISTS ix_drift_events_at ON drift_events (at);
