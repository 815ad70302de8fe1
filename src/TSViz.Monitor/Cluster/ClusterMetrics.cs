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

    /// <summary>Received messages' samples waiting to be durable at their owner.</summary>
    public Gauge HandoversInFlight { get; } = Metrics.WithCustomRegistry(registry).CreateGauge("tsviz_cluster_handovers_in_flight",
        "Samples of received messages (one machine's of one message each) not yet durable at the machine's owner (their input stays unacknowledged).");
}
