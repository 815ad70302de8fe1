using System.Net;
using Microsoft.Extensions.Options;
using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Live;

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

    /// <summary>Score and explain every batch size once at start-up, before connecting (see <see cref="LiveModel.WarmUp"/>).</summary>
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
    /// The explanation methods the live path runs, by name (see <see cref="LiveExplanationSet"/>): saliency, influence,
    /// fgsm (every window), flip-search and filter-saliency (windows of an open alert). Unset: all five.
    /// </summary>
    public string[]? Explanations { get; set; }

    /// <summary>Most influential filters listed per layer in every explanation.</summary>
    public int TopFilters { get; set; } = 3;

    /// <summary>Budget of the live FGSM robustness score on every window (model-input units).</summary>
    public double RobustnessEpsilon { get; set; } = 0.1;

    /// <summary>Largest eps the smallest-flipping-eps search tries on windows of an open alert.</summary>
    public double AlertEpsilonMax { get; set; } = 0.5;

    public SimulatorSettings Simulator { get; set; } = new();

    public HistorySettings History { get; set; } = new();

    public JobSettings Jobs { get; set; } = new();

    public HealthSettings Health { get; set; } = new();

    public InteractiveSettings Interactive { get; set; } = new();

    /// <summary>Who may use the HTTP endpoints (validated by <see cref="TSViz.Monitor.Security.SecurityOptionsValidator"/>).</summary>
    public TSViz.Monitor.Security.SecuritySettings Security { get; set; } = new();
}

/// <summary>Liveness of the live path's stages and bounded shutdown.</summary>
public sealed class HealthSettings
{
    /// <summary>A stage with input waiting and no progress for this long is stalled: /health answers 503.</summary>
    public double StallSeconds { get; set; } = 30;

    /// <summary>A stage faulted, or stalled this long, stops the monitor with exit code 70 (its supervisor restarts it).</summary>
    public double ExitAfterStallSeconds { get; set; } = 120;

    /// <summary>Longest shutdown: draining stops after this, and a stage that still holds the process is abandoned.</summary>
    public double ShutdownGraceSeconds { get; set; } = 30;

    /// <summary>
    /// Every this many seconds the C allocator returns the native memory it holds freed to the system (glibc
    /// <c>malloc_trim</c>); without it resident memory creeps up under the live path's churn of tensor buffers. 0: never.
    /// </summary>
    public double NativeHeapTrimSeconds { get; set; } = 60;

    /// <summary>
    /// The C allocator `run` serves native memory from (see <see cref="Live.NativeAllocator"/>): <c>auto</c> (jemalloc
    /// when installed, else glibc), <c>jemalloc</c> (start-up fails without it) or <c>glibc</c>.
    /// </summary>
    public string NativeAllocator { get; set; } = Live.NativeAllocator.Auto;

    /// <summary>
    /// Most arenas of the C allocator (glibc's default: 8 per core, each holding its own freed memory; jemalloc's: 4
    /// per core), set by `run` through MALLOC_CONF or GLIBC_TUNABLES (see <see cref="Live.NativeAllocator"/>). 0: the
    /// allocator's default.
    /// </summary>
    public int NativeHeapArenas { get; set; } = 2;

    /// <summary>Native blocks of this many KiB and more are mmapped, so freed tensor buffers return to the system. 0: glibc's default (dynamic).</summary>
    public int NativeHeapMmapThresholdKiB { get; set; } = 1024;
}

/// <summary>The explanation history (SQLite file; the Quartz job store lives in the same file).</summary>
public sealed class HistorySettings
{
    public bool Enabled { get; set; } = true;

    /// <summary>The SQLite file (created with its folder; WAL mode).</summary>
    public string Path { get; set; } = "artifacts/data/history.db";

    /// <summary>Share of normal windows whose full explanation and input are kept (alert windows always are).</summary>
    public double FullExplanationSampleRate { get; set; } = 0.01;

    public double RetainWindowsDays { get; set; } = 30;

    public double RetainDetailsDays { get; set; } = 7;

    public double RetainAlertsDays { get; set; } = 365;

    public double RetainAnalysesDays { get; set; } = 90;

    /// <summary>How long a history statement waits for a lock held by another connection before it fails (and is retried).</summary>
    public double BusyTimeoutSeconds { get; set; } = 5;
}

/// <summary>The nightly Quartz jobs.</summary>
public sealed class JobSettings
{
    public bool Enabled { get; set; } = true;

