-- The dead nodes whose MQTT session a survivor has taken over (SessionTakeover), by cluster and silo address: until a
-- dead node is here, every node holds its machines' samples back (InputHold), so the dead node's unacknowledged input,
-- redelivered through the takeover, is assembled in timestamp order with the rest. Created at start under an advisory lock.
CREATE TABLE IF NOT EXISTS cluster_takeovers (
    cluster_id text COLLATE "C" NOT NULL,
    silo text COLLATE "C" NOT NULL,
    node text NOT NULL,
    messages integer NOT NULL,
    done_at bigint NOT NULL,
    PRIMARY KEY (cluster_id, silo));
