-- The monitor's record of every job run, in the cluster's PostgreSQL beside Quartz's tables (which Quartz provisions
-- itself). Times are Unix milliseconds (the history's). Run at every start of every node, under an advisory lock.
CREATE TABLE IF NOT EXISTS job_runs (
    id BIGSERIAL PRIMARY KEY,
    job TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'skipped')),
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    duration_seconds DOUBLE PRECISION NOT NULL,
    manual INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    detail TEXT,
    triggered_by TEXT);
CREATE INDEX IF NOT EXISTS ix_job_runs_job_started ON job_runs (job, started_at);