    /// <summary>Quartz cron of the analysis job (filter clusters and pruning candidates); default 02:00 daily.</summary>
    public string AnalysisCron { get; set; } = "0 0 2 * * ?";

    /// <summary>Quartz cron of the retention job; default 02:30 daily.</summary>
    public string RetentionCron { get; set; } = "0 30 2 * * ?";

    /// <summary>The analysis uses the input windows stored in the last this many hours.</summary>
    public double AnalysisHours { get; set; } = 24;

    /// <summary>At most this many stored windows per analysis (newest first).</summary>
    public int AnalysisMaxWindows { get; set; } = 1000;
}

/// <summary>
/// The web view's and API's on-demand explanations (influence, trace, adversarial, inversion): they run on their own
/// single-threaded explainers, at most <see cref="MaxConcurrent"/> at a time, so a burst of requests cannot hold up the live path.
/// </summary>
public sealed class InteractiveSettings
{
    /// <summary>Interactive explanations computed at once (each on its own explainer, one core at most).</summary>
    public int MaxConcurrent { get; set; } = 1;

    /// <summary>Requests that may wait for a turn; beyond them a request is answered 429 with Retry-After.</summary>
    public int MaxQueued { get; set; } = 4;

    /// <summary>Seconds a refused client is told to wait (the Retry-After header of the 429).</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>
    /// Linux nice value (0-19) of the interactive explainers' threads: at 19 they get the processor only when the live
    /// path leaves it idle; 0 runs them at the live path's priority. Elsewhere any value above 0 means the lowest thread priority.
    /// </summary>
    public int Nice { get; set; } = 19;
}

public sealed class MqttSettings
{
    /// <summary>Run an MQTT broker inside the monitor (MQTTnet) on Host:Port; off when pointing at a plant's broker.</summary>
    public bool EmbeddedBroker { get; set; } = true;

    /// <summary>Messages the embedded broker queues per client before it drops the oldest (counted in tsviz_embedded_broker_dropped_messages_total).</summary>
    public int EmbeddedQueueLimit { get; set; } = 100_000;

    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 1883;

    public bool UseTls { get; set; }

    /// <summary>PEM file of the CA that signed the broker's certificate (a plant CA); unset: the system's trust store.</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM client certificate for brokers that require one (mutual TLS), with <see cref="ClientKeyFile"/>.</summary>
    public string? ClientCertFile { get; set; }

    /// <summary>PEM private key of <see cref="ClientCertFile"/>.</summary>
    public string? ClientKeyFile { get; set; }

    /// <summary>Name expected in the broker's certificate when it differs from <see cref="Host"/> (e.g. connecting by address).</summary>
    public string? TlsServerName { get; set; }

    /// <summary>User name at an external broker (the embedded broker's monitor uses an in-process secret instead).</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>
    /// Send <see cref="Username"/>/<see cref="Password"/> without TLS to a broker that is not on loopback. Off: such a
    /// configuration is refused at start, since the password would cross the plant network in clear.
    /// </summary>
    public bool AllowPlainPassword { get; set; }

    /// <summary>
    /// Users of the embedded broker (docs/mqtt.md, "MQTT security"); none: anonymous clients are let in, and only while the
    /// broker is bound to loopback.
    /// </summary>
    public MqttUserSettings[] Users { get; set; } = [];

    public string ClientId { get; set; } = "tsviz-monitor";

    /// <summary>
    /// Input topics: literal levels, placeholders such as {line} and {machine}, or '+' (docs/mqtt.md, "JSON gateways and machine identity").
    /// A machine is every wildcard level, joined with '/', unless <see cref="MachineId"/> says otherwise.
    /// </summary>
    public string TopicPattern { get; set; } = "plant/{line}/{machine}/telemetry";

    /// <summary>
    /// The machine id template: placeholders of <see cref="TopicPattern"/> joined with '/', e.g. "{line}/{machine}";
    /// empty (the default): every wildcard level of the pattern. "{machine}" keeps the ids the monitor wrote before an id took
    /// every wildcard level (docs/mqtt.md, "JSON gateways and machine identity"), at the cost of merging lines whose machines share a name.
    /// </summary>
    public string MachineId { get; set; } = string.Empty;

