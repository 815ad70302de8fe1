using System.Net;

namespace TSViz.Monitor.Settings;

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
    /// explanation and alert is published as well (Live/UnsMirror.cs; validated by the live path); empty (the default): off.
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

    /// <summary>Section Monitor:Mqtt's rules: topics, TLS files, sizes and the MQTT security rules (docs/mqtt.md, "MQTT security").</summary>
    internal void Validate(OptionFailures failures)
    {
        failures.Check(Port is > 0 and < 65536, "Mqtt:Port", "must lie in 1..65535", Port);
        failures.Check(!string.IsNullOrWhiteSpace(Host), "Mqtt:Host", "must be a host name or address", Host);
        if (TSViz.Plugins.Ingest.TopicPattern.TryParse(TopicPattern, MachineId, out string topicProblem) is null)
        {
            string key = topicProblem.StartsWith("the machine id template", StringComparison.Ordinal) ? "Mqtt:MachineId" : "Mqtt:TopicPattern";
            failures.Check(false, key, $"is not usable: the pattern {topicProblem} (e.g. plant/{{line}}/{{machine}}/telemetry)", key == "Mqtt:MachineId" ? MachineId : TopicPattern);
        }

        failures.Check(!string.IsNullOrWhiteSpace(OutputPrefix) && !OutputPrefix.Contains('+', StringComparison.Ordinal) && !OutputPrefix.Contains('#', StringComparison.Ordinal),
            "Mqtt:OutputPrefix", "must be a topic without wildcards", OutputPrefix);
        failures.Check(!string.IsNullOrWhiteSpace(ClientId), "Mqtt:ClientId", "must not be empty", ClientId);
        failures.Check(!(EmbeddedBroker && UseTls), "Mqtt:UseTls", "is for an external broker: the embedded broker listens on loopback without TLS (set Mqtt:EmbeddedBroker to false)", UseTls);
        foreach (var (key, file) in new[] { ("Mqtt:CaFile", CaFile), ("Mqtt:ClientCertFile", ClientCertFile), ("Mqtt:ClientKeyFile", ClientKeyFile) })
        {
            if (file is not null)
            {
                failures.Check(UseTls, key, "needs Mqtt:UseTls true", file);
                failures.Check(File.Exists(file), key, "must name a readable PEM file", file);
            }
        }

        failures.Check((ClientCertFile is null) == (ClientKeyFile is null), "Mqtt:ClientKeyFile", "and Mqtt:ClientCertFile must be given together", ClientKeyFile);
        failures.Check(ReceiveMaximum >= 1, "Mqtt:ReceiveMaximum", "must lie in 1..65535", ReceiveMaximum);
        failures.Check(EmbeddedQueueLimit >= 100, "Mqtt:EmbeddedQueueLimit", "must be at least 100", EmbeddedQueueLimit);
        failures.Check(MaxPayloadBytes > 0, "Mqtt:MaxPayloadBytes", "must be positive", MaxPayloadBytes);
        failures.Check(MaxPacketBytes > MaxPayloadBytes, "Mqtt:MaxPacketBytes", $"must exceed Mqtt:MaxPayloadBytes ({MaxPayloadBytes})", MaxPacketBytes);
    }
}
