-- Cluster mode's own tables, beside the history. Created at start under an advisory lock (InputHold); every statement
-- is guarded, so a restart keeps the rows.
--
-- The dead nodes whose MQTT session a survivor has taken over (SessionTakeover), by cluster and silo address: until a
-- dead node is here, the machines' owners release nothing (InputHold), so the dead node's input, staged by the
-- survivor that takes its session over, is assembled in timestamp order with the rest.
CREATE TABLE IF NOT EXISTS cluster_takeovers (
    cluster_id text COLLATE "C" NOT NULL,
    silo text COLLATE "C" NOT NULL,
    node text NOT NULL,
    messages integer NOT NULL,
    done_at bigint NOT NULL,
    PRIMARY KEY (cluster_id, silo));
-- Received samples not yet consumed by their machine's owner (StagedInput): a node writes here what it received before
-- it acknowledges the message to the broker, so the broker's copy can go at once. A machine's owner reads its rows
-- when it activates (the previous owner died with samples it had not made durable) and after a dead node's takeover
-- (samples the dead node staged but had not handed over). Rows whose samples are all older than the machine's
-- checkpoint (machine_checkpoints, written with its windows) are consumed and deleted. Times: ticks are UTC .NET ticks
-- (100 ns), last_ms Unix milliseconds of the last sample, as the history's times.
CREATE TABLE IF NOT EXISTS cluster_input (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cluster_id text COLLATE "C" NOT NULL,
    machine text COLLATE "C" NOT NULL,
    topic text NOT NULL,
    last_ticks bigint NOT NULL,
    last_ms bigint NOT NULL,
    ticks bigint[] NOT NULL,
    vals real[] NOT NULL,
    channels integer NOT NULL,
    node text NOT NULL,
    received_at bigint NOT NULL);
CREATE INDEX IF NOT EXISTS ix_cluster_input_machine ON cluster_input (cluster_id, machine, last_ticks);
CREATE INDEX IF NOT EXISTS ix_cluster_input_received ON cluster_input (received_at);