    /// <summary>
    /// The Unified Namespace mirror: a topic template such as "acme/{line}/{machine}/tsviz/{kind}" on which every
    /// explanation and alert is published as well (<see cref="UnsMirror"/>); empty (the default): off.
    /// </summary>
    public string UnsMirror { get; set; } = string.Empty;

    /// <summary>The parsed <see cref="TopicPattern"/> and <see cref="MachineId"/> (validated at start).</summary>
    public TSViz.Plugins.Ingest.TopicPattern Topics() => TSViz.Plugins.Ingest.TopicPattern.Parse(TopicPattern, MachineId);

    public string OutputPrefix { get; set; } = "tsviz/v1";

    public uint SessionExpirySeconds { get; set; } = 3600;

    /// <summary>
    /// Input messages the broker may have in flight to the monitor unacknowledged (MQTT 5 receive maximum). The monitor
    /// acknowledges only after publishing, so this bounds what it holds; beyond it the broker queues.
    /// </summary>
    public ushort ReceiveMaximum { get; set; } = 1000;

    public int MaxPayloadBytes { get; set; } = 256 * 1024;

    /// <summary>Largest MQTT packet the monitor's client accepts, and the embedded broker takes from a publisher.</summary>
    public int MaxPacketBytes { get; set; } = 512 * 1024;
}

/// <summary>A user of the embedded broker (create one with the <c>mqtt-user create</c> verb).</summary>
public sealed class MqttUserSettings
{
    public string Username { get; set; } = "";

    /// <summary>"gateway" (publishes telemetry on Mqtt:TopicPattern) or "viewer" (subscribes under Mqtt:OutputPrefix).</summary>
    public string Role { get; set; } = "";

    /// <summary>pbkdf2-sha256$iterations$salt$hash (base64), as <c>mqtt-user create</c> prints it; never the password itself.</summary>
    public string PasswordHash { get; set; } = "";
}

public sealed class SimulatorSettings
{
    /// <summary>Publish simulated machines into the broker the monitor uses (the embedded defaults' demo).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Let the simulator publish into an external broker (Mqtt:EmbeddedBroker false); off, it stays quiet there so no
    /// fake telemetry reaches a plant's broker.
    /// </summary>
    public bool PublishToExternalBroker { get; set; }

    public int Machines { get; set; } = 3;

    public double RateHz { get; set; } = 10;

    /// <summary>Mean seconds between injected anomalies per machine (0: none).</summary>
    public double AnomalyEverySeconds { get; set; } = 20;

    public string Line { get; set; } = "line1";

    public int Seed { get; set; } = 1;

    /// <summary>Anomalies on command, "machine:channel@seconds" after start (e.g. "m2:temperature@30").</summary>
    public string[] Inject { get; set; } = [];

    /// <summary>Mean seconds between a machine stopping (0: never); it stays silent for <see cref="StopSeconds"/>.</summary>
    public double StopEverySeconds { get; set; }

    public double StopSeconds { get; set; } = 10;

    /// <summary>A JSON-lines file the injected anomalies are appended to (the ground truth), if set.</summary>
    public string? GroundTruthPath { get; set; }

    /// <summary>Publish as a Sparkplug B edge node ("sim" in <see cref="SparkplugGroup"/>, devices m1..mN) instead of JSON samples.</summary>
    public bool Sparkplug { get; set; }

    /// <summary>The Sparkplug group of the simulated edge node.</summary>
    public string SparkplugGroup { get; set; } = "plant";
}

/// <summary>Section Monitor:Sparkplug.</summary>
public sealed class SparkplugSettings
{
    public SparkplugInputSettings Input { get; set; } = new();

    public SparkplugOutputSettings Output { get; set; } = new();
}

