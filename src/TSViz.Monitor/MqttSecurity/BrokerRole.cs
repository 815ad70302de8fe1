namespace TSViz.Monitor.MqttSecurity;

/// <summary>What a client of the embedded broker may do (docs/mqtt.md, "MQTT security").</summary>
internal enum BrokerRole
{
    /// <summary>No credentials: only in the demo (loopback, no users); telemetry in, anything out, never the monitor's topics.</summary>
    Anonymous,

    /// <summary>Publishes telemetry on Mqtt:TopicPattern only; subscribes to nothing.</summary>
    Gateway,

    /// <summary>Subscribes under Mqtt:OutputPrefix only; publishes nothing.</summary>
    Viewer,

    /// <summary>The monitor itself (in-process secret): publishes under Mqtt:OutputPrefix, subscribes to the telemetry.</summary>
    Monitor,
}
