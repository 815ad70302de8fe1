-- The monitor's record of every job run (the analysis result itself goes to the history's analyses table).
-- Times are Unix milliseconds (the history's). Run at every start after the Quartz tables.
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