/// <summary>Validates <see cref="MonitorOptions"/> at start; every message names the key and what it accepts.</summary>
internal sealed class MonitorOptionsValidator : IValidateOptions<MonitorOptions>
{
    public ValidateOptionsResult Validate(string? name, MonitorOptions options)
    {
        var failures = new List<string>();
        void Check(bool ok, string key, string rule, object? value)
        {
            if (!ok)
            {
                failures.Add($"{MonitorOptions.Section}:{key} {rule}, got '{value}'");
            }
        }

        Check(!string.IsNullOrWhiteSpace(options.ModelPath), "ModelPath", "must name an ONNX file", options.ModelPath);
        Check(options.Mqtt.Port is > 0 and < 65536, "Mqtt:Port", "must lie in 1..65535", options.Mqtt.Port);
        Check(!string.IsNullOrWhiteSpace(options.Mqtt.Host), "Mqtt:Host", "must be a host name or address", options.Mqtt.Host);
        if (TopicPattern.TryParse(options.Mqtt.TopicPattern, options.Mqtt.MachineId, out string topicProblem) is null)
        {
            string key = topicProblem.StartsWith("the machine id template", StringComparison.Ordinal) ? "Mqtt:MachineId" : "Mqtt:TopicPattern";
            Check(false, key, $"is not usable: the pattern {topicProblem} (e.g. plant/{{line}}/{{machine}}/telemetry)", key == "Mqtt:MachineId" ? options.Mqtt.MachineId : options.Mqtt.TopicPattern);
        }
        else
        {
            _ = UnsMirror.TryCreate(options.Mqtt.UnsMirror, options.Mqtt.Topics(), out string? mirrorProblem);
            Check(mirrorProblem is null, "Mqtt:UnsMirror", $"is not usable: it {mirrorProblem}", options.Mqtt.UnsMirror);
        }

        Check(!string.IsNullOrWhiteSpace(options.Mqtt.OutputPrefix) && !options.Mqtt.OutputPrefix.Contains('+', StringComparison.Ordinal) && !options.Mqtt.OutputPrefix.Contains('#', StringComparison.Ordinal),
            "Mqtt:OutputPrefix", "must be a topic without wildcards", options.Mqtt.OutputPrefix);
        Check(!string.IsNullOrWhiteSpace(options.Mqtt.ClientId), "Mqtt:ClientId", "must not be empty", options.Mqtt.ClientId);
        var sparkplugIn = options.Sparkplug.Input;
        Check(sparkplugIn.GroupIds.Length > 0 && sparkplugIn.GroupIds.All(g => g == "+" || TSViz.Plugins.Sparkplug.SparkplugTopic.IsValidId(g)),
            "Sparkplug:Input:GroupIds", "must list group ids (no '/', '+' or '#' inside) or \"+\" for every group", string.Join(", ", sparkplugIn.GroupIds));
        Check(sparkplugIn.RebirthIntervalSeconds is > 0 and <= 3600, "Sparkplug:Input:RebirthIntervalSeconds", "must lie in (0, 3600]", sparkplugIn.RebirthIntervalSeconds);
        Check(sparkplugIn.MetricNames.Values.All(v => !string.IsNullOrWhiteSpace(v)),
            "Sparkplug:Input:MetricNames", "must map channels to metric names", string.Join(", ", sparkplugIn.MetricNames.Select(p => $"{p.Key}={p.Value}")));
        var mqtt = options.Mqtt;
        Check(!(mqtt.EmbeddedBroker && mqtt.UseTls), "Mqtt:UseTls", "is for an external broker: the embedded broker listens on loopback without TLS (set Mqtt:EmbeddedBroker to false)", mqtt.UseTls);
        foreach (var (key, file) in new[] { ("Mqtt:CaFile", mqtt.CaFile), ("Mqtt:ClientCertFile", mqtt.ClientCertFile), ("Mqtt:ClientKeyFile", mqtt.ClientKeyFile) })
        {
            if (file is not null)
            {
                Check(mqtt.UseTls, key, "needs Mqtt:UseTls true", file);
                Check(File.Exists(file), key, "must name a readable PEM file", file);
            }
        }

        Check((mqtt.ClientCertFile is null) == (mqtt.ClientKeyFile is null), "Mqtt:ClientKeyFile", "and Mqtt:ClientCertFile must be given together", mqtt.ClientKeyFile);
        ValidateSecurity(mqtt, Check);
        Check(mqtt.ReceiveMaximum >= 1, "Mqtt:ReceiveMaximum", "must lie in 1..65535", mqtt.ReceiveMaximum);
        Check(mqtt.EmbeddedQueueLimit >= 100, "Mqtt:EmbeddedQueueLimit", "must be at least 100", mqtt.EmbeddedQueueLimit);
        Check(options.Mqtt.MaxPayloadBytes > 0, "Mqtt:MaxPayloadBytes", "must be positive", options.Mqtt.MaxPayloadBytes);
        Check(TSViz.Monitor.Security.HttpBinding.TryParse(options.HttpUrl, out _), "HttpUrl", "must be an http(s) URL such as http://127.0.0.1:8080", options.HttpUrl);
        Check(options.Hop >= 1, "Hop", "must be at least 1", options.Hop);
        Check(options.MaxGapSeconds > 0, "MaxGapSeconds", "must be positive", options.MaxGapSeconds);
        Check(options.MaxBatch is >= 1 and <= 4096, "MaxBatch", "must lie in 1..4096", options.MaxBatch);
        Check(options.MaxWaitMilliseconds is >= 0 and <= 10_000, "MaxWaitMilliseconds", "must lie in 0..10000", options.MaxWaitMilliseconds);
        Check(options.IngestCapacity >= options.Mqtt.ReceiveMaximum, "IngestCapacity", $"must be at least Mqtt:ReceiveMaximum ({options.Mqtt.ReceiveMaximum})", options.IngestCapacity);
        Check(options.MaxMachines is >= 1 and <= 1_000_000, "MaxMachines", "must lie in 1..1000000", options.MaxMachines);
        Check(options.MachineIdleSeconds > options.MaxGapSeconds, "MachineIdleSeconds", $"must exceed MaxGapSeconds ({options.MaxGapSeconds})", options.MachineIdleSeconds);
        Check(options.MaxFutureSkewSeconds is >= 0 and <= 86_400, "MaxFutureSkewSeconds", "must lie in 0..86400", options.MaxFutureSkewSeconds);
        Check(options.Mqtt.MaxPacketBytes > options.Mqtt.MaxPayloadBytes, "Mqtt:MaxPacketBytes", $"must exceed Mqtt:MaxPayloadBytes ({options.Mqtt.MaxPayloadBytes})", options.Mqtt.MaxPacketBytes);
        Check(options.Health.StallSeconds > 0, "Health:StallSeconds", "must be positive", options.Health.StallSeconds);
        Check(options.Health.ExitAfterStallSeconds >= options.Health.StallSeconds, "Health:ExitAfterStallSeconds", $"must be at least Health:StallSeconds ({options.Health.StallSeconds})", options.Health.ExitAfterStallSeconds);
        Check(options.Health.ShutdownGraceSeconds is > 0 and <= 3600, "Health:ShutdownGraceSeconds", "must lie in (0, 3600]", options.Health.ShutdownGraceSeconds);
        Check(options.Health.NativeHeapTrimSeconds is 0 or (>= 1 and <= 86_400), "Health:NativeHeapTrimSeconds", "must be 0 (never) or lie in 1..86400", options.Health.NativeHeapTrimSeconds);
        Check(Live.NativeAllocator.Choices.Contains(options.Health.NativeAllocator?.Trim().ToLowerInvariant()), "Health:NativeAllocator", $"must be one of {string.Join(", ", Live.NativeAllocator.Choices)}", options.Health.NativeAllocator);
        Check(options.Health.NativeHeapArenas is >= 0 and <= 1024, "Health:NativeHeapArenas", "must lie in 0..1024 (0: the allocator's default)", options.Health.NativeHeapArenas);
        Check(options.Health.NativeHeapMmapThresholdKiB is >= 0 and <= 32 * 1024, "Health:NativeHeapMmapThresholdKiB", "must lie in 0..32768 (0: glibc's default)", options.Health.NativeHeapMmapThresholdKiB);
        Check(options.History.BusyTimeoutSeconds is > 0 and <= 600, "History:BusyTimeoutSeconds", "must lie in (0, 600]", options.History.BusyTimeoutSeconds);
        Check(options.QueueCapacity >= options.MaxBatch, "QueueCapacity", $"must be at least MaxBatch ({options.MaxBatch})", options.QueueCapacity);
        Check(options.AlertCloseAfterWindows >= 1, "AlertCloseAfterWindows", "must be at least 1", options.AlertCloseAfterWindows);
        Check(options.AlertHysteresis is >= 0 and < 1, "AlertHysteresis", "must lie in [0, 1)", options.AlertHysteresis);
        Check(options.TopFilters >= 0, "TopFilters", "must not be negative", options.TopFilters);
        Check(options.RobustnessEpsilon >= 0, "RobustnessEpsilon", "must not be negative", options.RobustnessEpsilon);
        Check(options.AlertEpsilonMax > 0, "AlertEpsilonMax", "must be positive", options.AlertEpsilonMax);
        Check(LiveExplanationSet.TryParse(options.Explanations, out _, out string? explanationsProblem), LiveExplanationSet.Key, explanationsProblem ?? string.Empty,
            string.Join(", ", options.Explanations ?? []));
        Check(options.Simulator.Machines is >= 1 and <= 10_000, "Simulator:Machines", "must lie in 1..10000", options.Simulator.Machines);
        Check(options.Simulator.RateHz is > 0 and <= 10_000, "Simulator:RateHz", "must lie in (0, 10000]", options.Simulator.RateHz);
        Check(options.Simulator.AnomalyEverySeconds >= 0, "Simulator:AnomalyEverySeconds", "must not be negative", options.Simulator.AnomalyEverySeconds);
        Check(options.Simulator.StopEverySeconds >= 0, "Simulator:StopEverySeconds", "must not be negative", options.Simulator.StopEverySeconds);
        Check(!options.History.Enabled || !string.IsNullOrWhiteSpace(options.History.Path), "History:Path", "must name a SQLite file", options.History.Path);
        Check(options.History.FullExplanationSampleRate is >= 0 and <= 1, "History:FullExplanationSampleRate", "must lie in [0, 1]", options.History.FullExplanationSampleRate);
        foreach (var (key, days) in new[] { ("History:RetainWindowsDays", options.History.RetainWindowsDays), ("History:RetainDetailsDays", options.History.RetainDetailsDays), ("History:RetainAlertsDays", options.History.RetainAlertsDays), ("History:RetainAnalysesDays", options.History.RetainAnalysesDays) })
        {
            Check(days > 0, key, "must be positive", days);
        }

        Check(options.Jobs.AnalysisHours > 0, "Jobs:AnalysisHours", "must be positive", options.Jobs.AnalysisHours);
        Check(options.Jobs.AnalysisMaxWindows >= 2, "Jobs:AnalysisMaxWindows", "must be at least 2", options.Jobs.AnalysisMaxWindows);
        foreach (var (key, cron) in new[] { ("Jobs:AnalysisCron", options.Jobs.AnalysisCron), ("Jobs:RetentionCron", options.Jobs.RetentionCron) })
        {
            Check(!options.Jobs.Enabled || Jobs.NightlyJobs.IsValidCron(cron), key, "must be a Quartz cron expression (seconds minutes hours day-of-month month day-of-week [year]), e.g. 0 0 2 * * ?", cron);
        }

        var interactive = options.Interactive;
        Check(interactive.MaxConcurrent is >= 1 and <= 64, "Interactive:MaxConcurrent", "must lie in 1..64", interactive.MaxConcurrent);
        Check(interactive.MaxQueued is >= 0 and <= 10_000, "Interactive:MaxQueued", "must lie in 0..10000", interactive.MaxQueued);
        Check(interactive.RetryAfterSeconds is >= 1 and <= 3600, "Interactive:RetryAfterSeconds", "must lie in 1..3600", interactive.RetryAfterSeconds);
        Check(interactive.Nice is >= 0 and <= 19, "Interactive:Nice", "must lie in 0..19", interactive.Nice);
        Check(!options.Jobs.Enabled || options.History.Enabled, "Jobs:Enabled", "needs History:Enabled (the jobs read and write the history, and Quartz keeps its schedule in the same file); set Monitor:Jobs:Enabled to false", options.Jobs.Enabled);
        foreach (var injection in options.Simulator.Inject)
        {
            Check(SimulatorInjection.TryParse(injection, out _), "Simulator:Inject", "entries must read machine:channel@seconds with channel temperature, torque or pressure", injection);
        }
        Check(!options.Simulator.Sparkplug || TSViz.Plugins.Sparkplug.SparkplugTopic.IsValidId(options.Simulator.SparkplugGroup), "Simulator:SparkplugGroup",
            "must be a Sparkplug id: non-empty, without '+', '/' or '#'", options.Simulator.SparkplugGroup);
        var output = options.Sparkplug.Output;
        if (output.Enabled)
        {
            // The monitor's input would otherwise read its own edge node's births and data as machines.
            Check(!options.Sparkplug.Input.Enabled || !options.Sparkplug.Input.GroupIds.Any(g => g == "+" || g == output.GroupId), "Sparkplug:Input:GroupIds",
                $"must not include \"+\" or Sparkplug:Output:GroupId ({output.GroupId}) when both are enabled: list the plant's groups", string.Join(", ", options.Sparkplug.Input.GroupIds));
            Check(TSViz.Plugins.Sparkplug.SparkplugTopic.IsValidId(output.GroupId), "Sparkplug:Output:GroupId", "must be a Sparkplug id: non-empty, without '+', '/' or '#'", output.GroupId);
            Check(TSViz.Plugins.Sparkplug.SparkplugTopic.IsValidId(output.EdgeNode(options.Mqtt)), string.IsNullOrEmpty(output.EdgeNodeId) ? "Mqtt:ClientId" : "Sparkplug:Output:EdgeNodeId",
                "must be a Sparkplug id to name the edge node: non-empty, without '+', '/' or '#' (set Monitor:Sparkplug:Output:EdgeNodeId)", output.EdgeNode(options.Mqtt));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The MQTT security rules (docs/mqtt.md, "MQTT security").</summary>
    private static void ValidateSecurity(MqttSettings mqtt, Action<bool, string, string, object?> check)
    {
        bool loopback = MqttSecurity.BrokerAccessPolicy.IsLoopback(mqtt.Host);
        if (mqtt.EmbeddedBroker)
        {
            check(loopback || IPAddress.TryParse(mqtt.Host, out _), "Mqtt:Host", "must be an IP address (or localhost) for the embedded broker to bind to", mqtt.Host);
            check(loopback || mqtt.Users.Length > 0, "Mqtt:Users",
                $"must list at least one user when the embedded broker listens beyond loopback (Mqtt:Host {mqtt.Host}): anonymous clients are let in on loopback only; create users with `mqtt-user create`", mqtt.Users.Length);
            check(mqtt.Username is null && mqtt.Password is null, "Mqtt:Username", "and Mqtt:Password are for an external broker: with the embedded broker the monitor authenticates with an in-process secret (set Mqtt:EmbeddedBroker to false)", mqtt.Username);
        }
        else
        {
            check(mqtt.Users.Length == 0, "Mqtt:Users", "configures the embedded broker only: with Mqtt:EmbeddedBroker false create the users on the plant's broker (docs/mqtt.md, \"MQTT security\")", mqtt.Users.Length);
            bool plain = (mqtt.Username is not null || mqtt.Password is not null) && !mqtt.UseTls && !loopback;
            check(!plain || mqtt.AllowPlainPassword, "Mqtt:AllowPlainPassword",
                $"must be true to send Mqtt:Username/Password without TLS to {mqtt.Host} (the password would cross the network in clear); set Mqtt:UseTls true instead", mqtt.AllowPlainPassword);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        string simulator = MqttSecurity.EmbeddedBrokerSecrets.SimulatorUsername(mqtt.ClientId);
        for (int i = 0; i < mqtt.Users.Length; i++)
        {
            var user = mqtt.Users[i] ?? new MqttUserSettings();
            string key = $"Mqtt:Users:{i}";
            check(!string.IsNullOrWhiteSpace(user.Username) && !user.Username.Contains('\0', StringComparison.Ordinal), $"{key}:Username", "must not be empty", user.Username);
            check(user.Username != mqtt.ClientId && user.Username != simulator, $"{key}:Username", $"must differ from Mqtt:ClientId ({mqtt.ClientId}) and {simulator}: those names are the monitor's own", user.Username);
            check(seen.Add(user.Username), $"{key}:Username", "must be unique among Mqtt:Users", user.Username);
            check(MqttSecurity.BrokerAccessPolicy.TryParseRole(user.Role, out _), $"{key}:Role", "must be gateway or viewer", user.Role);
            check(MqttSecurity.PasswordHash.IsWellFormed(user.PasswordHash), $"{key}:PasswordHash",
                $"must read pbkdf2-sha256$<iterations, at least {MqttSecurity.PasswordHash.MinimumIterations}>$<salt base64>$<hash base64>, as `mqtt-user create` prints it", user.PasswordHash.Length > 12 ? user.PasswordHash[..12] + "..." : user.PasswordHash);
        }
    }
}

/// <summary>An anomaly to inject on command.</summary>
public sealed record SimulatorInjection(string Machine, string Channel, double AtSeconds)
{
    public static bool TryParse(string text, out SimulatorInjection? injection)
    {
        injection = null;
        var at = text?.Split('@') ?? [];
        var parts = at.Length == 2 ? at[0].Split(':') : [];
        if (parts.Length != 2 || parts[1] is not ("pressure" or "temperature" or "torque")
            || !double.TryParse(at[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds) || seconds < 0)
        {
            return false;
        }

        injection = new SimulatorInjection(parts[0], parts[1], seconds);
        return true;
    }
}
