namespace TSViz.Monitor.Settings;

/// <summary>The monitor's settings: section "Monitor" of config/monitor.json, overridable by TSVIZ_Monitor__... variables.</summary>
public sealed class MonitorOptions
{
    public const string Section = "Monitor";

    public string ModelPath { get; set; } = "models/anomaly-cnn.onnx";

    public MqttSettings Mqtt { get; set; } = new();

    /// <summary>Sparkplug B input and output (docs/sparkplug.md).</summary>
    public SparkplugSettings Sparkplug { get; set; } = new();

    public string HttpUrl { get; set; } = "http://127.0.0.1:8080";

    public int Hop { get; set; } = 10;

    public double MaxGapSeconds { get; set; } = 5;

    public int MaxBatch { get; set; } = 256;

    public int MaxWaitMilliseconds { get; set; } = 20;

    /// <summary>Score and explain every batch size once at start-up, before connecting (see Live/LiveModel.cs, WarmUp).</summary>
    public bool WarmUp { get; set; } = true;

    public int QueueCapacity { get; set; } = 20_000;

    /// <summary>Received messages waiting to be decoded (at least Mqtt:ReceiveMaximum; QoS 0 input beyond it is dropped and counted).</summary>
    public int IngestCapacity { get; set; } = 10_000;

    /// <summary>Machines the monitor holds state for; a message naming one more is dead-lettered (too_many_machines).</summary>
    public int MaxMachines { get; set; } = 10_000;

    /// <summary>A machine silent for this long is forgotten: its partial window, alert (closed: machine_idle) and series.</summary>
    public double MachineIdleSeconds { get; set; } = 3600;

    /// <summary>A sample stamped further ahead of the monitor's clock is dead-lettered (future_timestamp).</summary>
    public double MaxFutureSkewSeconds { get; set; } = 5;

    /// <summary>An open alert closes after this many windows below the threshold minus <see cref="AlertHysteresis"/>.</summary>
    public int AlertCloseAfterWindows { get; set; } = 3;

    public double AlertHysteresis { get; set; } = 0.2;

    /// <summary>
    /// The explanation methods the live path runs, by name (see Live/LiveExplanationSet.cs): saliency, influence,
    /// fgsm (every window), flip-search and filter-saliency (windows of an open alert). Unset: all five.
    /// </summary>
    public string[]? Explanations { get; set; }

    /// <summary>
    /// The input attribution behind every window's saliency, channel contributions and top steps: gradient (the
    /// paper's |dy/dx|), gradient-x-input, integrated-gradients, smoothgrad or occlusion (docs/explanations.md,
    /// "Evaluating the explanations", measures each and explains the default: as fast as the gradient, from the same
    /// backward pass, and more faithful on both shipped models).
    /// </summary>
    public string SaliencyMethod { get; set; } = TSViz.Explain.Attribution.AttributionSaliency.GradientTimesInput;

    /// <summary>The deletion check on every window of an open alert that the model flags.</summary>
    public FaithfulnessSettings Faithfulness { get; set; } = new();

    /// <summary>The counterfactual of every alert's peak window ("what would have made it normal").</summary>
    public CounterfactualSettings Counterfactual { get; set; } = new();

    /// <summary>Drift of inputs, scores and reasons against each machine's reference.</summary>
    public DriftSettings Drift { get; set; } = new();

    /// <summary>Most influential filters listed per layer in every explanation.</summary>
    public int TopFilters { get; set; } = 3;

    /// <summary>Budget of the live FGSM robustness score on every window (model-input units).</summary>
    public double RobustnessEpsilon { get; set; } = 0.1;

    /// <summary>Largest eps the smallest-flipping-eps search tries on windows of an open alert.</summary>
    public double AlertEpsilonMax { get; set; } = 0.5;

    public SimulatorSettings Simulator { get; set; } = new();

    public HistorySettings History { get; set; } = new();

    public JobSettings Jobs { get; set; } = new();

    /// <summary>Cluster mode: N monitors on Orleans and PostgreSQL (off: one monitor alone).</summary>
    public ClusterSettings Cluster { get; set; } = new();

    public HealthSettings Health { get; set; } = new();

    public InteractiveSettings Interactive { get; set; } = new();

    /// <summary>Who may use the HTTP endpoints (validated by Security/SecurityOptionsValidator.cs).</summary>
    public SecuritySettings Security { get; set; } = new();

    /// <summary>The top-level rules and those across sections, after each section's own (its class's Validate).</summary>
    internal void Validate(OptionFailures failures)
    {
        failures.Check(!string.IsNullOrWhiteSpace(ModelPath), "ModelPath", "must name an ONNX file", ModelPath);
        Mqtt.Validate(failures);
        Sparkplug.Validate(failures, Mqtt);
        failures.Check(Hop >= 1, "Hop", "must be at least 1", Hop);
        failures.Check(MaxGapSeconds > 0, "MaxGapSeconds", "must be positive", MaxGapSeconds);
        failures.Check(MaxBatch is >= 1 and <= 4096, "MaxBatch", "must lie in 1..4096", MaxBatch);
        failures.Check(MaxWaitMilliseconds is >= 0 and <= 10_000, "MaxWaitMilliseconds", "must lie in 0..10000", MaxWaitMilliseconds);
        failures.Check(IngestCapacity >= Mqtt.ReceiveMaximum, "IngestCapacity", $"must be at least Mqtt:ReceiveMaximum ({Mqtt.ReceiveMaximum})", IngestCapacity);
        failures.Check(MaxMachines is >= 1 and <= 1_000_000, "MaxMachines", "must lie in 1..1000000", MaxMachines);
        failures.Check(MachineIdleSeconds > MaxGapSeconds, "MachineIdleSeconds", $"must exceed MaxGapSeconds ({MaxGapSeconds})", MachineIdleSeconds);
        failures.Check(MaxFutureSkewSeconds is >= 0 and <= 86_400, "MaxFutureSkewSeconds", "must lie in 0..86400", MaxFutureSkewSeconds);
        Health.Validate(failures);
        History.Validate(failures);
        failures.Check(QueueCapacity >= MaxBatch, "QueueCapacity", $"must be at least MaxBatch ({MaxBatch})", QueueCapacity);
        failures.Check(AlertCloseAfterWindows >= 1, "AlertCloseAfterWindows", "must be at least 1", AlertCloseAfterWindows);
        failures.Check(AlertHysteresis is >= 0 and < 1, "AlertHysteresis", "must lie in [0, 1)", AlertHysteresis);
        failures.Check(TopFilters >= 0, "TopFilters", "must not be negative", TopFilters);
        failures.Check(RobustnessEpsilon >= 0, "RobustnessEpsilon", "must not be negative", RobustnessEpsilon);
        failures.Check(AlertEpsilonMax > 0, "AlertEpsilonMax", "must be positive", AlertEpsilonMax);
        failures.Check(TSViz.Explain.Attribution.AttributionSaliency.Methods.Contains(SaliencyMethod), "SaliencyMethod",
            $"must be one of {string.Join(", ", TSViz.Explain.Attribution.AttributionSaliency.Methods)}", SaliencyMethod);
        Faithfulness.Validate(failures);
        Counterfactual.Validate(failures);
        Drift.Validate(failures);
        Simulator.Validate(failures);
        Jobs.Validate(failures);
        Cluster.Validate(failures, this);
        Interactive.Validate(failures);
        failures.Check(!Jobs.Enabled || History.Enabled, "Jobs:Enabled", "needs History:Enabled (the jobs read and write the history, and Quartz keeps its schedule in the same file); set Monitor:Jobs:Enabled to false", Jobs.Enabled);
    }
}
