-- The Orleans cluster's membership (Cluster/PostgresMembershipTable), in the cluster's PostgreSQL. One version row per
-- cluster id: every change of a member row moves it on in the same transaction (Orleans' optimistic concurrency on the
-- whole table), and each member row carries its own etag. Etags are random, new at every write. Run at every start of
-- every node, under an advisory lock; every statement is guarded, so running it again is harmless.
CREATE TABLE IF NOT EXISTS cluster_membership_version (
    cluster_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    etag TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now());

-- A silo is its address, port and generation (the generation is new at each start, so a restarted node is a new row).
-- suspect_times: a JSON array of {"silo": <SiloAddress parsable string>, "at": <UTC time, ISO 8601>}, or NULL.
CREATE TABLE IF NOT EXISTS cluster_members (
    cluster_id TEXT NOT NULL REFERENCES cluster_membership_version (cluster_id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    port INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    silo_name TEXT NOT NULL,
    host_name TEXT NOT NULL,
    status TEXT NOT NULL,
    proxy_port INTEGER NOT NULL,
    role_name TEXT,
    update_zone INTEGER NOT NULL,
    fault_zone INTEGER NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    i_am_alive_time TIMESTAMPTZ NOT NULL,
    suspect_times JSONB,
    etag TEXT NOT NULL,
    PRIMARY KEY (cluster_id, address, port, generation));
