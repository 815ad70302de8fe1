using Prometheus;

namespace TSViz.Monitor.Cluster;

/// <summary>Cluster mode's Prometheus metrics: how this node hands samples to the machines' owners.</summary>
internal sealed class ClusterMetrics(CollectorRegistry registry)
{

    /// <summary>Hand-overs of received samples to their machine's owner, by outcome (delivered; retried: the owner failed or moved, tried again).</summary>
    public Counter Handovers { get; } = Metrics.WithCustomRegistry(registry).CreateCounter("tsviz_cluster_handovers_total",
        "Hand-overs of one machine's samples (those this node received while the previous hand-over was under way) to the machine's owner node, by outcome (delivered; retried: the owner failed or moved and the hand-over was tried again).", "outcome");

    /// <summary>Messages received on a dead node's session this node took over.</summary>
    public Counter TakenOver { get; } = Metrics.WithCustomRegistry(registry).CreateCounter("tsviz_cluster_taken_over_messages_total",
        "Input messages received on the MQTT session of a dead node this node took over (its unacknowledged and queued share of the input).");

    /// <summary>Received messages' samples (staged already) not yet handed to their owner.</summary>
    public Gauge HandoversInFlight { get; } = Metrics.WithCustomRegistry(registry).CreateGauge("tsviz_cluster_handovers_in_flight",
        "Samples of received messages (one machine's of one message each), staged and acknowledged, not yet handed to the machine's owner.");

    /// <summary>Rows written to the staged input (one machine's samples of one message each).</summary>
    public Counter Staged { get; } = Metrics.WithCustomRegistry(registry).CreateCounter("tsviz_cluster_staged_rows_total",
        "Rows this node wrote to the staged input (cluster_input) before acknowledging their messages: one machine's samples of one message each.");

    /// <summary>Staging writes that failed and were tried again.</summary>
    public Counter StagingRetries { get; } = Metrics.WithCustomRegistry(registry).CreateCounter("tsviz_cluster_staging_retries_total",
        "Writes of received samples to the staged input that failed (PostgreSQL unreachable) and were tried again; their messages stay unacknowledged meanwhile.");

    /// <summary>Staged rows deleted unconsumed after their expiry.</summary>
    public Counter StagedExpired { get; } = Metrics.WithCustomRegistry(registry).CreateCounter("tsviz_cluster_staged_expired_rows_total",
        "Staged input rows no owner consumed before their expiry, deleted: their samples were not assembled.");

    /// <summary>Samples an owner got again (a redelivery, a retried hand-over, a staged row read back) and dropped.</summary>
    public Counter DuplicateSamples { get; } = Metrics.WithCustomRegistry(registry).CreateCounter("tsviz_cluster_duplicate_samples_total",
        "Samples a machine's owner on this node received again (a redelivered message, a retried hand-over, a staged row read back after a failover) and dropped as already taken.");
}
