using Prometheus;

namespace TSViz.Monitor.Live;

/// <summary>
/// The live path's Prometheus metrics: ingest, windows, scores, alerts, explanations, broker, history writer and the
/// deployed model (tsviz_ prefix, base units, _total counters, histograms for latencies; the nightly jobs' are JobMetrics).
/// Labels are bounded: machine ids (a plant's machines), channels, layers, reasons and stages; never window ids.
/// </summary>
internal sealed class LiveMetrics
{
    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    public LiveMetrics(CollectorRegistry registry, LiveModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var factory = Metrics.WithCustomRegistry(registry);
        MessagesReceived = factory.CreateCounter("tsviz_messages_received_total", "MQTT input messages received.");
        MessagesRejected = factory.CreateCounter("tsviz_messages_rejected_total", "Input messages refused and sent to the dead-letter topic, by reason.", "reason");
        MessagesRedelivered = factory.CreateCounter("tsviz_messages_redelivered_total", "Input messages the broker delivered again (MQTT DUP flag) after a lost connection.");
        SamplesDropped = factory.CreateCounter("tsviz_samples_dropped_total", "Samples dropped, by reason (out_of_order; redelivered: repeats of samples already assembled).", "reason");
        MessagesDropped = factory.CreateCounter("tsviz_messages_dropped_total", "Input messages dropped before decoding, by reason (ingest_queue_full: QoS 0 input beyond IngestCapacity).", "reason");
        MachineMessagesRejected = factory.CreateCounter("tsviz_machine_messages_rejected_total", "Input messages of a known machine refused (dead-lettered), per machine and reason (e.g. future_timestamp).", "machine", "reason");
        Machines = factory.CreateGauge("tsviz_machines", "Machines the monitor holds state for (bounded by MaxMachines; idle ones are forgotten).");
        MachinesEvicted = factory.CreateCounter("tsviz_machines_evicted_total", "Machines forgotten after MachineIdleSeconds without input (their per-machine series go with them).");
        ExplanationsFailed = factory.CreateCounter("tsviz_explanations_failed_total", "Windows published with their score but without an explanation (reason explanation_failed).");
        HistoryBacklog = factory.CreateGauge("tsviz_history_backlog_batches", "Result batches waiting to be written to the history (their input stays unacknowledged).");
        HistoryWriteFailures = factory.CreateCounter("tsviz_history_write_failures_total", "Failed history write attempts (each is retried; the input stays unacknowledged until it succeeds).");
        WindowResets = factory.CreateCounter("tsviz_window_resets_total", "Machine windows restarted after a gap longer than MaxGapSeconds.");
        MachineResets = factory.CreateCounter("tsviz_machine_resets_total", "Machines whose partial window was discarded because their source said it is gone, by reason (sparkplug_ddeath, sparkplug_ndeath).", "reason");
        InsufficientData = factory.CreateCounter("tsviz_insufficient_data_total", "insufficient_data results published (a gap reset the machine's window), per machine.", "machine");
        WindowsScored = factory.CreateCounter("tsviz_windows_scored_total", "Windows scored and explained, by outcome (anomaly, normal).", "outcome");
        Score = factory.CreateGauge("tsviz_score", "Latest anomaly score per machine (0-1).", "machine");
        AlertOpen = factory.CreateGauge("tsviz_alert_open", "1 while the machine has an open alert.", "machine");
        AlertsOpened = factory.CreateCounter("tsviz_alerts_opened_total", "Alert episodes opened, per machine.", "machine");
        ChannelContribution = factory.CreateGauge("tsviz_channel_contribution_ratio", "Latest share of the input saliency per machine and channel (0-1).", "machine", "channel");
        RobustnessScoreAfter = factory.CreateGauge("tsviz_robustness_score_after_fgsm", "Latest score after one FGSM step at RobustnessEpsilon, per machine.", "machine");
        SmallestFlippingEpsilon = factory.CreateHistogram("tsviz_alert_flip_epsilon", "Smallest eps that flips an alert window's decision (model-input units).", new HistogramConfiguration { Buckets = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5] });
        FaithfulnessMargin = factory.CreateHistogram(
            "tsviz_alert_faithfulness_margin",
            "Faithfulness check of the alert windows the model flags: the mean score after removing as many random cells minus the score after removing the most salient (Monitor:Faithfulness:Fraction); by verdict (passed, failed).",
            new HistogramConfiguration { LabelNames = ["verdict"], Buckets = [-0.5, -0.1, 0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9] });
        StageDuration = factory.CreateHistogram("tsviz_stage_duration_seconds", "Time per batch in each stage (score, explain, publish).", new HistogramConfiguration { LabelNames = ["stage"], Buckets = LatencyBuckets });
        EndToEnd = factory.CreateHistogram("tsviz_end_to_end_latency_seconds", "From the sample that completed a window being received to its explanation published.", new HistogramConfiguration { Buckets = LatencyBuckets });
        BatchSize = factory.CreateHistogram("tsviz_batch_windows", "Windows per micro-batch.", new HistogramConfiguration { Buckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
        InputUnacknowledged = factory.CreateGauge("tsviz_input_unacknowledged_messages", "Input messages received and not yet acknowledged (bounded by Mqtt:ReceiveMaximum on brokers that honour it).");
        HistoryWindows = factory.CreateCounter("tsviz_history_windows_total", "Window records written to the history, by outcome (stored, duplicate: a redelivery already stored, failed).", "outcome");
        WindowsRepeated = factory.CreateCounter("tsviz_windows_repeated_total", "Windows skipped because their results are already in the history (input redelivered after a restart).");
        QueueDepth = factory.CreateGauge("tsviz_queue_depth_windows", "Windows waiting to be scored.");
        BrokerConnected = factory.CreateGauge("tsviz_broker_connected", "1 while connected to the MQTT broker.");
        BrokerDropped = factory.CreateCounter("tsviz_embedded_broker_dropped_messages_total", "Messages the embedded broker dropped because a subscriber's queue was full (Mqtt:EmbeddedQueueLimit).");
        Reconnects = factory.CreateCounter("tsviz_broker_reconnects_total", "Reconnections to the MQTT broker.");
        SubscriptionsRefused = factory.CreateCounter("tsviz_broker_subscriptions_refused_total", "Subscriptions the MQTT broker refused the monitor, by SUBACK reason (not_authorized, shared_subscriptions_not_supported, ...); the connection is dropped and retried.", "reason");
        BrokerRefused = factory.CreateCounter("tsviz_broker_refused_total", "What the embedded broker refused, by action (connect, publish, subscribe) and reason (connect: anonymous, bad_credentials, reserved_client_id; publish and subscribe: the client's role).", "action", "reason");
        DriftDivergence = factory.CreateGauge("tsviz_drift_divergence", "Drift per machine and kind (input, score, explanation): the largest Jensen-Shannon divergence (bits, 0-1) of the last Drift:RollingWindows normal windows from the machine's reference.", "machine", "kind");
        DriftThreshold = factory.CreateGauge("tsviz_drift_threshold", "The reference's null level per machine and kind (bits): the largest divergence of a rolling block of the reference from the rest, times Drift:Margin.", "machine", "kind");
        DriftCusum = factory.CreateGauge("tsviz_drift_cusum", "The CUSUM of divergence / threshold - 1 per machine and kind; drift at Drift:CusumLimit.", "machine", "kind");
        DriftState = factory.CreateGauge("tsviz_drift_state", "1 while the machine drifts in that kind (input, score, explanation), 0 otherwise.", "machine", "kind");
        DriftWindows = factory.CreateCounter("tsviz_drift_windows_total", "Windows seen by drift detection, by outcome (compared, warming, no_reference, in_alert: not compared, unexplained: not compared).", "outcome");
        DriftReferences = factory.CreateGauge("tsviz_drift_references", "Machines with a drift reference for the deployed model version.");
        ModelInfo = factory.CreateGauge("tsviz_model_info", "The deployed model (value 1).", "name", "version", "channels", "window_length");
        ModelThreshold = factory.CreateGauge("tsviz_model_threshold", "The deployed model's decision threshold on tsviz_score (0-1); an alert opens at or above it.");

        // The model is a singleton loaded before the metrics, so its static facts are exported from the first scrape on.
        ModelInfo.WithLabels(model.Metadata.Name, model.Metadata.Version, string.Join(',', model.Metadata.Channels), model.Metadata.WindowLength.ToString(System.Globalization.CultureInfo.InvariantCulture)).Set(1);
        ModelThreshold.Set(model.Threshold);
    }

    public Counter MessagesReceived { get; }
    public Counter MessagesRejected { get; }
    public Counter MessagesRedelivered { get; }
    public Counter SamplesDropped { get; }
    public Counter MessagesDropped { get; }
    public Counter MachineMessagesRejected { get; }
    public Gauge Machines { get; }
    public Counter MachinesEvicted { get; }
    public Counter ExplanationsFailed { get; }
    public Gauge HistoryBacklog { get; }
    public Counter HistoryWriteFailures { get; }
    public Counter InsufficientData { get; }
    public Counter WindowResets { get; }

    public Counter MachineResets { get; }
    public Counter WindowsScored { get; }
    public Gauge Score { get; }
    public Gauge AlertOpen { get; }
    public Counter AlertsOpened { get; }
    public Gauge ChannelContribution { get; }
    public Gauge RobustnessScoreAfter { get; }
    public Histogram SmallestFlippingEpsilon { get; }
    public Histogram FaithfulnessMargin { get; }
    public Histogram StageDuration { get; }
    public Histogram EndToEnd { get; }
    public Histogram BatchSize { get; }
    public Gauge QueueDepth { get; }
    public Counter HistoryWindows { get; }
    public Counter WindowsRepeated { get; }
    public Gauge InputUnacknowledged { get; }
    public Gauge BrokerConnected { get; }
    public Counter Reconnects { get; }

    public Counter BrokerRefused { get; }
    public Counter SubscriptionsRefused { get; }
    public Counter BrokerDropped { get; }
    public Gauge DriftDivergence { get; }

    public Gauge DriftThreshold { get; }

    public Gauge DriftCusum { get; }

    public Gauge DriftState { get; }

    public Counter DriftWindows { get; }

    public Gauge DriftReferences { get; }

    public Gauge ModelInfo { get; }
    public Gauge ModelThreshold { get; }

    /// <summary>Removes every series labelled with <paramref name="machine"/> (an evicted machine), so series stay bounded.</summary>
    public void ForgetMachine(string machine)
    {
        bool Of(string[] labels) => labels[0] == machine;
        RemoveMatching(Score, Of);
        RemoveMatching(AlertOpen, Of);
        RemoveMatching(RobustnessScoreAfter, Of);
        RemoveMatching(ChannelContribution, Of);
        RemoveMatching(AlertsOpened, Of);
        RemoveMatching(InsufficientData, Of);
        RemoveMatching(MachineMessagesRejected, Of);
        RemoveMatching(DriftDivergence, Of);
        RemoveMatching(DriftThreshold, Of);
        RemoveMatching(DriftCusum, Of);
        RemoveMatching(DriftState, Of);
    }

    private static void RemoveMatching<TChild>(Collector<TChild> collector, Func<string[], bool> match)
        where TChild : ChildBase
    {
        foreach (var labels in collector.GetAllLabelValues().Where(match).ToList())
        {
            collector.RemoveLabelled(labels);
        }
    }
}
